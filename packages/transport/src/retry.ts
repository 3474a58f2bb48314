import { KvsConnectionError, KvsHttpError, KvsTimeoutError } from './errors.ts'

/**
 * What a failed request calls for, one policy for every client of kvs-streams (producer, `readStream`, the CLI):
 * - `retry`: a transient failure (throttling, a server fault, a cut connection): the same request again after
 *   a backoff;
 * - `refresh-credentials`: the signature or its credentials expired (`ExpiredTokenException`, `RequestExpired`):
 *   retried, signed anew (the signers of `@kvs-streams/signer` read their credentials provider again on every
 *   request once the credentials come near their expiration);
 * - `new-endpoint`: the endpoint moved or could not be reached (`InvalidEndpointException`, a refused connection,
 *   a connect timeout): resolve the data endpoint again, then retry;
 * - `fatal-not-found`: the stream (or resource) does not exist;
 * - `fatal-auth`: the identity is refused (not authorized, a bad signature, an unknown key);
 * - `fatal-rejected`: the service refused the request itself, or it could not be made (a bad argument): the
 *   same request fails again.
 */
export type ErrorCategory =
  | 'retry'
  | 'refresh-credentials'
  | 'new-endpoint'
  | 'fatal-not-found'
  | 'fatal-auth'
  | 'fatal-rejected'

/**
 * The one table of AWS exception names (`x-amzn-ErrorType`, the SDK's `name`) and what each calls for. A name
 * not in it is decided by its HTTP status (see `classifyError`).
 */
export const AWS_EXCEPTION_CATEGORIES: Readonly<Record<string, ErrorCategory>> = Object.freeze({
  // Throttling and limits: a later request gets through.
  ClientLimitExceededException: 'retry',
  ConnectionLimitExceededException: 'retry',
  ThrottlingException: 'retry',
  Throttling: 'retry',
  ThrottledException: 'retry',
  TooManyRequestsException: 'retry',
  RequestLimitExceeded: 'retry',
  LimitExceededException: 'retry',
  // Server faults and timeouts.
  ServiceUnavailable: 'retry',
  ServiceUnavailableException: 'retry',
  InternalFailure: 'retry',
  InternalServerError: 'retry',
  InternalServerException: 'retry',
  RequestTimeout: 'retry',
  RequestTimeoutException: 'retry',
  // The stream is not ready yet (being created or updated).
  ResourceInUseException: 'retry',
  // Fresh credentials and a fresh signature cure these.
  ExpiredToken: 'refresh-credentials',
  ExpiredTokenException: 'refresh-credentials',
  RequestExpired: 'refresh-credentials',
  // The data endpoint moved.
  InvalidEndpointException: 'new-endpoint',
  ResourceNotFoundException: 'fatal-not-found',
  NotAuthorizedException: 'fatal-auth',
  AccessDeniedException: 'fatal-auth',
  AccessDenied: 'fatal-auth',
  UnrecognizedClientException: 'fatal-auth',
  InvalidSignatureException: 'fatal-auth',
  IncompleteSignature: 'fatal-auth',
  IncompleteSignatureException: 'fatal-auth',
  MissingAuthenticationToken: 'fatal-auth',
  MissingAuthenticationTokenException: 'fatal-auth',
  InvalidClientTokenId: 'fatal-auth',
  SignatureDoesNotMatch: 'fatal-auth',
  InvalidArgumentException: 'fatal-rejected',
  SerializationException: 'fatal-rejected',
  ValidationException: 'fatal-rejected',
  InvalidDeviceException: 'fatal-rejected',
  UnknownOperationException: 'fatal-rejected',
  InvalidResourceFormatException: 'fatal-rejected',
  // An account quota (CreateStream): asking again does not raise it.
  AccountStreamLimitExceededException: 'fatal-rejected',
})

/**
 * Codes that mean the network failed, not the request: anywhere in an error's `cause` chain they make it
 * retriable, whatever the outer error (undici's `fetch` wraps socket errors in a `TypeError`).
 */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ERR_KVS_CONNECTION',
  'ERR_KVS_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** What `classifyError` decided, and why. */
export interface ErrorDecision {
  /** What the failure calls for (see `ErrorCategory`); the flags below follow from it. */
  category: ErrorCategory
  /** A later request may succeed (`retry`, `refresh-credentials`, `new-endpoint`). */
  retriable: boolean
  /** The failure was about expired credentials or an expired signature (`refresh-credentials`). */
  refreshCredentials: boolean
  /** The data endpoint should be resolved again before the retry (see `isEndpointError`). */
  newEndpoint: boolean
  /** What the decision rests on: the exception name, `HTTP 503`, a network code, or the error's name. */
  reason: string
}

function decision(category: ErrorCategory, reason: string, newEndpoint = false): ErrorDecision {
  const retriable = category === 'retry' || category === 'refresh-credentials' || category === 'new-endpoint'
  return {
    category,
    retriable,
    refreshCredentials: category === 'refresh-credentials',
    newEndpoint: newEndpoint || category === 'new-endpoint',
    reason,
  }
}

/**
 * Whether an error means the cached endpoint may be wrong: `InvalidEndpointException` (from this package or
 * an AWS SDK client), a connection failure or a connect timeout. (`classifyError` sets `newEndpoint` for these.)
 */
export function isEndpointError(error: unknown): boolean {
  if (KvsConnectionError.is(error)) return true
  if (KvsTimeoutError.is(error)) return error.code === 'ERR_KVS_CONNECT_TIMEOUT'
  if (KvsHttpError.is(error)) return error.errorType === 'InvalidEndpointException'
  return error instanceof Error && error.name === 'InvalidEndpointException'
}

/** `error` and its `cause`s, outermost first. */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = []
  for (let current = error; current !== undefined && chain.length < 10; ) {
    if (chain.includes(current)) break
    chain.push(current)
    current = typeof current === 'object' && current !== null ? (current as Error).cause : undefined
  }
  return chain
}

/** The category of an HTTP status the service answered without an exception name this package knows. */
function statusCategory(status: number): ErrorCategory {
  if (status >= 500 || status === 408 || status === 429) return 'retry'
  if (status === 404) return 'fatal-not-found'
  if (status === 401 || status === 403) return 'fatal-auth'
  return 'fatal-rejected'
}

/** A service answer: exception name and status, from `KvsHttpError` or an AWS SDK v3 `ServiceException`. */
interface Refusal {
  name: string | undefined
  status: number | undefined
  /** An SDK error's `$fault`, when it has one. */
  fault: string | undefined
  /** A `KvsHttpError` without exception name nor body: what reached us of an answer, not the service's words. */
  bare: boolean
}

function refusalOf(error: unknown): Refusal | undefined {
  if (KvsHttpError.is(error)) {
    return {
      name: error.errorType,
      status: error.status,
      fault: undefined,
      bare: error.errorType === undefined && (error.body ?? '').trim() === '',
    }
  }
  if (typeof error !== 'object' || error === null) return undefined
  const sdk = error as { name?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } }
  const status = typeof sdk.$metadata?.httpStatusCode === 'number' ? sdk.$metadata.httpStatusCode : undefined
  const fault = sdk.$fault === 'client' || sdk.$fault === 'server' ? sdk.$fault : undefined
  // SDK errors that carry neither (networking errors, timeouts of its HTTP handler) are no answer.
  if (status === undefined && fault === undefined) return undefined
  return { name: typeof sdk.name === 'string' ? sdk.name : undefined, status, fault, bare: false }
}

/**
 * Decides what a failed request calls for (see `ErrorCategory`), in this order:
 * 1. a network code (`NETWORK_ERROR_CODES`: `ECONNRESET`, `UND_ERR_SOCKET`…) anywhere in the `cause` chain:
 *    retriable, whatever wraps it;
 * 2. a service answer (`KvsHttpError`, or an AWS SDK v3 error with `$metadata.httpStatusCode` or `$fault`): its
 *    exception name in `AWS_EXCEPTION_CATEGORIES`; else its status (5xx, 408 and 429 retriable, 404 not found,
 *    401 and 403 not authorized, other 4xx rejected); an SDK `$fault: 'server'` without status is retriable. A
 *    `KvsHttpError` 4xx other than 401, 403 and 404 without name nor body is retriable: it is what reached us of
 *    an answer (a connection closed after the status line, a proxy's empty reply), not the service's refusal;
 * 3. a `TypeError` or `RangeError` (a bad argument): `fatal-rejected`;
 * 4. anything else (timeouts, aborted or truncated responses, unknown errors): retriable.
 *
 * `newEndpoint` is set for `InvalidEndpointException` and for what `isEndpointError` calls an endpoint failure
 * (a `KvsConnectionError`, a connect timeout).
 */
export function classifyError(error: unknown): ErrorDecision {
  const newEndpoint = isEndpointError(error)
  for (const item of causeChain(error)) {
    const code = typeof item === 'object' && item !== null ? (item as { code?: unknown }).code : undefined
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) {
      return decision(newEndpoint ? 'new-endpoint' : 'retry', code, newEndpoint)
    }
  }
  const refusal = refusalOf(error)
  if (refusal !== undefined) {
    const { name, status } = refusal
    const known = name === undefined ? undefined : exceptionCategory(name)
    const reason = name ?? `HTTP ${status}`
    if (known !== undefined) return decision(known, reason, newEndpoint)
    if (status !== undefined) {
      const category = statusCategory(status)
      return decision(category === 'fatal-rejected' && refusal.bare ? 'retry' : category, reason, newEndpoint)
    }
    return decision(refusal.fault === 'server' ? 'retry' : 'fatal-rejected', reason, newEndpoint)
  }
  const name = error instanceof Error ? error.name : typeof error
  if (error instanceof TypeError || error instanceof RangeError) return decision('fatal-rejected', name)
  return decision(newEndpoint ? 'new-endpoint' : 'retry', name, newEndpoint)
}

/** The category of an AWS exception name in `AWS_EXCEPTION_CATEGORIES`, undefined for a name not in it. */
export function exceptionCategory(name: string): ErrorCategory | undefined {
  return Object.hasOwn(AWS_EXCEPTION_CATEGORIES, name) ? AWS_EXCEPTION_CATEGORIES[name] : undefined
}
