import type { KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { ClusterChunkerOptions } from '@kvs-streams/chunker'
import { invalidOption, numberOption } from '@kvs-streams/core'
import type { KvsSigner, KvsSignerOptions } from '@kvs-streams/signer'
import type { FragmentTimecodeType } from '@kvs-streams/transport'
import type { Dispatcher } from 'undici'
import { DEFAULT_RETRY, type RetryPolicy } from './backoff.ts'
import type { StoredFragmentLister } from './reconcile.ts'

/** Static credentials or a provider, as `createKvsSigner` and the AWS SDK take them. */
export type ProducerCredentials = KvsSignerOptions['credentials']

/** Reconciliation after a failed session (see `ProducerOptions.reconcile`). */
export interface ReconcileOptions {
  /**
   * When fragments the service acknowledged RECEIVED are not listed yet, list again once after this long, ms
   * (ListFragments is eventually consistent, usually within a second of PERSISTED). Default 1,000.
   */
  settleMs?: number
  /** How to look up stored fragments. Default: ListFragments on the LIST_FRAGMENTS data endpoint. */
  lister?: StoredFragmentLister
}

/** Options of `createProducer`. */
export interface ProducerOptions {
  /** The stream to put media into. */
  streamName: string
  /**
   * AWS region. Default: the signer's, else as the AWS SDK finds it (`AWS_REGION`, `AWS_DEFAULT_REGION`, the
   * profile's `region`; see `resolveAwsSettings` in `@kvs-streams/transport`).
   */
  region?: string
  /** The profile of `~/.aws/config` and `~/.aws/credentials` to read. Default: `AWS_PROFILE`, else `default`. */
  profile?: string
  /**
   * Credentials for signing and the control plane. Default: the signer's, else the AWS SDK's default chain
   * (environment, SSO, shared files, web identity, `credential_process`, container and instance metadata).
   */
  credentials?: ProducerCredentials
  /**
   * Control-plane endpoint override (DescribeStream, GetDataEndpoint), e.g. an emulator's URL. Default:
   * `AWS_ENDPOINT_URL_KINESIS_VIDEO`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else the region's.
   */
  endpoint?: string
  /** Data endpoint for PutMedia and ListFragments; skips GetDataEndpoint. */
  dataEndpoint?: string
  /**
   * A control-plane client for DescribeStream and GetDataEndpoint, e.g. one shared by many producers; by default
   * each producer makes its own from `region`, `credentials` and `endpoint` (and destroys it when done).
   */
  client?: KinesisVideoClient
  /** A signer (`createKvsSigner`); default one is made from `region`, `credentials` and `clock`. */
  signer?: KvsSigner
  /**
   * How the service reads Cluster timecodes. Default `'RELATIVE'`: from `producerStartTimestamp`, right for a
   * live encoder and (with a dated-back start, see `producerStartForFile`) for a file. `'ABSOLUTE'` is for
   * media whose timecodes are wall-clock times: a fragment before 2000 or ahead of the clock fails the producer
   * with `ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE` instead of being stored in 1970.
   */
  fragmentTimecodeType?: FragmentTimecodeType
  /**
   * Producer start time sent with every session, epoch ms (RELATIVE timecodes count from it). Default: now,
   * right for a live source. A recording sent faster than real time needs `await producerStartForFile(bytes)`;
   * a fragment that would land more than `MAX_FUTURE_TIMESTAMP_MS` ahead of the clock fails the producer with
   * `ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE`.
   */
  producerStartTimestamp?: number
  /** Limits of the replay buffer of unacknowledged fragments. */
  replayBuffer?: { maxBytes?: number; maxDurationMs?: number }
  /** When the replay buffer is full: hold the writer back (`'block'`), or drop the oldest fragment. */
  whenFull?: 'block' | 'drop-oldest'
  /**
   * A session fails as stale when data flows and no ack comes for this long, when a fragment written in it
   * waits for its acknowledgement with no response byte for this long (a write never taken, a PERSISTED that
   * never comes), or when a fragment is not RECEIVED this long after it was written, ms. Default 10,000.
   */
  ackStalenessMs?: number
  /** Time allowed to connect, ms. Default: the transport's (5,000). */
  connectTimeoutMs?: number
  /**
   * The most each call made while opening a session may take (DescribeStream, GetDataEndpoint, getting
   * credentials), ms; a call over it fails the attempt, which is retried. Default 10,000 (the AWS producers'
   * service-call timeout). ListFragments calls and the wait for a new session's answer are bounded by
   * `ackStalenessMs` (10,000 when that is 0).
   */
  callTimeoutMs?: number
  /** Sessions are replaced (at a fragment boundary) once this old, ms. Default 40 minutes. */
  maxConnectionDurationMs?: number
  /** Reconnect policy: backoff, and how many consecutive failures without progress end the producer. */
  retry?: Partial<RetryPolicy>
  /**
   * Which ack makes a fragment safe to forget. Default: `PERSISTED` when DescribeStream reports
   * `DataRetentionInHours > 0`, else `RECEIVED`. Giving it skips DescribeStream.
   */
  acknowledgeOn?: 'PERSISTED' | 'RECEIVED'
  /**
   * After a failed session, look up the fragments whose acks were lost before resending them, so none is
   * stored twice. Default on; `false` when ListFragments is not allowed (fragments are then resent: at least
   * once).
   */
  reconcile?: boolean | ReconcileOptions
  /** Follow every fragment with an `AWS_KINESISVIDEO_END_OF_FRAGMENT` tag so it is acknowledged at once. Default true. */
  endOfFragmentTags?: boolean
  /**
   * Copy each written chunk. Without the copy (the default) the producer keeps the chunks you write until their
   * fragments are acknowledged, as the chunker does, so a writer must not reuse a chunk's memory after writing
   * it: file, socket, HTTP and child-process streams never do. Set `true` for a writer that refills one buffer
   * (costs a copy of every byte and more garbage collection). Default false.
   */
  copyInput?: boolean
  /** What to do with fragments the chunker finds the service would reject. Default `'skip'`. */
  onViolation?: 'skip' | 'send' | 'throw'
  /** Chunker limits (see `@kvs-streams/chunker`). */
  chunker?: Omit<ClusterChunkerOptions, 'onViolation' | 'fragmentStart'>
  /** `stats` event period, ms; 0 turns periodic stats off. Default 1,000. */
  statsIntervalMs?: number
  /** Current time, epoch ms: latencies, signing, credential expiry. Default `Date.now`. */
  clock?: () => number
  /** The undici dispatcher for data-plane requests. Default: the transport's shared agent. */
  dispatcher?: Dispatcher
  /** Aborts the producer (like `abort()`). */
  signal?: AbortSignal
}

/** Options after defaults and checks. */
export interface ResolvedProducerOptions {
  streamName: string
  region: string | undefined
  profile: string | undefined
  credentials: ProducerCredentials | undefined
  endpoint: string | undefined
  dataEndpoint: string | undefined
  client: KinesisVideoClient | undefined
  signer: KvsSigner | undefined
  fragmentTimecodeType: FragmentTimecodeType
  producerStartTimestamp: number
  maxBytes: number
  maxDurationMs: number
  whenFull: 'block' | 'drop-oldest'
  ackStalenessMs: number
  connectTimeoutMs: number | undefined
  callTimeoutMs: number
  maxConnectionDurationMs: number
  retry: RetryPolicy
  acknowledgeOn: 'PERSISTED' | 'RECEIVED' | undefined
  reconcile: { settleMs: number; lister: StoredFragmentLister | undefined } | undefined
  endOfFragmentTags: boolean
  copyInput: boolean
  onViolation: 'skip' | 'send' | 'throw'
  chunker: Omit<ClusterChunkerOptions, 'onViolation' | 'fragmentStart'>
  statsIntervalMs: number
  clock: () => number
  dispatcher: Dispatcher | undefined
  signal: AbortSignal | undefined
}

/** Default `replayBuffer.maxBytes`: 64 MiB. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
/** Default `replayBuffer.maxDurationMs`: 2 minutes of media. */
export const DEFAULT_MAX_DURATION_MS = 120_000
/** Default `ackStalenessMs`: 10 s (producer-c uses 5 s, the C++ SDK documents 30 s). */
export const DEFAULT_ACK_STALENESS_MS = 10_000
/** Default `maxConnectionDurationMs`: 40 minutes, under the service's 45-minute cap (ErrorId 4003). */
export const DEFAULT_MAX_CONNECTION_DURATION_MS = 40 * 60_000
/** Default `callTimeoutMs`: PIC's `SERVICE_CALL_DEFAULT_TIMEOUT`. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000
/** Default `reconcile.settleMs`: ListFragments usually lists a fragment within a second of PERSISTED. */
export const DEFAULT_RECONCILE_SETTLE_MS = 1_000
/** Default `statsIntervalMs`. */
export const DEFAULT_STATS_INTERVAL_MS = 1_000

function number(
  name: string,
  value: unknown,
  fallback: number,
  options: { min?: number; positive?: boolean } = {},
): number {
  if (value === undefined) return fallback
  const min = options.min ?? 0
  // Infinity passes (a limit turned off); `finite` refuses it where a time must be finite.
  return options.positive
    ? numberOption(name, value, 'a number > 0', { min, above: 0, infinity: true })
    : numberOption(name, value, `a number >= ${min}`, { min, infinity: true })
}

function finite(name: string, value: unknown, fallback: number, positive = false): number {
  const result = number(name, value, fallback, { positive })
  if (!Number.isFinite(result)) throw invalidOption(name, 'a finite number of milliseconds', value)
  return result
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidOption(name, allowed.map((item) => `'${item}'`).join(' or '), value)
  }
  return value as T
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}

/** Applies the defaults and checks every option; throws `TypeError` on a bad one. */
export function resolveOptions(options: ProducerOptions): ResolvedProducerOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { streamName, signer, dispatcher, signal } = options
  if (typeof streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,256}$/.test(streamName)) {
    throw invalidOption('streamName', 'a stream name (1-256 of a-z, A-Z, 0-9, _ . -)', streamName)
  }
  if (signer !== undefined && (typeof signer !== 'object' || typeof signer?.signPutMedia !== 'function')) {
    throw invalidOption('signer', 'a signer from createKvsSigner()', signer)
  }
  // Without one, the region is resolved as the AWS SDK does (environment, profile) when first needed.
  const region = options.region ?? signer?.region
  if (region !== undefined && (typeof region !== 'string' || region === '')) {
    throw invalidOption('region', 'a region name such as "us-west-2"', region)
  }
  const profile = options.profile
  if (profile !== undefined && (typeof profile !== 'string' || profile === '')) {
    throw invalidOption('profile', 'a profile name', profile)
  }
  for (const name of ['endpoint', 'dataEndpoint'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'string' || !URL.canParse(value))) {
      throw invalidOption(name, 'an http(s) URL', value)
    }
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  if (options.client !== undefined && typeof options.client?.send !== 'function') {
    throw invalidOption('client', 'a KinesisVideoClient', options.client)
  }
  if (dispatcher !== undefined && typeof dispatcher?.dispatch !== 'function') {
    throw invalidOption('dispatcher', 'an undici Dispatcher', dispatcher)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('signal', 'an AbortSignal', signal)
  }
  const replayBuffer = options.replayBuffer ?? {}
  if (typeof replayBuffer !== 'object' || replayBuffer === null) {
    throw invalidOption('replayBuffer', 'an object { maxBytes?, maxDurationMs? }', replayBuffer)
  }
  const retry = options.retry ?? {}
  if (typeof retry !== 'object' || retry === null) {
    throw invalidOption('retry', 'an object { initialDelayMs?, maxDelayMs?, maxAttempts? }', retry)
  }
  const initialDelayMs = finite('retry.initialDelayMs', retry.initialDelayMs, DEFAULT_RETRY.initialDelayMs)
  const maxDelayMs = finite('retry.maxDelayMs', retry.maxDelayMs, DEFAULT_RETRY.maxDelayMs)
  if (maxDelayMs < initialDelayMs) {
    throw invalidOption('retry.maxDelayMs', `at least retry.initialDelayMs (${initialDelayMs})`, maxDelayMs)
  }
  const maxAttempts = numberOption(
    'retry.maxAttempts',
    number('retry.maxAttempts', retry.maxAttempts, DEFAULT_RETRY.maxAttempts, { min: 1 }),
    'an integer >= 1 or Infinity',
    { integer: true, min: 1, infinity: true },
  )
  let reconcile: ResolvedProducerOptions['reconcile']
  const reconcileOption = options.reconcile ?? true
  if (reconcileOption === true) reconcile = { settleMs: DEFAULT_RECONCILE_SETTLE_MS, lister: undefined }
  else if (reconcileOption === false) reconcile = undefined
  else if (typeof reconcileOption === 'object' && reconcileOption !== null) {
    const lister = reconcileOption.lister
    if (lister !== undefined && typeof lister !== 'function') {
      throw invalidOption('reconcile.lister', 'a function (range, signal) => Promise<number[]>', lister)
    }
    reconcile = {
      settleMs: finite('reconcile.settleMs', reconcileOption.settleMs, DEFAULT_RECONCILE_SETTLE_MS),
      lister,
    }
  } else throw invalidOption('reconcile', 'a boolean or { settleMs?, lister? }', reconcileOption)
  const chunker = options.chunker ?? {}
  if (typeof chunker !== 'object' || chunker === null) throw invalidOption('chunker', 'an object', chunker)
  const producerStartTimestamp = finite('producerStartTimestamp', options.producerStartTimestamp, clock())
  return {
    streamName,
    region,
    profile,
    credentials: options.credentials,
    endpoint: options.endpoint,
    dataEndpoint: options.dataEndpoint,
    client: options.client,
    signer,
    fragmentTimecodeType: oneOf(
      'fragmentTimecodeType',
      options.fragmentTimecodeType,
      ['ABSOLUTE', 'RELATIVE'],
      'RELATIVE',
    ),
    producerStartTimestamp,
    maxBytes: number('replayBuffer.maxBytes', replayBuffer.maxBytes, DEFAULT_MAX_BYTES, { positive: true }),
    maxDurationMs: number('replayBuffer.maxDurationMs', replayBuffer.maxDurationMs, DEFAULT_MAX_DURATION_MS, {
      positive: true,
    }),
    whenFull: oneOf('whenFull', options.whenFull, ['block', 'drop-oldest'], 'block'),
    ackStalenessMs: finite('ackStalenessMs', options.ackStalenessMs, DEFAULT_ACK_STALENESS_MS),
    connectTimeoutMs:
      options.connectTimeoutMs === undefined
        ? undefined
        : finite('connectTimeoutMs', options.connectTimeoutMs, 0),
    callTimeoutMs: finite('callTimeoutMs', options.callTimeoutMs, DEFAULT_CALL_TIMEOUT_MS, true),
    maxConnectionDurationMs: finite(
      'maxConnectionDurationMs',
      options.maxConnectionDurationMs,
      DEFAULT_MAX_CONNECTION_DURATION_MS,
      true,
    ),
    retry: { initialDelayMs, maxDelayMs, maxAttempts },
    acknowledgeOn:
      options.acknowledgeOn === undefined
        ? undefined
        : oneOf<'PERSISTED' | 'RECEIVED'>(
            'acknowledgeOn',
            options.acknowledgeOn,
            ['PERSISTED', 'RECEIVED'],
            'PERSISTED',
          ),
    reconcile,
    endOfFragmentTags: boolean('endOfFragmentTags', options.endOfFragmentTags, true),
    copyInput: boolean('copyInput', options.copyInput, false),
    onViolation: oneOf('onViolation', options.onViolation, ['skip', 'send', 'throw'], 'skip'),
    chunker,
    statsIntervalMs: finite('statsIntervalMs', options.statsIntervalMs, DEFAULT_STATS_INTERVAL_MS),
    clock,
    dispatcher,
    signal,
  }
}
