const brand = Symbol.for('kvs-streams.emulator-error')

/** Stable error codes of `@kvs-streams/emulator`. */
export type EmulatorErrorCode =
  /** An operation failed the way the service fails it: rendered as an AWS error response. */
  | 'ERR_KVS_EMULATOR_SERVICE_ERROR'
  /** The data directory could not be read or written. */
  | 'ERR_KVS_EMULATOR_STORAGE'
  /** The server could not start (address in use, bad host, …). */
  | 'ERR_KVS_EMULATOR_LISTEN'
  /** HTTPS could not be set up: a certificate or key that does not load or match, or a certificate directory it cannot use. */
  | 'ERR_KVS_EMULATOR_TLS'

/** What an `EmulatorError` is constructed with. */
export interface EmulatorErrorOptions {
  cause?: unknown
}

function hasCode(value: unknown, code?: EmulatorErrorCode): boolean {
  if (typeof value !== 'object' || value === null) return false
  const found = (value as Record<symbol, unknown>)[brand]
  return code === undefined ? typeof found === 'string' : found === code
}

/** Raised by the emulator itself: storage failures and start-up failures. */
export class EmulatorError extends Error {
  override name = 'EmulatorError'
  readonly code: EmulatorErrorCode
  /** The file or directory concerned, for storage errors. */
  readonly path: string | undefined

  constructor(
    code: EmulatorErrorCode,
    message: string,
    options: EmulatorErrorOptions & { path?: string } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause })
    this.code = code
    this.path = options.path
  }

  get [brand](): EmulatorErrorCode {
    return this.code
  }

  /** True for any error of this package (`EmulatorError` or `ServiceError`), also across duplicate installs. */
  static is(value: unknown): value is EmulatorError {
    return hasCode(value)
  }
}

/** Where an error type's name comes from: the service's model, or the AWS front end (Coral) common errors. */
const CORAL_NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.coral.service/'
const SERVICE_NAMESPACE = 'https://kinesisvideo.amazonaws.com/doc/2017-09-30/'

/** Error types the AWS front end raises before an operation runs (signature, routing, serialization). */
const coralErrors = new Set([
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'RequestExpired',
  'SerializationException',
  'UnknownOperationException',
  'RequestEntityTooLargeException',
  'RequestHeaderFieldsTooLargeException',
  'RequestTimeoutException',
  'InternalFailure',
  'ServiceUnavailable',
])

/**
 * An operation failed as the service would fail it. The router renders it as an AWS error response:
 * `status`, `x-amzn-ErrorType: <errorType>:<namespace>`, `x-amzn-RequestId` and a JSON body
 * `{"Message": message}` (`{"message": …}` for signature errors, as AWS writes them).
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/CommonErrors.html
 */
export class ServiceError extends EmulatorError {
  override name = 'ServiceError'
  /** The exception name clients branch on, e.g. `ResourceNotFoundException`. */
  readonly errorType: string
  /** HTTP status of the error response. */
  readonly status: number

  constructor(errorType: string, status: number, message: string, options: EmulatorErrorOptions = {}) {
    super('ERR_KVS_EMULATOR_SERVICE_ERROR', message, options)
    this.errorType = errorType
    this.status = status
  }

  /** The `x-amzn-ErrorType` header value. */
  get errorTypeHeader(): string {
    return `${this.errorType}:${coralErrors.has(this.errorType) ? CORAL_NAMESPACE : SERVICE_NAMESPACE}`
  }

  /** True for a `ServiceError`, also across duplicate installs of this package. */
  static override is(value: unknown): value is ServiceError {
    return hasCode(value, 'ERR_KVS_EMULATOR_SERVICE_ERROR')
  }
}

/** `ResourceNotFoundException` (404) with the service's own message for a missing stream. */
export function streamNotFound(): ServiceError {
  return new ServiceError(
    'ResourceNotFoundException',
    404,
    'The requested stream is not found or not active.',
  )
}

/** `InvalidArgumentException` (400). */
export function invalidArgument(message: string): ServiceError {
  return new ServiceError('InvalidArgumentException', 400, message)
}

/**
 * `ConnectionLimitExceededException` (400) for a PutMedia that started before the newest one accepted for its
 * stream: only one connection writes to a stream, and the last one started is the one accepted.
 */
export function olderPutMedia(startMs: number, newestStartMs: number): ServiceError {
  return new ServiceError(
    'ConnectionLimitExceededException',
    400,
    `A newer PutMedia connection was accepted for this stream: this request started at ${new Date(startMs).toISOString()}, the newest accepted one at ${new Date(newestStartMs).toISOString()}.`,
  )
}

/** `ConnectionLimitExceededException` (400) for a PutMedia replaced by a newer one before its 200 was sent. */
export function supersededPutMedia(): ServiceError {
  return new ServiceError(
    'ConnectionLimitExceededException',
    400,
    'A newer PutMedia connection was accepted for this stream before this one was answered.',
  )
}
