// The fetch-based PutMedia of `@kvs-streams/transport/web`: no Node or undici import, for browsers, Web Workers and
// other WHATWG runtimes (one request per fragment, as they cannot stream an HTTP/1.1 upload while reading the
// response).

export { type BackoffOptions, backoffDelay, sleep } from './backoff.ts'
export {
  isTransportError,
  KvsAbortError,
  KvsConnectionError,
  KvsErrorAckError,
  type KvsErrorAckErrorOptions,
  KvsHttpError,
  type KvsHttpErrorOptions,
  KvsProtocolError,
  KvsTimeoutError,
  type TransportError,
  type TransportErrorCode,
  type TransportErrorOptions,
} from './errors.ts'
export {
  createFragmentPutter,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_DELAY_MS,
  type FragmentPutter,
  type FragmentPutterOptions,
  type FragmentRetry,
  isRetriableFragmentError,
  type PutFragmentOutcome,
} from './fragment-putter.ts'
export {
  DEFAULT_ACK_TIMEOUT_MS,
  type FragmentAckType,
  type PutFragmentInput,
  type PutFragmentOptions,
  type PutFragmentResult,
  type PutHeaderInput,
  type PutMediaSigner,
  putFragment,
} from './put-fragment.ts'
export {
  type FragmentAcknowledgedEvent,
  PutFragmentStream,
  type PutFragmentStreamEvent,
  type PutFragmentStreamInput,
  type ViolationLikeEvent,
} from './put-fragment-stream.ts'
export { DEFAULT_MIN_REQUEST_INTERVAL_MS } from './request-pacer.ts'
export {
  AWS_EXCEPTION_CATEGORIES,
  classifyError,
  type ErrorCategory,
  type ErrorDecision,
  exceptionCategory,
  isEndpointError,
  NETWORK_ERROR_CODES,
} from './retry.ts'
