import { describeAckError } from '@kvs-streams/acks'
import { ChunkerError } from '@kvs-streams/chunker'
import { classifyError, KvsHttpError } from '@kvs-streams/transport'
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
  | {
      kind: 'retry'
      invalidateEndpoint: boolean
      /** Expired credentials or signature: the next session is signed with credentials asked anew. */
      refreshCredentials: boolean
    }
  | { kind: 'fatal'; error: ProducerError }

/** Status and request id of a service answer, from our transport or from the AWS SDK, for the error's context. */
function contextOf(error: unknown): { status: number | undefined; requestId: string | undefined } {
  if (KvsHttpError.is(error)) return { status: error.status, requestId: error.requestId }
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: unknown; requestId?: unknown } }).$metadata
    return {
      status: typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined,
      requestId: typeof metadata?.requestId === 'string' ? metadata.requestId : undefined,
    }
  }
  return { status: undefined, requestId: undefined }
}

/**
 * Sorts a failure into retry (connection drops, timeouts, throttling, 5xx, expired tokens, signer hiccups)
 * and fatal (stream not found, not authorized, a request the service refuses as malformed), by the transport's
 * `classifyError` (one table of exception names for every client) after the producer's own errors. `what`
 * names the call, for the message.
 */
export function classifyFailure(error: unknown, what: string): FailureDecision {
  if (ProducerError.is(error)) {
    const transient =
      error.code === 'ERR_KVS_PRODUCER_ERROR_ACK' ||
      error.code === 'ERR_KVS_PRODUCER_SESSION_ENDED' ||
      error.code === 'ERR_KVS_PRODUCER_TIMEOUT'
    return transient
      ? { kind: 'retry', invalidateEndpoint: false, refreshCredentials: false }
      : { kind: 'fatal', error }
  }
  if (ChunkerError.is(error)) {
    return {
      kind: 'fatal',
      error: new ProducerError('ERR_KVS_PRODUCER_INVALID_INPUT', `${what}: ${error.message}`, {
        cause: error,
      }),
    }
  }
  const decision = classifyError(error)
  if (decision.retriable) {
    return {
      kind: 'retry',
      invalidateEndpoint: decision.newEndpoint,
      refreshCredentials: decision.refreshCredentials,
    }
  }
  const context = { cause: error, ...contextOf(error) }
  switch (decision.category) {
    case 'fatal-not-found':
      return {
        kind: 'fatal',
        error: new ProducerError(
          'ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
          `${what}: the stream does not exist`,
          context,
        ),
      }
    case 'fatal-auth':
      return {
        kind: 'fatal',
        error: new ProducerError(
          'ERR_KVS_PRODUCER_NOT_AUTHORIZED',
          `${what}: not authorized (${decision.reason})`,
          context,
        ),
      }
    default: {
      // A bad argument (TypeError, RangeError) is no refusal of the service: its own message tells more.
      const message =
        error instanceof TypeError || error instanceof RangeError
          ? `${what}: ${error.name}: ${error.message}`
          : `${what}: refused with ${decision.reason}`
      return {
        kind: 'fatal',
        error: new ProducerError('ERR_KVS_PRODUCER_REQUEST_REJECTED', message, context),
      }
    }
  }
}

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
  // Only the service's own answer tells that asking again cannot help; anything else did not get one.
  if (contextOf(error).status === undefined) return 'retry'
  const { category } = classifyError(error)
  return category === 'fatal-auth' || category === 'fatal-rejected' ? 'unchecked' : 'retry'
}
