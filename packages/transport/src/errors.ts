import { defineErrorFamily } from '@kvs-streams/core'

/**
 * Brand shared by every error class of this package. Its value is the error's `code`, so the static `is()`
 * guards work across duplicate installs of the package (where `instanceof` does not).
 */
const brand = Symbol.for('kvs-streams.transport-error')
const family = defineErrorFamily<TransportErrorCode>(brand)

/** Stable error codes of `@kvs-streams/transport`. */
export type TransportErrorCode =
  | 'ERR_KVS_HTTP'
  | 'ERR_KVS_CONNECT_TIMEOUT'
  | 'ERR_KVS_ACK_STALE'
  | 'ERR_KVS_ABORTED'
  | 'ERR_KVS_CONNECTION'
  | 'ERR_KVS_PROTOCOL'
  | 'ERR_KVS_ERROR_ACK'

/** What every transport error is constructed with. */
export interface TransportErrorOptions {
  cause?: unknown
}

const superOptions = (options: TransportErrorOptions | undefined): ErrorOptions =>
  family.superOptions(options)

/** What a `KvsHttpError` is constructed with. */
export interface KvsHttpErrorOptions extends TransportErrorOptions {
  status: number
  /** The AWS exception name (`ResourceNotFoundException`), when the response names one. */
  errorType?: string | undefined
  /** `x-amzn-RequestId` of the response. */
  requestId?: string | undefined
  /** The error response body as text (at most the first 64 KiB). */
  body?: string | undefined
}

/**
 * The service answered with an HTTP error instead of `200`. `name` is the AWS exception name when the
 * response carries one (`x-amzn-ErrorType` before its `:`, or the JSON body's `__type`/`code`), e.g.
 * `ResourceNotFoundException`, `InvalidEndpointException`, `NotAuthorizedException`; otherwise `KvsHttpError`.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html#API_dataplane_PutMedia_Errors
 */
export class KvsHttpError extends Error {
  override name: string
  readonly code = 'ERR_KVS_HTTP'
  /** HTTP status code. */
  readonly status: number
  /** The AWS exception name, when known. */
  readonly errorType: string | undefined
  /** `x-amzn-RequestId` of the response, for AWS support. */
  readonly requestId: string | undefined
  /** The response body as text (at most the first 64 KiB). */
  readonly body: string | undefined

  constructor(message: string, options: KvsHttpErrorOptions) {
    super(message, superOptions(options))
    this.name = options.errorType ?? 'KvsHttpError'
    this.status = options.status
    this.errorType = options.errorType
    this.requestId = options.requestId
    this.body = options.body
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsHttpError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsHttpError {
    return family.is(value, 'ERR_KVS_HTTP')
  }
}

/**
 * A transport timer ran out: the connection was not established within `connectTimeoutMs`
 * (`ERR_KVS_CONNECT_TIMEOUT`), or the service sent no response byte for `ackStalenessMs` while data was being
 * uploaded (`ERR_KVS_ACK_STALE`). The request was aborted and its socket destroyed.
 */
export class KvsTimeoutError extends Error {
  override name = 'KvsTimeoutError'
  readonly code: 'ERR_KVS_CONNECT_TIMEOUT' | 'ERR_KVS_ACK_STALE'
  /** The timeout that ran out, ms. */
  readonly timeoutMs: number

  constructor(
    code: 'ERR_KVS_CONNECT_TIMEOUT' | 'ERR_KVS_ACK_STALE',
    message: string,
    timeoutMs: number,
    options?: TransportErrorOptions,
  ) {
    super(message, superOptions(options))
    this.code = code
    this.timeoutMs = timeoutMs
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsTimeoutError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsTimeoutError {
    return family.is(value, 'ERR_KVS_CONNECT_TIMEOUT', 'ERR_KVS_ACK_STALE')
  }
}

/**
 * The request was aborted through its `signal` (the signal's `reason` is the `cause`) or by destroying the
 * stream. The socket was destroyed. `name` is `AbortError`, as for `fetch`.
 */
export class KvsAbortError extends Error {
  override name = 'AbortError'
  readonly code = 'ERR_KVS_ABORTED'

  constructor(message = 'The request was aborted', options?: TransportErrorOptions) {
    super(message, superOptions(options))
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsAbortError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsAbortError {
    return family.is(value, 'ERR_KVS_ABORTED')
  }
}

/**
 * The connection failed: refused, reset, closed mid-response, or the service ended the PutMedia response
 * while the request body was still being sent. The socket error, when there is one, is the `cause`.
 */
export class KvsConnectionError extends Error {
  override name = 'KvsConnectionError'
  readonly code = 'ERR_KVS_CONNECTION'

  constructor(message: string, options?: TransportErrorOptions) {
    super(message, superOptions(options))
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsConnectionError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsConnectionError {
    return family.is(value, 'ERR_KVS_CONNECTION')
  }
}

/**
 * The service answered `200` with something this package cannot use: a JSON API's body that is not JSON or
 * is larger than the package reads (16 MiB), or a ListFragments `NextToken` that was already returned in the
 * same listing (following it would loop forever).
 */
export class KvsProtocolError extends Error {
  override name = 'KvsProtocolError'
  readonly code = 'ERR_KVS_PROTOCOL'

  constructor(message: string, options?: TransportErrorOptions) {
    super(message, superOptions(options))
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsProtocolError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsProtocolError {
    return family.is(value, 'ERR_KVS_PROTOCOL')
  }
}

export interface KvsErrorAckErrorOptions extends TransportErrorOptions {
  /** The ack's `ErrorId` (see `ACK_ERRORS` in `@kvs-streams/acks`). */
  errorId: number
  /** The ack's `ErrorCode`, e.g. `FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS`, when it carried one. */
  errorCode?: string | undefined
  /** The `FragmentTimecode` of the fragment the ack is about, when it named one. */
  fragmentTimecode?: number | undefined
  /** Whether sending the same fragment again may succeed (from the ErrorId table). */
  retriable: boolean
  /** `x-amzn-RequestId` of the response that carried the ack. */
  requestId?: string | undefined
}

/**
 * The service answered a PutMedia request with an `ERROR` acknowledgement instead of storing the fragment
 * (raised by the fetch-based `putFragment` of `@kvs-streams/transport/web`, which sends one fragment per
 * request and so can name the failed fragment).
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export class KvsErrorAckError extends Error {
  override name = 'KvsErrorAckError'
  readonly code = 'ERR_KVS_ERROR_ACK'
  readonly errorId: number
  readonly errorCode: string | undefined
  readonly fragmentTimecode: number | undefined
  readonly retriable: boolean
  readonly requestId: string | undefined

  constructor(message: string, options: KvsErrorAckErrorOptions) {
    super(message, superOptions(options))
    this.errorId = options.errorId
    this.errorCode = options.errorCode
    this.fragmentTimecode = options.fragmentTimecode
    this.retriable = options.retriable
    this.requestId = options.requestId
  }

  get [brand](): TransportErrorCode {
    return this.code
  }

  /** True for any `KvsErrorAckError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsErrorAckError {
    return family.is(value, 'ERR_KVS_ERROR_ACK')
  }
}

/** Any error raised by this package. */
export type TransportError =
  | KvsHttpError
  | KvsTimeoutError
  | KvsAbortError
  | KvsConnectionError
  | KvsProtocolError
  | KvsErrorAckError

/** True for any error raised by `@kvs-streams/transport`. */
export function isTransportError(value: unknown): value is TransportError {
  return family.is(value)
}

/** The `TypeError` thrown for a bad option: one helper and message pattern across kvs-streams. */

/** undici error codes that mean the connection itself failed. */
const CONNECTION_ERROR_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
])

/**
 * Maps an error from undici or the socket to this package's errors: connect timeouts to `KvsTimeoutError`,
 * aborts to `KvsAbortError`, socket failures to `KvsConnectionError` (all with the original as `cause`).
 * Errors of this package, and anything unrecognised, are returned as they are.
 */
export function toTransportError(error: unknown, connectTimeoutMs: number): unknown {
  if (isTransportError(error)) return error
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new KvsTimeoutError(
      'ERR_KVS_CONNECT_TIMEOUT',
      `Could not connect within ${connectTimeoutMs} ms`,
      connectTimeoutMs,
      { cause: error },
    )
  }
  if (code === 'UND_ERR_ABORTED' || (error instanceof Error && error.name === 'AbortError')) {
    return new KvsAbortError(undefined, { cause: error })
  }
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
    const detail = error instanceof Error ? error.message : String(code)
    return new KvsConnectionError(`Connection failed: ${detail}`, { cause: error })
  }
  return error
}

const settingsBrand = Symbol.for('kvs-streams.aws-settings-error')
const settingsFamily = defineErrorFamily<AwsSettingsErrorCode>(settingsBrand)

/** Stable error codes of `resolveAwsSettings`. */
export type AwsSettingsErrorCode =
  | 'ERR_KVS_NO_REGION'
  | 'ERR_KVS_PROFILE_NOT_FOUND'
  | 'ERR_KVS_INVALID_ENDPOINT'

/**
 * The AWS settings cannot be resolved: no region anywhere, a named profile in neither shared file, or an
 * endpoint that is not an http(s) URL. `source` names where the bad or missing value comes from.
 */
export class KvsSettingsError extends Error {
  override name = 'KvsSettingsError'
  readonly code: AwsSettingsErrorCode
  /** Where the value came from (`AWS_PROFILE`, `the profile option`, `AWS_ENDPOINT_URL`…), when one did. */
  readonly source: string | undefined

  constructor(
    code: AwsSettingsErrorCode,
    message: string,
    options: TransportErrorOptions & { source?: string | undefined } = {},
  ) {
    super(message, superOptions(options))
    this.code = code
    this.source = options.source
  }

  get [settingsBrand](): AwsSettingsErrorCode {
    return this.code
  }

  /** True for any `KvsSettingsError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsSettingsError {
    return settingsFamily.is(value)
  }
}
