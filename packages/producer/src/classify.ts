import { describeAckError } from '@kvs-streams/acks'
import { ChunkerError } from '@kvs-streams/chunker'
import { isEndpointError, KvsHttpError } from '@kvs-streams/transport'
import { ProducerError } from './errors.ts'

/** What to do after an ERROR acknowledgement (the service closes the connection after every one). */
export type ErrorAckDecision =
  /** Retriable: reconnect and send the fragment again. */
  | 'resend'
  /** Not retriable: report the fragment as skipped, reconnect and go on with the next one. */
  | 'skip'
  /** Not attributable to a fragment, or about the stream rather than a fragment: reconnect after a backoff. */
  | 'retry'

/**
 * ErrorIds about the stream, not the fragment (4008 not active / deleted, 4507 deleted): skipping the fragment
 * would only move the error to the next one. Reconnecting tells: a deleted stream answers PutMedia with
 * `ResourceNotFoundException` (fatal), one still being created starts accepting.
 */
const STREAM_ERROR_IDS = new Set([4008, 4507])

/**
 * Classifies an ERROR ack as the AWS producers do (KVS protocol notes §3.3, `serviceCallResultRetry`):
 * retriable ids are resent, the others skip the fragment they name. `attributable` says whether the ack's
 * FragmentTimecode matched a fragment sent in the session.
 */
export function decideErrorAck(errorId: number | undefined, attributable: boolean): ErrorAckDecision {
  if (errorId === undefined) return attributable ? 'resend' : 'retry'
  if (STREAM_ERROR_IDS.has(errorId)) return 'retry'
  if (describeAckError(errorId).retriable) return attributable ? 'resend' : 'retry'
  return attributable ? 'skip' : 'retry'
}

/** What to do after a session or a control-plane call failed. */
export type FailureDecision =
  | { kind: 'retry'; invalidateEndpoint: boolean }
  | { kind: 'fatal'; error: ProducerError }

const NOT_FOUND = new Set(['ResourceNotFoundException'])
const NOT_AUTHORIZED = new Set([
  'NotAuthorizedException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
])
/** Authorization failures that fresh credentials cure (the signer refreshes them): retried. */
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'])
const REJECTED = new Set([
  'InvalidArgumentException',
  'SerializationException',
  'ValidationException',
  'InvalidDeviceException',
  'UnknownOperationException',
])

/** Name, status and request id of a service refusal, from our transport or from the AWS SDK. */
function refusalOf(
  error: unknown,
): { name: string; status: number | undefined; requestId: string | undefined } | undefined {
  if (KvsHttpError.is(error)) {
    return { name: error.errorType ?? '', status: error.status, requestId: error.requestId }
  }
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const sdk = error as { name?: unknown; $metadata?: { httpStatusCode?: number; requestId?: string } }
    return {
      name: typeof sdk.name === 'string' ? sdk.name : '',
      status: sdk.$metadata?.httpStatusCode,
      requestId: sdk.$metadata?.requestId,
    }
  }
  return undefined
}

/**
 * Sorts a failure into retry (connection drops, timeouts, throttling, 5xx, expired tokens, signer hiccups)
 * and fatal (stream not found, not authorized, a request the service refuses as malformed). `what` names the
 * call, for the message.
 */
export function classifyFailure(error: unknown, what: string): FailureDecision {
  if (ProducerError.is(error)) {
    const transient =
      error.code === 'ERR_KVS_PRODUCER_ERROR_ACK' ||
      error.code === 'ERR_KVS_PRODUCER_SESSION_ENDED' ||
      error.code === 'ERR_KVS_PRODUCER_TIMEOUT'
    return transient ? { kind: 'retry', invalidateEndpoint: false } : { kind: 'fatal', error }
  }
  if (ChunkerError.is(error)) {
    return {
      kind: 'fatal',
      error: new ProducerError('ERR_KVS_PRODUCER_INVALID_INPUT', `${what}: ${error.message}`, {
        cause: error,
      }),
    }
  }
  const refusal = refusalOf(error)
  if (refusal === undefined) return { kind: 'retry', invalidateEndpoint: isEndpointError(error) }
  const { name, status, requestId } = refusal
  const context = { cause: error, status, requestId }
  if (NOT_FOUND.has(name) || (status === 404 && name === '')) {
    return {
      kind: 'fatal',
      error: new ProducerError(
        'ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
        `${what}: the stream does not exist`,
        context,
      ),
    }
  }
  if (EXPIRED.has(name)) return { kind: 'retry', invalidateEndpoint: false }
  if (NOT_AUTHORIZED.has(name) || ((status === 401 || status === 403) && name === '')) {
    return {
      kind: 'fatal',
      error: new ProducerError(
        'ERR_KVS_PRODUCER_NOT_AUTHORIZED',
        `${what}: not authorized (${name || `HTTP ${status}`})`,
        context,
      ),
    }
  }
  if (REJECTED.has(name)) {
    return {
      kind: 'fatal',
      error: new ProducerError('ERR_KVS_PRODUCER_REQUEST_REJECTED', `${what}: refused with ${name}`, context),
    }
  }
  return { kind: 'retry', invalidateEndpoint: isEndpointError(error) }
}

/** ListFragments refusals that asking again cannot change: not allowed, not available, or a request we malformed. */
const UNCHECKABLE = new Set([...NOT_AUTHORIZED, ...REJECTED])

/**
 * What a failed reconciliation (ListFragments) means for the fragments it was to look up:
 * - `retry`: the call did not get an answer (a cut or stalled connection, a timeout, throttling, a 5xx, an
 *   expired token, a moved endpoint, the stream gone): the attempt is retried later, reconciliation stays on,
 *   nothing is resent unchecked;
 * - `unchecked`: the service refused the call itself (not authorized for `kinesisvideo:ListFragments`, the
 *   operation unknown, or a request it calls malformed, which is a bug to report): asking again cannot help,
 *   so the fragments are resent without the check, each reported as a possible duplicate. Reconciliation is
 *   tried again after the next failure: one refusal never turns it off for good.
 */
export function classifyReconcileFailure(error: unknown): 'retry' | 'unchecked' {
  const refusal = refusalOf(error)
  if (refusal === undefined || refusal.status === undefined) return 'retry'
  if (refusal.status >= 500 || refusal.status === 408 || refusal.status === 429) return 'retry'
  if (UNCHECKABLE.has(refusal.name)) return 'unchecked'
  if ((refusal.status === 401 || refusal.status === 403) && refusal.name === '') return 'unchecked'
  return 'retry'
}
