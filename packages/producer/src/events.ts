import type { Ack } from '@kvs-streams/acks'
import type { Violation } from '@kvs-streams/chunker'
import type { FragmentMetadataTag } from './fragment-metadata.ts'
import type { ProducerStats } from './stats.ts'

/**
 * Where the producer is: `idle` (no session: nothing to send yet, or a session ended on purpose), opening a
 * PutMedia session, sending on one, waiting to retry after a failure, or done.
 */
export type ProducerState = 'idle' | 'connecting' | 'streaming' | 'reconnecting' | 'closed'

/** A fragment as events report it (its bytes are not included). */
export interface FragmentRef {
  /** 0-based position among the fragments of the input (the chunker's index). */
  index: number
  /** The Cluster Timecode as written: what acks report as `FragmentTimecode`. */
  timecode: number
  /** Producer timestamp the service records, epoch ms: what reconciliation matches on. */
  producerTimestampMs: number
  /** Bytes sent for it: the Cluster, the Tags after it in the input, and the metadata Tags the producer added. */
  byteLength: number
  durationMs: number
  /** The metadata `putMetadata()` attached to it (one-shot and persistent tags, in the order sent), if any. */
  metadata?: readonly FragmentMetadataTag[]
}

/** Why a fragment was not stored. */
export type SkipReason =
  /** The service answered a non-retriable ERROR for it (`errorId`, `errorCode`, `description`). */
  | 'error-ack'
  /** The chunker found it breaks a KVS rule the service would reject it for (`onViolation: 'skip'`). */
  | 'violation'
  /** The replay buffer was full and `whenFull` is `'drop-oldest'`. */
  | 'buffer-full'

/** A fragment that will not be stored, and why. */
export interface SkippedFragment {
  fragment: FragmentRef
  reason: SkipReason
  /** The ErrorId (from the ERROR ack, or the one the violation would cause). */
  errorId: number | undefined
  /** Symbolic name of `errorId`, e.g. `MAX_FRAGMENT_DURATION_REACHED`. */
  errorCode: string | undefined
  /** What happened, in words. */
  message: string
  /**
   * `not-stored`: it never reached the service complete, or the service refused it. `unknown`: it was sent
   * and dropped (`buffer-full`) before any acknowledgement or lookup told whether the service stored it.
   */
  fate: 'not-stored' | 'unknown'
}

/** Every acknowledgement received, as decoded, with the fragment it was matched to in its session. */
export interface AckReceivedEvent {
  type: 'ack'
  ack: Ack
  /** The PutMedia session (1, 2, …) the ack came on. */
  sessionId: number
  /** The fragment with this `FragmentTimecode` in that session; undefined for IDLE or an unmatched ack. */
  fragment: FragmentRef | undefined
}

/** A fragment is safe: the service acknowledged it, or reconciliation found it stored. */
export interface FragmentAcknowledgedEvent {
  type: 'fragment-acknowledged'
  fragment: FragmentRef
  /** `RECEIVED` or `PERSISTED` (per `acknowledgeOn`), or `LIST_FRAGMENTS` when reconciliation found it. */
  acknowledgedBy: 'RECEIVED' | 'PERSISTED' | 'LIST_FRAGMENTS'
  /** The service's fragment number, when known. */
  fragmentNumber: string | undefined
  /** From the fragment's acceptance by the writable to this acknowledgement, ms (per `clock`). */
  latencyMs: number
  /** Times the fragment was written to a session. */
  sends: number
}

/** A fragment will not be stored (see `reason`). `close()` rejects listing every skipped fragment. */
export interface FragmentSkippedEvent extends SkippedFragment {
  type: 'fragment-skipped'
}

/** Why a session ended on purpose: `rotation` (maxConnectionDurationMs), `credentials` (before they expire),
 * `header` (the input's MKV header changed), `end` (the input ended). */
export type SessionEndReason = 'rotation' | 'credentials' | 'header' | 'end'

/**
 * Why the producer's state changed: `start`; a session ended on purpose (`SessionEndReason`); `resume` (data after
 * a quiet end of session); `retry`; `failure`; `aborted`; `fatal`.
 */
export type StateChangeReason =
  | 'start'
  | SessionEndReason
  | 'resume'
  | 'retry'
  | 'failure'
  | 'aborted'
  | 'fatal'

/** The producer changed state. */
export interface StateChangeEvent {
  type: 'state'
  state: ProducerState
  previous: ProducerState | undefined
  /** The session being opened (`connecting`) or sending (`streaming`). */
  sessionId: number | undefined
  /** Why the state changed (see `StateChangeReason`). */
  reason: StateChangeReason
  /** The failure that caused `reconnecting` or a fatal `closed`. */
  cause: unknown
  /** Consecutive failures without progress so far (`reconnecting`). */
  attempt: number | undefined
  /** Wait before the next session (`reconnecting`), ms. */
  delayMs: number | undefined
}

/** After a failed session: the fragments whose fate was unknown, checked with ListFragments. */
export interface ReconciliationEvent {
  type: 'reconciliation'
  sessionId: number
  /** Fragments looked up. */
  checked: number
  /** Of those, found stored (acknowledged now, not resent). */
  found: number
  /**
   * Set when ListFragments was refused: the fragments not known to be stored are resent unchecked, each
   * reported by a `possible-duplicate` event. (A call that got no answer is retried with the next attempt
   * and reported by the `reconnecting` state change instead.)
   */
  error: unknown
}

/**
 * A fragment whose fate was unknown (written in a session that failed before its acknowledgement) is being
 * sent again without ListFragments having said it was not stored: it may end up stored twice (at least once,
 * not exactly once). Never silent: this event, and `stats().fragments.possibleDuplicates`.
 */
export interface PossibleDuplicateEvent {
  type: 'possible-duplicate'
  fragment: FragmentRef
  /**
   * `reconciliation-off`: the `reconcile` option is false. `reconciliation-refused`: ListFragments was refused
   * (not authorized, not available, or a request the service called malformed; `error`).
   */
  reason: 'reconciliation-off' | 'reconciliation-refused'
  error: unknown
}

/** The chunker found a KVS rule broken; `fragment-skipped` follows when the fragment is skipped for it. */
export interface ViolationFoundEvent {
  type: 'violation'
  violation: Violation
}

/** Periodic statistics (`statsIntervalMs`), and once more when the producer closes. */
export interface StatsReportEvent {
  type: 'stats'
  stats: ProducerStats
}

/** The producer failed for good; `close()` rejects with the same error. */
export interface ProducerErrorEvent {
  type: 'error'
  error: Error
}

/** Everything `producer.events()` yields. */
export type ProducerEvent =
  | AckReceivedEvent
  | FragmentAcknowledgedEvent
  | FragmentSkippedEvent
  | StateChangeEvent
  | ReconciliationEvent
  | PossibleDuplicateEvent
  | ViolationFoundEvent
  | StatsReportEvent
  | ProducerErrorEvent

/** The `type`s of the events the producer emits besides `error`, for subscribing to all of them at once. */
export const PRODUCER_EVENT_TYPES = [
  'ack',
  'fragment-acknowledged',
  'fragment-skipped',
  'state',
  'reconciliation',
  'possible-duplicate',
  'violation',
  'stats',
] as const satisfies readonly Exclude<ProducerEvent['type'], 'error'>[]

/**
 * The producer's `EventEmitter` events: the same objects as `events()` yields, under their `type`, except
 * `error`, whose listeners get the `Error` itself (Node's convention).
 */
export interface ProducerEventMap {
  ack: [AckReceivedEvent]
  'fragment-acknowledged': [FragmentAcknowledgedEvent]
  'fragment-skipped': [FragmentSkippedEvent]
  state: [StateChangeEvent]
  reconciliation: [ReconciliationEvent]
  'possible-duplicate': [PossibleDuplicateEvent]
  violation: [ViolationFoundEvent]
  stats: [StatsReportEvent]
  error: [Error]
}
