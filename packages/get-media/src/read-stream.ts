import { invalidOption, numberOption, renamedOption, settledPush } from '@kvs-streams/core'
// Types only: the signer and the transport are optional peer dependencies, loaded by `readStream` on its first
// read (see network.ts), so that importing this package never loads them.
import type { KvsSigner, KvsSignerOptions } from '@kvs-streams/signer'
import type {
  AwsSettings,
  DataEndpointResolver,
  ErrorDecision,
  GetMediaOptions,
  ResponseBody,
  StartSelector,
  StreamRef,
} from '@kvs-streams/transport'
import { GetMediaParseError, type GetMediaServiceError } from './errors.ts'
import type {
  FragmentEndEvent,
  FrameEvent,
  GetMediaEvent,
  GetMediaServiceErrorEvent,
  MediaFragmentEvent,
  MediaFragmentStartEvent,
} from './events.ts'
import { loadNetwork, type Network } from './network.ts'
import { createGetMediaParser, type GetMediaParserOptions } from './parser.ts'

const brand = Symbol.for('kvs-streams.get-media-read-stream-error')

/** Stable error codes of `readStream`. */
export type ReadStreamErrorCode =
  /**
   * Connections kept failing without delivering anything for `retryForMs` (or `retry.maxAttempts` times in a
   * row, when set): the iteration throws this.
   */
  | 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED'
  /** No byte arrived for `idleTimeoutMs`: the connection was closed and reopened (a `reconnect` event's `cause`). */
  | 'ERR_KVS_GETMEDIA_IDLE_TIMEOUT'
  /**
   * The service ended the GetMedia response in the middle of a fragment, or right after an error chunk that did
   * not say why: reading goes on with a new request (a `reconnect` event's `cause`).
   */
  | 'ERR_KVS_GETMEDIA_ENDED'
  /**
   * The service ended a response that had caught up with the stream (it does so when no new fragment arrives
   * for a few seconds): not a failure. With `follow` (the default) reading goes on with a new request from the
   * last continuation token (a `reconnect` event's `cause`); with `follow: false` the iteration ends.
   */
  | 'ERR_KVS_GETMEDIA_CAUGHT_UP'

/** What a `ReadStreamError` is constructed with. */
export interface ReadStreamErrorOptions {
  cause?: unknown
  /** Consecutive failed connections without progress when the error was raised. */
  failures?: number
  /** Where reading would resume: the continuation token of the last complete fragment, if any. */
  continuationToken?: string | undefined
  /** The fragment number of the last complete fragment delivered, if any. */
  lastFragmentNumber?: string | undefined
  /** How long the failed connections went on, ms: from the start of the first one to the end of the last. */
  retriedForMs?: number
  /** Where a new reader starts to go on from here (what the next request would have asked for). */
  startSelector?: StartSelector | undefined
}

/**
 * Raised by `readStream`: retries exhausted (thrown by the iteration, with the last failure as `cause`), or the
 * reason of a reconnection (the `cause` of a `reconnect` event: idle timeout, response ended).
 */
export class ReadStreamError extends Error {
  override name = 'ReadStreamError'
  readonly code: ReadStreamErrorCode
  /** Consecutive failed connections without progress (the attempts made since something was delivered). */
  readonly failures: number
  /** The continuation token of the last complete fragment delivered: pass it to a new reader to go on. */
  readonly continuationToken: string | undefined
  /** The fragment number of the last complete fragment delivered (`undefined` when none was). */
  readonly lastFragmentNumber: string | undefined
  /** How long the failed connections went on before giving up, ms (0 for the other codes). */
  readonly retriedForMs: number
  /**
   * The `startSelector` for a new reader to go on where this one stopped: the last complete fragment's
   * continuation token, after a fragment that was not found, or the first selector when nothing was delivered.
   */
  readonly startSelector: StartSelector | undefined

  constructor(code: ReadStreamErrorCode, message: string, options: ReadStreamErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause })
    this.code = code
    this.failures = options.failures ?? 0
    this.continuationToken = options.continuationToken
    this.lastFragmentNumber = options.lastFragmentNumber
    this.retriedForMs = options.retriedForMs ?? 0
    this.startSelector = options.startSelector
  }

  get [brand](): ReadStreamErrorCode {
    return this.code
  }

  /** True for any `ReadStreamError`, also across duplicate installs of this package. */
  static is(value: unknown): value is ReadStreamError {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as Record<symbol, unknown>)[brand] === 'string'
    )
  }
}

/** The connection ended and another one is being opened. */
export interface ReconnectEvent {
  type: 'reconnect'
  /**
   * Why: the transport's or the parser's error, an HTTP error the service may recover from (e.g.
   * `ConnectionLimitExceededException`), the `GetMediaServiceError` of an error chunk that ended the response,
   * or a `ReadStreamError` (`ERR_KVS_GETMEDIA_IDLE_TIMEOUT`, `ERR_KVS_GETMEDIA_ENDED`,
   * `ERR_KVS_GETMEDIA_CAUGHT_UP`: the response ended after the last fragment, which is no failure).
   */
  cause: unknown
  /** Consecutive failed connections without progress, this one included (0 when it delivered something). */
  failures: number
  /** How long `readStream` waits before the next request, ms. */
  delayMs: number
  /** Where the next request starts: the last complete fragment's continuation token, else the first selector. */
  startSelector: StartSelector
}

/** Events of `readStream` in frame mode. */
export type ReadStreamFrameEvent =
  | MediaFragmentStartEvent
  | FrameEvent
  | FragmentEndEvent
  | GetMediaServiceErrorEvent
  | ReconnectEvent
/** Events of `readStream` in raw mode. */
export type ReadStreamRawEvent = MediaFragmentEvent | GetMediaServiceErrorEvent | ReconnectEvent
/** Events of `readStream`. */
export type ReadStreamEvent = ReadStreamFrameEvent | ReadStreamRawEvent

interface ReadStreamOwnOptions {
  /** Where the first request starts (`NOW`, `EARLIEST`, `FRAGMENT_NUMBER`, …). */
  startSelector: StartSelector
  /**
   * Signs the requests. Default: one over `region` and `credentials`, what is not given resolved as the AWS SDK
   * does (`resolveAwsSettings` from `@kvs-streams/transport`: environment, profile, default credential chain).
   */
  signer?: KvsSigner
  /** Region for the default signer and endpoint resolver. Default: `AWS_REGION`, else the profile's. */
  region?: string
  /** The profile of `~/.aws/config` and `~/.aws/credentials` to read. Default: `AWS_PROFILE`, else `default`. */
  profile?: string
  /** Credentials for the default signer and endpoint resolver (static, or a provider). Default: the SDK's chain. */
  credentials?: KvsSignerOptions['credentials']
  /**
   * Control-plane endpoint for GetDataEndpoint (e.g. an emulator's URL). Default: `AWS_ENDPOINT_URL_KINESIS_VIDEO`,
   * `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else the region's.
   */
  endpoint?: string
  /** The GET_MEDIA data endpoint, when known: no GetDataEndpoint call is made. */
  dataEndpoint?: string | URL
  /** Resolves (and caches) the GET_MEDIA data endpoint. Default: one over `region`/`credentials`/`endpoint`. */
  resolver?: DataEndpointResolver
  /** undici dispatcher for the GetMedia requests. Default: the transport's shared agent. */
  dispatcher?: GetMediaOptions['dispatcher']
  /** Ends the iteration (it returns, no error) and closes the connection. */
  signal?: AbortSignal
  /**
   * `true` (default): follow the stream, for as long as the caller iterates. When the service ends a response
   * that has caught up with the stream (it does when no new fragment arrives for a few seconds), a new request
   * goes on from the last continuation token: a `reconnect` event with `ERR_KVS_GETMEDIA_CAUGHT_UP`, which is
   * no failure and spends none of `retryForMs`. `false`: the iteration returns there instead, once everything
   * stored from the start selector on was delivered.
   */
  follow?: boolean
  /**
   * How long to keep reconnecting while connections fail, ms: counted from the start of the first connection
   * that failed after the last one that delivered something (or stayed open until `idleTimeoutMs` on a quiet
   * stream). Once it has passed, the next failure ends the iteration with `ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED`;
   * the backoff is shortened so that a last attempt is made when it runs out. Default 60,000.
   */
  retryForMs?: number
  /**
   * The reconnect policy, shaped as the producer's `retry` (the transport's `backoffDelay` and `classifyError`):
   * the delay before reconnecting after the n-th consecutive failure is a random point up to
   * `initialDelayMs × 2^(n−1)`, at most `maxDelayMs` (full jitter), defaults 200 and 5000 ms; `maxAttempts`
   * also gives up after that many connections in a row fail without delivering anything, whichever of this
   * and `retryForMs` comes first (default `Infinity`: no count limit; prefer `retryForMs`).
   */
  retry?: ReadStreamRetryOptions
  /**
   * The former `retry.maxAttempts`. Giving both with different values throws a `TypeError`.
   * @deprecated Use `retry: { maxAttempts }`.
   */
  maxFailures?: number
  /**
   * A connection that receives no byte for this long is closed and reopened (GetMedia otherwise waits
   * forever on a silent connection). An idle timeout after the response started is not a failure: a caught-up
   * reader of a quiet stream reconnects every `idleTimeoutMs`. Default 30,000.
   */
  idleTimeoutMs?: number
  /**
   * The former `retry.initialDelayMs` and `retry.maxDelayMs`. Giving a field both ways with different values
   * throws a `TypeError`.
   * @deprecated Use `retry: { initialDelayMs, maxDelayMs }`.
   */
  backoff?: { initialDelayMs?: number; maxDelayMs?: number }
  /** `'frames'` (default): fragment-start, frame, fragment-end. `'raw'`: one `fragment` event with its bytes. */
  mode?: 'frames' | 'raw'
  /** Limits of the parser (see `createGetMediaParser`). */
  parser?: Omit<GetMediaParserOptions, 'mode'>
  /** Connect timeout of each request, ms (the transport's default otherwise). */
  connectTimeoutMs?: number
  /** Random number in [0, 1) for the backoff jitter. Default `Math.random`. */
  random?: () => number
  /** Milliseconds on a monotonic clock, for `retryForMs`. Default `performance.now`. */
  clock?: () => number
}

/** `readStream`'s reconnect policy (see `ReadStreamOptions.retry`), shaped as the producer's `retry`. */
export interface ReadStreamRetryOptions {
  /** Upper bound of the first reconnection's delay, ms (the delay is a random point below it). Default 200. */
  initialDelayMs?: number
  /** Upper bound of every delay, ms; at least `initialDelayMs`. Default 5,000. */
  maxDelayMs?: number
  /** Connections in a row that fail without delivering anything before giving up. Default `Infinity`. */
  maxAttempts?: number
}

/** Defaults of `ReadStreamOptions.retry`. */
const DEFAULT_RETRY = { initialDelayMs: 200, maxDelayMs: 5000, maxAttempts: Number.POSITIVE_INFINITY }

/** Every `StartSelectorType` GetMedia accepts (the transport's `START_SELECTOR_TYPES`, not loaded before a read). */
export const START_SELECTOR_TYPES: ReadonlySet<string> = new Set<StartSelector['StartSelectorType']>([
  'FRAGMENT_NUMBER',
  'SERVER_TIMESTAMP',
  'PRODUCER_TIMESTAMP',
  'NOW',
  'EARLIEST',
  'CONTINUATION_TOKEN',
])

/** Options of `readStream`: a stream by name or ARN, and how to reach and sign for it. */
export type ReadStreamOptions = ReadStreamOwnOptions &
  ({ streamName: string; streamArn?: undefined } | { streamArn: string; streamName?: undefined })

/** Parser limits of this reader: the same bytes break them again on every connection. */
const LIMIT_ERROR_CODES = new Set([
  'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE',
  'ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE',
  'ERR_KVS_GETMEDIA_TOO_MANY_TAGS',
  'ERR_KVS_GETMEDIA_TAG_TOO_LARGE',
  'ERR_KVS_GETMEDIA_TOO_MANY_TRACKS',
])

/** How many fragment numbers (and error chunks) are remembered to drop repeats after a reconnection. */
const REMEMBERED = 256

function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  return numberOption(name, value, `an integer >= ${min}`, { integer: true, min })
}

/** A renamed option's value, under the name it was given by (for messages); `undefined` when neither was. */
function aliased(
  name: string,
  value: unknown,
  oldName: string,
  oldValue: unknown,
): { name: string; value: unknown } {
  const chosen = renamedOption(name, value, oldName, oldValue)
  return { name: value === undefined && oldValue !== undefined ? oldName : name, value: chosen }
}

/**
 * Reads a stream with GetMedia for as long as the caller iterates, across connection failures: when a
 * connection drops, ends, or stays silent for `idleTimeoutMs`, a new one resumes with the continuation token
 * of the last complete fragment (`CONTINUATION_TOKEN`), so no fragment is skipped or repeated.
 *
 * Frame mode delivers events as they arrive (a frame is not held back until its fragment ends). When a
 * connection drops inside a fragment, the next one sends that fragment again from its start: its
 * `fragment-start` and the frames already delivered are dropped, and the rest follow, so each frame is
 * delivered once. If the service resumes elsewhere (the fragment expired), the open fragment gets a
 * `fragment-end` with `complete: false`. Raw mode delivers whole fragments only, each once. Error chunks are
 * delivered once; after a `4000` (fragment not found) reading resumes after that fragment.
 *
 * The service ends a response that has caught up with the stream when no new fragment arrives for a few
 * seconds. That is no failure: with `follow` (the default) a new request goes on after the last fragment, and
 * with `follow: false` the iteration returns there.
 *
 * Between connections comes a `reconnect` event. Connections that keep failing without delivering anything
 * are retried, with backoff, for `retryForMs` (default 60 s; also at most `retry.maxAttempts` of them, when set);
 * then the iteration throws `ReadStreamError` `ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED`, with the last failure as
 * `cause`, how long it tried, and where a new reader would resume. Whatever the network does (refused,
 * reset or half-closed connections, a response cut short) is retried, and so is an expired token
 * (`ExpiredTokenException`: the next request is signed with credentials read again from the provider); errors
 * no retry can fix (`ResourceNotFoundException`, `NotAuthorizedException`, a bad argument, a limit of the
 * parser) are thrown at once. The transport's `classifyError` decides, as for the producer. `signal` ends the iteration promptly, closing the connection; so does leaving the loop. Offsets in
 * events (`documentOffset`) count from the start of each connection's body.
 *
 * @throws TypeError synchronously on a bad option.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export function readStream(
  options: ReadStreamOptions & { mode: 'raw' },
): AsyncGenerator<ReadStreamRawEvent, void, undefined>
export function readStream(
  options: ReadStreamOptions & { mode?: 'frames' | undefined },
): AsyncGenerator<ReadStreamFrameEvent, void, undefined>
export function readStream(options: ReadStreamOptions): AsyncGenerator<ReadStreamEvent, void, undefined>
export function readStream(options: ReadStreamOptions): AsyncGenerator<ReadStreamEvent, void, undefined> {
  return run(resolveOptions(options))
}

interface ResolvedOptions {
  stream: { streamName: string } | { streamArn: string }
  startSelector: StartSelector
  /** Made on the first read, once the signer and the transport are loaded. */
  connect: (network: Network) => Connection
  dispatcher: GetMediaOptions['dispatcher']
  signal: AbortSignal | undefined
  follow: boolean
  retryForMs: number
  maxAttempts: number
  idleTimeoutMs: number
  initialDelayMs: number
  maxDelayMs: number
  mode: 'frames' | 'raw'
  parser: GetMediaParserOptions
  connectTimeoutMs: number | undefined
  random: () => number
  clock: () => number
}

function resolveOptions(options: ReadStreamOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { streamName, streamArn } = options
  if ((streamName === undefined) === (streamArn === undefined)) {
    throw invalidOption(
      'streamName',
      'a stream name, or absent when streamArn is given (exactly one)',
      streamName,
    )
  }
  const name = streamName ?? streamArn
  if (typeof name !== 'string' || name === '') {
    throw invalidOption(streamName === undefined ? 'streamArn' : 'streamName', 'a non-empty string', name)
  }
  const stream = streamName === undefined ? { streamArn: name } : { streamName: name }
  const selector = options.startSelector
  if (
    typeof selector !== 'object' ||
    selector === null ||
    !START_SELECTOR_TYPES.has(selector.StartSelectorType)
  ) {
    throw invalidOption(
      'startSelector.StartSelectorType',
      [...START_SELECTOR_TYPES].join(' | '),
      (selector as StartSelector | undefined)?.StartSelectorType,
    )
  }
  const { region, credentials } = options
  if (region !== undefined && (typeof region !== 'string' || region === '')) {
    throw invalidOption('region', 'a region name such as "us-west-2"', region)
  }
  const profile = options.profile
  if (profile !== undefined && (typeof profile !== 'string' || profile === '')) {
    throw invalidOption('profile', 'a profile name', profile)
  }
  const givenSigner = options.signer
  if (
    givenSigner !== undefined &&
    (typeof givenSigner !== 'object' || typeof givenSigner.signJson !== 'function')
  ) {
    throw invalidOption('signer', 'a signer from createKvsSigner()', givenSigner)
  }
  const dataEndpoint = options.dataEndpoint
  if (
    dataEndpoint !== undefined &&
    !(dataEndpoint instanceof URL) &&
    (typeof dataEndpoint !== 'string' || !URL.canParse(dataEndpoint))
  ) {
    throw invalidOption('dataEndpoint', 'an http(s) URL', dataEndpoint)
  }
  const givenResolver = options.resolver
  if (
    dataEndpoint === undefined &&
    givenResolver !== undefined &&
    typeof givenResolver?.resolve !== 'function'
  ) {
    throw invalidOption('resolver', 'a resolver from createDataEndpointResolver()', givenResolver)
  }
  const connect = ({ signer: signerModule, transport }: Network): Connection => {
    // What is not given is resolved once, on the first request, as the AWS SDK does; a failure is tried again.
    let settings: Promise<AwsSettings> | undefined
    const getSettings = (): Promise<AwsSettings> => {
      if (settings === undefined) {
        const attempt = transport.resolveAwsSettings({
          region,
          profile,
          credentials,
          endpoint: options.endpoint,
        })
        settings = attempt
        attempt.catch(() => {
          if (settings === attempt) settings = undefined
        })
      }
      return settings
    }
    const signer =
      givenSigner ??
      (region !== undefined && credentials !== undefined
        ? signerModule.createKvsSigner({ region, credentials })
        : transport.createSettingsSigner(getSettings))
    if (dataEndpoint !== undefined) {
      return {
        network: transport,
        signer,
        endpoint: () => Promise.resolve(dataEndpoint),
        invalidateEndpoint: () => {},
      }
    }
    const resolver = givenResolver ?? transport.createDataEndpointResolver({ settings: getSettings })
    const ref: StreamRef = stream
    return {
      network: transport,
      signer,
      endpoint: () => resolver.resolve(ref, 'GET_MEDIA'),
      invalidateEndpoint: () => resolver.invalidate(ref, 'GET_MEDIA'),
    }
  }

  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw invalidOption('signal', 'an AbortSignal', signal)
  const follow = options.follow ?? true
  if (typeof follow !== 'boolean') throw invalidOption('follow', 'a boolean', follow)
  const mode = options.mode ?? 'frames'
  if (mode !== 'frames' && mode !== 'raw') throw invalidOption('mode', "'frames' or 'raw'", mode)
  const retry = options.retry ?? {}
  if (typeof retry !== 'object' || retry === null) {
    throw invalidOption('retry', 'an object { initialDelayMs?, maxDelayMs?, maxAttempts? }', retry)
  }
  const backoff = options.backoff ?? {}
  if (typeof backoff !== 'object' || backoff === null) throw invalidOption('backoff', 'an object', backoff)
  const delayMs = (field: 'initialDelayMs' | 'maxDelayMs'): number => {
    const given = aliased(`retry.${field}`, retry[field], `backoff.${field}`, backoff[field])
    if (given.value === undefined) return DEFAULT_RETRY[field]
    return numberOption(given.name, given.value, 'a finite number >= 0', { min: 0 })
  }
  const initialDelayMs = delayMs('initialDelayMs')
  const maxDelayMs = delayMs('maxDelayMs')
  if (maxDelayMs < initialDelayMs) {
    throw invalidOption('retry.maxDelayMs', `at least retry.initialDelayMs (${initialDelayMs})`, maxDelayMs)
  }
  const attempts = aliased('retry.maxAttempts', retry.maxAttempts, 'maxFailures', options.maxFailures)
  const maxAttempts =
    attempts.value === undefined
      ? DEFAULT_RETRY.maxAttempts
      : numberOption(attempts.name, attempts.value, 'an integer >= 1 or Infinity', {
          integer: true,
          min: 1,
          infinity: true,
        })
  const random = options.random ?? Math.random
  if (typeof random !== 'function') throw invalidOption('random', 'a function returning [0, 1)', random)
  const clock = options.clock ?? (() => performance.now())
  if (typeof clock !== 'function') throw invalidOption('clock', 'a function returning milliseconds', clock)
  return {
    stream,
    startSelector: selector,
    connect,
    dispatcher: options.dispatcher,
    signal,
    follow,
    retryForMs: integerOption('retryForMs', options.retryForMs, 60_000, 0),
    maxAttempts,
    idleTimeoutMs: integerOption('idleTimeoutMs', options.idleTimeoutMs, 30_000, 1),
    initialDelayMs,
    maxDelayMs,
    mode,
    parser: { ...options.parser, mode },
    connectTimeoutMs:
      options.connectTimeoutMs === undefined
        ? undefined
        : integerOption('connectTimeoutMs', options.connectTimeoutMs, 0, 0),
    random,
    clock,
  }
}

/** What a connection needs, made once the signer and the transport are loaded. */
interface Connection {
  network: Network['transport']
  signer: KvsSigner
  endpoint: () => Promise<string | URL>
  invalidateEndpoint: () => void
}

/**
 * A failure a new request may get past: the transport's `classifyError` (one policy with the producer: the
 * network failing, throttling, server faults, an expired token, a moved endpoint), except for the limits of
 * this reader's parser, which the same bytes break again. Whatever the network did (a refused, reset or
 * half-closed connection, a response cut short) is retriable, whatever the outer error.
 */
export function isRetriable(error: unknown, classifyError: (error: unknown) => ErrorDecision): boolean {
  return !isParserLimit(error) && classifyError(error).retriable
}

/** A limit of this reader's parser: the same bytes break it again, whatever `classifyError` says. */
function isParserLimit(error: unknown): boolean {
  return GetMediaParseError.is(error) && LIMIT_ERROR_CODES.has(error.code)
}

/** A set of the last `limit` keys added. */
class RecentSet {
  readonly #keys = new Set<string>()
  readonly #limit: number
  constructor(limit: number) {
    this.#limit = limit
  }
  has(key: string): boolean {
    return this.#keys.has(key)
  }
  add(key: string): void {
    this.#keys.add(key)
    if (this.#keys.size > this.#limit) this.#keys.delete(this.#keys.values().next().value!)
  }
}

/**
 * What was delivered across connections, to deliver everything once: the fragments completed, the fragment
 * open in frame mode (and how many of its frames went out), the error chunks reported, and where to resume.
 */
class Delivery {
  readonly #completed = new RecentSet(REMEMBERED)
  readonly #errors = new RecentSet(REMEMBERED)
  /** Frame mode: the fragment whose fragment-start went out and whose fragment-end did not. */
  #open: { start: MediaFragmentStartEvent; frames: number } | undefined
  /** Frames of the open fragment the current connection sends again (skipped). */
  #skipFrames = 0
  /** The current connection re-sends a fragment already delivered whole: its events are dropped. */
  #skipping = false
  /** Where the next connection starts, once something was delivered. */
  #resume: StartSelector | undefined
  /** The continuation token of the last complete fragment. */
  continuationToken: string | undefined
  /** The fragment number of the last complete fragment, for the message of a reader that gives up. */
  lastFragmentNumber: string | undefined

  /** The selector of the next request. */
  startSelector(initial: StartSelector): StartSelector {
    return this.#resume ?? initial
  }

  /** A new connection starts: per-connection skipping restarts. */
  startConnection(): void {
    this.#skipFrames = 0
    this.#skipping = false
  }

  /** The events to deliver for one parser event. */
  accept(event: GetMediaEvent): ReadStreamEvent[] {
    switch (event.type) {
      case 'service-error':
        return this.#error(event)
      case 'fragment':
        if (event.fragmentNumber !== undefined) {
          if (this.#completed.has(event.fragmentNumber)) return []
          this.#completed.add(event.fragmentNumber)
        }
        this.#complete(event.fragmentNumber, event.continuationToken, event.complete)
        return [event]
      case 'fragment-start':
        return this.#fragmentStart(event)
      case 'frame':
        if (this.#skipping) return []
        if (this.#skipFrames > 0) {
          this.#skipFrames--
          return []
        }
        if (this.#open !== undefined) this.#open.frames++
        return [event]
      case 'fragment-end': {
        if (this.#skipping) {
          this.#skipping = false
          return []
        }
        this.#open = undefined
        if (event.fragmentNumber !== undefined) this.#completed.add(event.fragmentNumber)
        this.#complete(event.fragmentNumber, event.continuationToken, event.complete)
        return [event]
      }
    }
  }

  #fragmentStart(event: MediaFragmentStartEvent): ReadStreamEvent[] {
    const number = event.fragmentNumber
    this.#skipFrames = 0
    this.#skipping = number !== undefined && this.#completed.has(number)
    if (this.#skipping) return []
    const open = this.#open
    if (open !== undefined && number !== undefined && open.start.fragmentNumber === number) {
      // The fragment a dropped connection was inside, sent again from its start.
      this.#skipFrames = open.frames
      return []
    }
    const out: ReadStreamEvent[] = []
    if (open !== undefined) {
      // The service resumed elsewhere: the open fragment will not be completed.
      out.push(this.#abandon(open))
    }
    this.#open = { start: event, frames: 0 }
    out.push(event)
    return out
  }

  #abandon(open: { start: MediaFragmentStartEvent; frames: number }): FragmentEndEvent {
    const number = open.start.fragmentNumber
    if (number !== undefined) this.#completed.add(number)
    return {
      type: 'fragment-end',
      fragmentNumber: number,
      millisBehindNow: undefined,
      continuationToken: undefined,
      tags: {},
      metadata: [],
      byteLength: 0,
      frameCount: open.frames,
      complete: false,
      documentOffset: open.start.documentOffset,
    }
  }

  #complete(fragmentNumber: string | undefined, token: string | undefined, complete: boolean): void {
    if (!complete) return
    if (fragmentNumber !== undefined) this.lastFragmentNumber = fragmentNumber
    if (token === undefined) return
    this.continuationToken = token
    this.#resume = { StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: token }
  }

  #error(event: GetMediaServiceErrorEvent): ReadStreamEvent[] {
    const error: GetMediaServiceError = event.error
    const key = `${error.fragmentNumber}\n${error.errorId}\n${error.errorCode}\n${error.serviceMessage}`
    if (this.#errors.has(key)) return []
    this.#errors.add(key)
    // 4000: the fragment will never be found; go on after it rather than ask for it again.
    if (
      error.errorId === 4000 &&
      error.fragmentNumber !== undefined &&
      /^[0-9]+$/.test(error.fragmentNumber)
    ) {
      this.#resume = { StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: error.fragmentNumber }
    }
    return [event]
  }
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

async function* run(options: ResolvedOptions): AsyncGenerator<ReadStreamEvent, void, undefined> {
  const { signal, idleTimeoutMs, clock } = options
  if (signal?.aborted) return
  const connection = options.connect(await loadNetwork())
  const { backoffDelay, classifyError, getMedia, sleep } = connection.network
  const delivery = new Delivery()
  /** Connections in a row that failed without delivering anything (the backoff exponent). */
  let failures = 0
  /** When the first of those connections started (`clock()`), for `retryForMs`; undefined while none failed. */
  let failingSince: number | undefined
  while (!signal?.aborted) {
    const startedAt = clock()
    // Every wait of the attempt ends through this controller, which this frame holds: the idle timer below and
    // the caller's signal abort it. (No AbortSignal.any or AbortSignal.timeout: on Node 20 a GC can collect
    // such signals before they fire, nodejs/node#57736, and the wait would never end.)
    const attempt = new AbortController()
    const onAbort = () => attempt.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    let idle: NodeJS.Timeout | undefined
    let idleFired = false
    const armIdle = () => {
      clearTimeout(idle)
      idle = setTimeout(() => {
        idleFired = true
        attempt.abort(
          new ReadStreamError('ERR_KVS_GETMEDIA_IDLE_TIMEOUT', `no GetMedia bytes for ${idleTimeoutMs} ms`, {
            continuationToken: delivery.continuationToken,
          }),
        )
      }, idleTimeoutMs)
    }
    let body: ResponseBody | undefined
    let progressed = false
    let cause: unknown
    /** The response ended cleanly at a fragment boundary, not after an error chunk: the reader caught up. */
    let caughtUp = false
    /** The error chunk the connection's last event carried: the cause when the response ends right after it. */
    let lastError: GetMediaServiceError | undefined
    try {
      armIdle()
      const endpoint = await abortable(connection.endpoint(), attempt.signal)
      body = await getMedia({
        ...options.stream,
        endpoint,
        signer: connection.signer,
        startSelector: delivery.startSelector(options.startSelector),
        signal: attempt.signal,
        ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
        ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      })
      armIdle()
      const parser = createGetMediaParser(options.parser)
      delivery.startConnection()
      for await (const chunk of body) {
        // The clock measures the service's silence, not the time the caller spends on the events.
        clearTimeout(idle)
        // A failure the parser holds back for its next call is surfaced with this chunk rather than the next
        // one (which may never come).
        const { events, failed, error } = settledPush(parser, chunk as Uint8Array)
        for (const event of events) {
          lastError = event.type === 'service-error' ? event.error : undefined
          for (const out of delivery.accept(event)) {
            progressed = true
            yield out
          }
        }
        if (failed) throw error
        if (signal?.aborted) return
        armIdle()
      }
      // An error chunk is how the service says why it stopped. Otherwise, a response that ended between
      // fragments has caught up with the stream: the service ends it when no new fragment comes for a while.
      caughtUp = lastError === undefined && endsBetweenFragments(parser)
      cause =
        lastError ??
        (caughtUp
          ? new ReadStreamError(
              'ERR_KVS_GETMEDIA_CAUGHT_UP',
              'the service ended the GetMedia response after the last fragment (caught up)',
              { continuationToken: delivery.continuationToken },
            )
          : new ReadStreamError(
              'ERR_KVS_GETMEDIA_ENDED',
              'the service ended the GetMedia response inside a fragment',
              { continuationToken: delivery.continuationToken },
            ))
    } catch (error) {
      if (signal?.aborted) return
      cause = idleFired ? attempt.signal.reason : error
      const decision = classifyError(cause)
      if (isParserLimit(cause) || !decision.retriable) throw cause
      if (decision.newEndpoint) connection.invalidateEndpoint()
      if (decision.refreshCredentials) connection.signer.refreshCredentials?.()
    } finally {
      clearTimeout(idle)
      signal?.removeEventListener('abort', onAbort)
      body?.destroy()
      attempt.abort()
    }
    if (caughtUp && !options.follow) return
    // A caught-up reader of a quiet stream times out too: after the response started, that is no failure, and
    // the service was reachable.
    const quiet = idleFired && body !== undefined
    let delayMs = 0
    if (progressed || quiet || caughtUp) {
      failures = 0
      failingSince = undefined
      // A caught-up response that delivered nothing ended on a quiet stream: ask again, but not in a tight loop.
      if (caughtUp && !progressed) delayMs = options.initialDelayMs
    } else {
      failures++
      failingSince ??= startedAt
      const retriedForMs = Math.max(0, clock() - failingSince)
      const outOfTime = retriedForMs >= options.retryForMs
      if (outOfTime || failures >= options.maxAttempts) {
        throw retriesExhausted(options, delivery, { cause, failures, retriedForMs, outOfTime })
      }
      const backoffMs = backoffDelay(failures, options, options.random)
      // The last attempt is made when the time runs out, not a backoff later.
      delayMs = Math.round(Math.min(backoffMs, options.retryForMs - retriedForMs))
    }
    yield {
      type: 'reconnect',
      cause,
      failures,
      delayMs,
      startSelector: delivery.startSelector(options.startSelector),
    }
    if (!(await sleep(delayMs, signal))) return
  }
}

/**
 * Whether a response that ended cleanly stopped between fragments: the parser has no fragment open and no
 * element cut short. A fragment cut short is not delivered: the next connection sends it again.
 */
function endsBetweenFragments(parser: { end(): readonly GetMediaEvent[] }): boolean {
  try {
    return parser.end().length === 0
  } catch {
    return false
  }
}

/** The error that ends a reader whose connections kept failing: what was tried, why it failed, where to resume. */
function retriesExhausted(
  options: ResolvedOptions,
  delivery: Delivery,
  run: { cause: unknown; failures: number; retriedForMs: number; outOfTime: boolean },
): ReadStreamError {
  const { cause, failures, retriedForMs } = run
  const seconds = (retriedForMs / 1000).toFixed(1)
  const connections = `${failures} connection${failures === 1 ? '' : 's'}`
  const what = run.outOfTime
    ? `GetMedia gave up after retrying for ${seconds} s (retryForMs ${options.retryForMs}): ${connections} in a row failed without delivering anything`
    : `GetMedia gave up after ${connections} in a row failed without delivering anything (retry.maxAttempts ${options.maxAttempts}, ${seconds} s)`
  const startSelector = delivery.startSelector(options.startSelector)
  const where =
    delivery.lastFragmentNumber === undefined
      ? `no fragment was delivered whole; a new reader starts from ${describeSelector(startSelector)}`
      : `the last fragment delivered whole is ${delivery.lastFragmentNumber}; a new reader resumes after it from ${describeSelector(startSelector)}`
  return new ReadStreamError(
    'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
    `${what}. Last error: ${describeError(cause)}. Resume: ${where}`,
    {
      cause,
      failures,
      retriedForMs,
      continuationToken: delivery.continuationToken,
      lastFragmentNumber: delivery.lastFragmentNumber,
      startSelector,
    },
  )
}

function describeSelector(selector: StartSelector): string {
  switch (selector.StartSelectorType) {
    case 'CONTINUATION_TOKEN':
      return `continuation token ${selector.ContinuationToken}`
    case 'FRAGMENT_NUMBER':
      return `after fragment ${selector.AfterFragmentNumber}`
    case 'SERVER_TIMESTAMP':
    case 'PRODUCER_TIMESTAMP': {
      const time = selector.StartTimestamp
      const date = time instanceof Date ? time : new Date(Number(time) * 1000)
      return `${selector.StartSelectorType} ${Number.isFinite(date.getTime()) ? date.toISOString() : String(time)}`
    }
    default:
      return selector.StartSelectorType
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
