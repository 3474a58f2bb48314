import { defineErrorFamily } from '@kvs-streams/core'

/**
 * Brand shared by every error class of this package. Its value is the error's `code`, so the static `is()`
 * guards work across duplicate installs of the package (where `instanceof` does not).
 */
const brand = Symbol.for('kvs-streams.acks-error')
const family = defineErrorFamily<AckErrorCode>(brand)

/** Stable error codes of `@kvs-streams/acks`. */
export type AckErrorCode =
  | 'ERR_KVS_ACK_TRUNCATED'
  | 'ERR_KVS_ACK_SYNTAX'
  | 'ERR_KVS_ACK_TOO_LARGE'
  | 'ERR_KVS_ACK_SERVICE_ERROR'

/** Options every error class of this package accepts. */
export interface AckErrorOptions {
  /** The underlying error (a `JSON.parse` `SyntaxError`, a `TextDecoder` `TypeError`, …). */
  cause?: unknown
}

function hasCode(value: unknown, code: AckErrorCode): boolean {
  return family.is(value, code)
}

function superOptions(options: AckErrorOptions | undefined): ErrorOptions {
  return family.superOptions(options)
}

/**
 * The response body ended (`end()`) while an acknowledgement object was still open, e.g. the connection
 * dropped mid-ack. Thrown by `AckDecoder.end()`; events decoded before it were already delivered.
 */
export class AckTruncatedError extends Error {
  override name = 'AckTruncatedError'
  readonly code = 'ERR_KVS_ACK_TRUNCATED'
  /** Absolute byte offset in the body of the `{` that opened the unfinished object. */
  readonly offset: number
  /** How many bytes of the unfinished object had arrived. */
  readonly pendingBytes: number

  constructor(offset: number, pendingBytes: number, options?: AckErrorOptions) {
    super(
      `Acknowledgement stream ended inside an object (${pendingBytes} bytes from byte ${offset} have no closing brace)`,
      superOptions(options),
    )
    this.offset = offset
    this.pendingBytes = pendingBytes
  }

  get [brand](): AckErrorCode {
    return this.code
  }

  /** True for any `AckTruncatedError`, also across duplicate installs of this package. */
  static is(value: unknown): value is AckTruncatedError {
    return hasCode(value, 'ERR_KVS_ACK_TRUNCATED')
  }
}

/**
 * The body is not a sequence of JSON objects: a non-whitespace byte between objects, an object that is not
 * valid JSON, or invalid UTF-8 inside an object.
 */
export class AckSyntaxError extends Error {
  override name = 'AckSyntaxError'
  readonly code = 'ERR_KVS_ACK_SYNTAX'
  /** Absolute byte offset in the body: the stray byte, or the `{` of the object that failed to parse. */
  readonly offset: number

  constructor(message: string, offset: number, options?: AckErrorOptions) {
    super(`${message} (at byte ${offset})`, superOptions(options))
    this.offset = offset
  }

  get [brand](): AckErrorCode {
    return this.code
  }

  /** True for any `AckSyntaxError`, also across duplicate installs of this package. */
  static is(value: unknown): value is AckSyntaxError {
    return hasCode(value, 'ERR_KVS_ACK_SYNTAX')
  }
}

/**
 * One object in the body is larger than `maxObjectBytes`. Raised as soon as the open object passes the limit,
 * so the decoder never holds more than `maxObjectBytes` pending bytes.
 */
export class AckObjectTooLargeError extends Error {
  override name = 'AckObjectTooLargeError'
  readonly code = 'ERR_KVS_ACK_TOO_LARGE'
  /** Absolute byte offset in the body of the `{` that opened the oversized object. */
  readonly offset: number
  /** The `maxObjectBytes` limit in force. */
  readonly limit: number

  constructor(offset: number, limit: number, options?: AckErrorOptions) {
    super(`Acknowledgement object at byte ${offset} is larger than ${limit} bytes`, superOptions(options))
    this.offset = offset
    this.limit = limit
  }

  get [brand](): AckErrorCode {
    return this.code
  }

  /** True for any `AckObjectTooLargeError`, also across duplicate installs of this package. */
  static is(value: unknown): value is AckObjectTooLargeError {
    return hasCode(value, 'ERR_KVS_ACK_TOO_LARGE')
  }
}

/** What an `AckServiceError` carries. */
export interface AckServiceErrorOptions extends AckErrorOptions {
  /** Absolute byte offset of the object's `{` in the body. */
  offset: number
  /** The parsed object exactly as received. */
  raw: Record<string, unknown>
  /** The service's own message (`message`, `Message` or `Output.Message`), when it sent a string. */
  serviceMessage?: string | undefined
  /** The AWS error type (`__type` or `Output.__type`), when present. */
  errorType?: string | undefined
}

/**
 * A complete, valid JSON object in the acknowledgement stream that is not an acknowledgement: an AWS error
 * body (`{"message":"The security token included in the request is expired"}`, `{"Message":…}`,
 * `{"__type":…}`, the Coral envelope `{"Output":{"__type":…,"Message":null},"Version":"1.0"}`), an object
 * without a known `EventType` (such as the pre-GA camelCase format), or an ack whose known fields have the
 * wrong JSON type. Delivered as a `service-error` event, never thrown by the decoder: callers decide.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export class AckServiceError extends Error {
  override name = 'AckServiceError'
  readonly code = 'ERR_KVS_ACK_SERVICE_ERROR'
  readonly offset: number
  readonly raw: Record<string, unknown>
  readonly serviceMessage: string | undefined
  readonly errorType: string | undefined

  constructor(message: string, options: AckServiceErrorOptions) {
    super(message, superOptions(options))
    this.offset = options.offset
    this.raw = options.raw
    this.serviceMessage = options.serviceMessage
    this.errorType = options.errorType
  }

  get [brand](): AckErrorCode {
    return this.code
  }

  /** True for any `AckServiceError`, also across duplicate installs of this package. */
  static is(value: unknown): value is AckServiceError {
    return hasCode(value, 'ERR_KVS_ACK_SERVICE_ERROR')
  }
}

/** Errors the decoder throws from `push()` / `end()`. */
export type AckDecodeError = AckTruncatedError | AckSyntaxError | AckObjectTooLargeError
