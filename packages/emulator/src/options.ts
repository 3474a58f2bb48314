import { join } from 'node:path'
import { invalidOption, numberOption } from '@kvs-streams/core'
import type { EmulatorLogger } from './logger.ts'

/** Access key pair the emulator accepts signatures from. */
export interface EmulatorCredentials {
  accessKeyId: string
  secretAccessKey: string
}

/** Faults injected into one PutMedia connection, for testing clients' recovery. */
export interface PutMediaFaults {
  /** Destroy the connection (no terminating chunk, no more acks) once this many body bytes have arrived. */
  dropAfterBytes?: number
  /** Destroy the connection right after the RECEIVED ack of the fragment numbered this many in the connection. */
  dropAfterFragments?: number
  /** Once `count` fragments were received, answer the next fragment's start with an ERROR ack `errorId`. */
  errorAfterFragments?: { count: number; errorId: number }
  /** Delay every ack of the connection by this many milliseconds (their order is kept). */
  ackDelayMs?: number
  /**
   * Delay storing each fragment of the connection by this many milliseconds after its RECEIVED ack (a slow
   * disk): the fragment is listed, readable and PERSISTED that much later.
   */
  storeDelayMs?: number
}

/** Faults injected into one GetMedia connection, for testing readers' recovery. */
export interface GetMediaFaults {
  /** Destroy the connection (no terminating chunk) once this many response body bytes were written. */
  dropAfterBytes?: number
  /** Destroy the connection halfway through the bytes of the n-th fragment it writes (1 = the first). */
  dropInFragment?: number
}

/**
 * GetMedia faults for every GetMedia connection, or a function choosing them per connection:
 * `connectionIndex` counts the GetMedia connections of that stream since the emulator started, from 0.
 */
export type GetMediaFaultsOption =
  | GetMediaFaults
  | ((streamName: string, connectionIndex: number) => GetMediaFaults | undefined)

/** PutMedia faults for every PutMedia connection, plus the faults of GetMedia connections. */
export interface EmulatorFaults extends PutMediaFaults {
  /** Faults of GetMedia connections (their own connection count). */
  getMedia?: GetMediaFaultsOption
}

/**
 * Faults for every PutMedia connection (and, with `getMedia`, GetMedia connections), or a function choosing
 * PutMedia faults per connection: `connectionIndex` counts the PutMedia connections of that stream since the
 * emulator started, from 0.
 */
export type FaultsOption =
  | EmulatorFaults
  | ((streamName: string, connectionIndex: number) => PutMediaFaults | undefined)

/** Options of `startEmulator` (the `kvs emulator` flags map onto them). */
export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number
  /** Address to bind. Default `127.0.0.1`. */
  host?: string
  /** Directory for `storage: 'disk'`; created when missing. */
  dataDir?: string
  /** Where streams and fragments live. Default `'disk'` when `dataDir` is given, else `'memory'`. */
  storage?: 'disk' | 'memory'
  /**
   * The most bytes of fragments kept in memory, across all streams: those of memory storage and the host buffer
   * of retention-0 streams. When a stored fragment takes the total over it, the oldest fragments (in the order
   * they were stored) are dropped, as the service drops fragments past a stream's retention period: ListFragments,
   * GetMedia and the archived-media APIs no longer see them. Bounds a long-running in-memory emulator. Default
   * `Infinity` (every fragment is kept until its stream is deleted; retention-0 streams keep 5 minutes or 200 MB).
   */
  maxMemoryBytes?: number
  /** Key pairs accepted in SigV4 signatures. Default one pair: `AKIDKVSEMULATOR` / `kvs-emulator-secret`. */
  credentials?: EmulatorCredentials[]
  /** Check SigV4 signatures. Default true. */
  verifySignatures?: boolean
  /**
   * Largest accepted distance between a request's `x-amz-date` and the emulator's clock. Default 15 minutes
   * (SigV4's usual window; KVS logs show 5 minutes).
   */
  maxClockSkewMs?: number
  /** Region of the endpoint: signatures must be scoped to it, ARNs carry it. Default `us-east-1`. */
  region?: string
  /** Account id in ARNs. Default `000000000000`. */
  accountId?: string
  /** How long a new stream stays `CREATING` before it is `ACTIVE` (PutMedia meanwhile: ERROR 4008). Default 0. */
  streamActivationDelayMs?: number
  /** Interval of `IDLE` acks while a PutMedia body is silent. Default 3000. */
  idleAckIntervalMs?: number
  /**
   * A PutMedia connection without progress for this long is closed (its last complete fragment is stored
   * first), as the service closes a body silent for 30 s. Progress is `minBodyBytes` body bytes. Default 30,000.
   */
  idleTimeoutMs?: number
  /**
   * The body bytes that count as progress for `idleTimeoutMs`: the idle deadline restarts each time this many
   * bytes arrived since it last restarted, so a client trickling a few bytes at a time is closed like a silent
   * one. Default 1024: with the default `idleTimeoutMs`, a floor of about 34 bytes/s, the order of the
   * low-speed limit the KVS C producer itself applies (curl, 30 bytes/s over 30 s). A producer sends frames far
   * above it; IDLE acks still follow any byte.
   */
  minBodyBytes?: number
  /**
   * Longest time a client may take to send a request's head (request line and headers), whatever it trickles;
   * then `408 RequestTimeoutException` and the connection is closed. Default 10,000.
   */
  headersTimeoutMs?: number
  /**
   * Longest time a client may take to send the whole body of a JSON request (control plane, ListFragments,
   * GetMedia, GetMediaForFragmentList) once its head arrived, whatever it trickles; then
   * `408 RequestTimeoutException` and the connection is closed. Not for PutMedia, whose body is a stream
   * (see `idleTimeoutMs`). Default 10,000.
   */
  bodyTimeoutMs?: number
  /** A PutMedia connection this old gets ERROR 4003 and is closed. Default 45 minutes. */
  maxConnectionDurationMs?: number
  /** Longest fragment accepted (ERROR 4002 beyond). Default 10,000. */
  maxFragmentDurationMs?: number
  /** Largest fragment accepted (ERROR 4001 beyond). Default 50,000,000. */
  maxFragmentBytes?: number
  /** How far in the future a producer timestamp may be before ERROR 4007. Default 60,000. */
  futureTimestampToleranceMs?: number
  /** Largest JSON request body accepted (413 beyond). Default 1 MiB. */
  maxJsonBodyBytes?: number
  /**
   * Answer CORS preflights and allow any origin on every response (control and data plane), so a page on
   * another origin can call the emulator with `fetch`. Default false (`kvs emulator` turns it on).
   */
  cors?: boolean
  /**
   * Serve the local console at `/`: a web page listing the streams, each stream's fragment timeline, live
   * and replayed HLS playback (hls.js) and the last PutMedia acks and errors, with the unauthenticated JSON
   * API it calls under `/console/api/`. Default false (`kvs emulator` turns it on).
   */
  console?: boolean
  /** Faults injected into PutMedia and GetMedia connections. Default none. */
  faults?: FaultsOption
  /**
   * A GetMedia response that has sent every stored fragment ends (terminating chunk) when no new fragment is
   * stored for this long, as the service ends a caught-up response after a few seconds: clients that read the
   * payload to its end (boto3 `Payload.read()`, `aws kinesis-video-media get-media`) finish, and followers
   * re-issue GetMedia with the last continuation token. Each stored fragment restarts the wait. Default 3000.
   */
  getMediaIdleTimeoutMs?: number
  /** Receives the emulator's log lines. Default silent. */
  logger?: EmulatorLogger
  /** Current time in epoch milliseconds. Default `Date.now`. */
  clock?: () => number
  /**
   * Serve HTTPS instead of HTTP. With `tlsCert` and `tlsKey`, with that certificate; else with a server
   * certificate for `localhost`, `127.0.0.1`, `::1`, `host` and the host of `publicUrl`, signed by a CA the
   * emulator makes at its first start and keeps in `tlsDir` (clients trust that CA: `AWS_CA_BUNDLE`, an
   * undici `Agent({ connect: { ca } })`, an https agent's `ca`). Default false, true when `tlsCert` is given.
   */
  tls?: boolean
  /** PEM certificate (chain) to serve HTTPS with, instead of a generated one; needs `tlsKey`. */
  tlsCert?: string | Uint8Array
  /** PEM private key of `tlsCert`. */
  tlsKey?: string | Uint8Array
  /**
   * Directory of the generated CA and server certificate (`ca.pem`, `ca-key.pem`, `server.pem`,
   * `server-key.pem`), created when missing. Default `<dataDir>/tls` with disk storage; with memory storage and
   * no `tlsDir`, a new CA is made in memory at each start (`Emulator.caCertificate`).
   */
  tlsDir?: string
  /**
   * The URL clients reach the emulator by, when that is not its own address (behind a proxy, in a container):
   * `scheme://host[:port]`, no path. GetDataEndpoint returns it. Default: the emulator's own scheme, host and
   * port (with `host` a wildcard address, the `Host` the client used).
   */
  publicUrl?: string
}

/** The options with their defaults applied. */
export interface ResolvedOptions {
  port: number
  host: string
  dataDir: string | undefined
  storage: 'disk' | 'memory'
  maxMemoryBytes: number
  credentials: EmulatorCredentials[]
  verifySignatures: boolean
  maxClockSkewMs: number
  region: string
  accountId: string
  streamActivationDelayMs: number
  idleAckIntervalMs: number
  idleTimeoutMs: number
  minBodyBytes: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  maxConnectionDurationMs: number
  maxFragmentDurationMs: number
  maxFragmentBytes: number
  futureTimestampToleranceMs: number
  maxJsonBodyBytes: number
  cors: boolean
  console: boolean
  faults: FaultsOption | undefined
  getMediaIdleTimeoutMs: number
  logger: EmulatorLogger | undefined
  clock: () => number
  /** HTTPS with this certificate and key; `'generate'`: with the emulator's own CA; `undefined`: HTTP. */
  tls: { cert: string | Uint8Array; key: string | Uint8Array } | 'generate' | undefined
  tlsDir: string | undefined
  /** `scheme://host[:port]` of `publicUrl`, without a trailing slash. */
  publicUrl: string | undefined
}

/** The key pair accepted when `credentials` is not given. */
export const DEFAULT_CREDENTIALS: Readonly<EmulatorCredentials> = Object.freeze({
  accessKeyId: 'AKIDKVSEMULATOR',
  secretAccessKey: 'kvs-emulator-secret',
})

function nonNegative(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : numberOption(name, value, 'a finite number >= 0', { min: 0 })
}

function positive(name: string, value: unknown, fallback: number): number {
  const result = nonNegative(name, value, fallback)
  if (result === 0) throw invalidOption(name, 'a finite number > 0', value)
  return result
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  return value === undefined
    ? fallback
    : numberOption(name, value, 'an integer >= 1', { integer: true, min: 1 })
}

function byteBudget(name: string, value: unknown): number {
  if (value === undefined) return Number.POSITIVE_INFINITY
  return numberOption(name, value, 'an integer >= 1 or Infinity', { integer: true, min: 1, infinity: true })
}

function validateGetMediaFaults(name: string, faults: GetMediaFaults): GetMediaFaults {
  if (typeof faults !== 'object' || faults === null)
    throw invalidOption(name, 'an object or a function', faults)
  nonNegative(`${name}.dropAfterBytes`, faults.dropAfterBytes, 0)
  if (faults.dropInFragment !== undefined) {
    numberOption(`${name}.dropInFragment`, faults.dropInFragment, 'an integer >= 1', {
      integer: true,
      min: 1,
    })
  }
  return faults
}

function validateFaults(name: string, faults: EmulatorFaults): EmulatorFaults {
  if (typeof faults !== 'object' || faults === null)
    throw invalidOption(name, 'an object or a function', faults)
  if (faults.getMedia !== undefined && typeof faults.getMedia !== 'function') {
    validateGetMediaFaults(`${name}.getMedia`, faults.getMedia)
  }
  nonNegative(`${name}.dropAfterBytes`, faults.dropAfterBytes, 0)
  nonNegative(`${name}.dropAfterFragments`, faults.dropAfterFragments, 0)
  nonNegative(`${name}.ackDelayMs`, faults.ackDelayMs, 0)
  nonNegative(`${name}.storeDelayMs`, faults.storeDelayMs, 0)
  const error = faults.errorAfterFragments
  if (error !== undefined) {
    if (typeof error !== 'object' || error === null) {
      throw invalidOption(`${name}.errorAfterFragments`, 'an object { count, errorId }', error)
    }
    nonNegative(`${name}.errorAfterFragments.count`, error.count, 0)
    numberOption(`${name}.errorAfterFragments.errorId`, error.errorId, 'an integer ErrorId', {
      integer: true,
    })
  }
  return faults
}

/** Faults for one connection: the option itself, or what its function returns (validated). */
export function faultsFor(
  option: FaultsOption | undefined,
  streamName: string,
  connectionIndex: number,
): PutMediaFaults {
  if (option === undefined) return {}
  if (typeof option !== 'function') return option
  const faults = option(streamName, connectionIndex)
  return faults === undefined ? {} : validateFaults('faults()', faults)
}

/** GetMedia faults for one connection: `faults.getMedia` itself, or what its function returns (validated). */
export function getMediaFaultsFor(
  option: FaultsOption | undefined,
  streamName: string,
  connectionIndex: number,
): GetMediaFaults {
  const getMedia = typeof option === 'object' ? option.getMedia : undefined
  if (getMedia === undefined) return {}
  if (typeof getMedia !== 'function') return getMedia
  const faults = getMedia(streamName, connectionIndex)
  return faults === undefined ? {} : validateGetMediaFaults('faults.getMedia()', faults)
}

/** Applies the defaults and checks every option; throws `TypeError` on a bad one. */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const port = nonNegative('port', options.port, 0)
  if (!Number.isInteger(port) || port > 65535)
    throw invalidOption('port', 'an integer from 0 to 65535', options.port)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw invalidOption('host', 'a non-empty string', options.host)
  const dataDir = options.dataDir
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir === '')) {
    throw invalidOption('dataDir', 'a non-empty path', dataDir)
  }
  const storage = options.storage ?? (dataDir === undefined ? 'memory' : 'disk')
  if (storage !== 'disk' && storage !== 'memory')
    throw invalidOption('storage', "'disk' or 'memory'", storage)
  if (storage === 'disk' && dataDir === undefined)
    throw invalidOption('dataDir', "a path when storage is 'disk'", dataDir)
  const credentials = options.credentials ?? [DEFAULT_CREDENTIALS]
  if (!Array.isArray(credentials) || credentials.length === 0) {
    throw invalidOption('credentials', 'a non-empty array of { accessKeyId, secretAccessKey }', credentials)
  }
  for (const [index, pair] of credentials.entries()) {
    if (typeof pair?.accessKeyId !== 'string' || !/^[A-Za-z0-9]+$/.test(pair.accessKeyId)) {
      throw invalidOption(`credentials[${index}].accessKeyId`, 'letters and digits', pair?.accessKeyId)
    }
    if (typeof pair.secretAccessKey !== 'string' || pair.secretAccessKey === '') {
      throw invalidOption(`credentials[${index}].secretAccessKey`, 'a non-empty string', pair.secretAccessKey)
    }
  }
  const verifySignatures = options.verifySignatures ?? true
  if (typeof verifySignatures !== 'boolean')
    throw invalidOption('verifySignatures', 'a boolean', verifySignatures)
  const region = options.region ?? 'us-east-1'
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) {
    throw invalidOption('region', 'a region name such as "us-east-1"', options.region)
  }
  const accountId = options.accountId ?? '000000000000'
  if (typeof accountId !== 'string' || !/^[0-9]+$/.test(accountId)) {
    throw invalidOption('accountId', 'a string of digits', options.accountId)
  }
  const cors = options.cors ?? false
  if (typeof cors !== 'boolean') throw invalidOption('cors', 'a boolean', cors)
  const consoleOn = options.console ?? false
  if (typeof consoleOn !== 'boolean') throw invalidOption('console', 'a boolean', consoleOn)
  const faults = options.faults
  if (faults !== undefined && typeof faults !== 'function') validateFaults('faults', faults)
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  const tls = resolveTls(options)
  const tlsDir =
    options.tlsDir ?? (storage === 'disk' && dataDir !== undefined ? join(dataDir, 'tls') : undefined)
  if (tlsDir !== undefined && (typeof tlsDir !== 'string' || tlsDir === '')) {
    throw invalidOption('tlsDir', 'a non-empty path', tlsDir)
  }
  const publicUrl = options.publicUrl === undefined ? undefined : resolvePublicUrl(options.publicUrl)
  return {
    port,
    host,
    dataDir,
    storage,
    maxMemoryBytes: byteBudget('maxMemoryBytes', options.maxMemoryBytes),
    credentials: credentials.map((pair) => ({
      accessKeyId: pair.accessKeyId,
      secretAccessKey: pair.secretAccessKey,
    })),
    verifySignatures,
    maxClockSkewMs: nonNegative('maxClockSkewMs', options.maxClockSkewMs, 15 * 60_000),
    region,
    accountId,
    streamActivationDelayMs: nonNegative('streamActivationDelayMs', options.streamActivationDelayMs, 0),
    idleAckIntervalMs: positive('idleAckIntervalMs', options.idleAckIntervalMs, 3000),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, 30_000),
    minBodyBytes: positiveInteger('minBodyBytes', options.minBodyBytes, 1024),
    headersTimeoutMs: positiveInteger('headersTimeoutMs', options.headersTimeoutMs, 10_000),
    bodyTimeoutMs: positive('bodyTimeoutMs', options.bodyTimeoutMs, 10_000),
    maxConnectionDurationMs: positive(
      'maxConnectionDurationMs',
      options.maxConnectionDurationMs,
      45 * 60_000,
    ),
    maxFragmentDurationMs: positive('maxFragmentDurationMs', options.maxFragmentDurationMs, 10_000),
    maxFragmentBytes: positive('maxFragmentBytes', options.maxFragmentBytes, 50_000_000),
    futureTimestampToleranceMs: nonNegative(
      'futureTimestampToleranceMs',
      options.futureTimestampToleranceMs,
      60_000,
    ),
    maxJsonBodyBytes: positive('maxJsonBodyBytes', options.maxJsonBodyBytes, 1024 * 1024),
    cors,
    console: consoleOn,
    faults,
    getMediaIdleTimeoutMs: positive('getMediaIdleTimeoutMs', options.getMediaIdleTimeoutMs, 3000),
    logger: options.logger,
    clock,
    tls,
    tlsDir,
    publicUrl,
  }
}

function isPem(value: unknown): value is string | Uint8Array {
  return (typeof value === 'string' || value instanceof Uint8Array) && value.length > 0
}

function resolveTls(options: EmulatorOptions): ResolvedOptions['tls'] {
  const { tls, tlsCert, tlsKey } = options
  if (tls !== undefined && typeof tls !== 'boolean') throw invalidOption('tls', 'a boolean', tls)
  if (tlsCert !== undefined && !isPem(tlsCert))
    throw invalidOption('tlsCert', 'a PEM string or bytes', tlsCert)
  if (tlsKey !== undefined && !isPem(tlsKey)) throw invalidOption('tlsKey', 'a PEM string or bytes', tlsKey)
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw invalidOption(
      tlsCert === undefined ? 'tlsCert' : 'tlsKey',
      `given with ${tlsCert === undefined ? 'tlsKey' : 'tlsCert'}`,
      undefined,
    )
  }
  if (tlsCert !== undefined && tlsKey !== undefined) {
    if (tls === false) throw invalidOption('tls', 'true or left out when tlsCert is given', tls)
    return { cert: tlsCert, key: tlsKey }
  }
  return tls === true ? 'generate' : undefined
}

/** `scheme://host[:port]` of a public URL; throws `TypeError` for anything else (a path, a query, user info). */
function resolvePublicUrl(value: unknown): string {
  const expected = 'an http:// or https:// URL with no path, such as "https://kvs.example.com:8443"'
  if (typeof value !== 'string') throw invalidOption('publicUrl', expected, value)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidOption('publicUrl', expected, value)
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw invalidOption('publicUrl', expected, value)
  }
  return `${url.protocol}//${url.host}`
}
