export { DEFAULT_RETRY, type RetryPolicy } from './backoff.ts'
export {
  createProducerCore,
  type DescribedStream,
  PRODUCER_TIMERS,
  type ProducerCommand,
  ProducerCore,
  type ProducerCoreConfig,
  type ProducerTimer,
} from './core.ts'
export { END_OF_FRAGMENT_TAG, END_OF_FRAGMENT_TAGS } from './end-of-fragment.ts'
export {
  FragmentMetadataError,
  type FragmentMetadataErrorCode,
  type FragmentMetadataErrorOptions,
  ProducerError,
  type ProducerErrorCode,
  type ProducerErrorOptions,
} from './errors.ts'
export type {
  AckReceivedEvent,
  FragmentAcknowledgedEvent,
  FragmentRef,
  FragmentSkippedEvent,
  PossibleDuplicateEvent,
  ProducerErrorEvent,
  ProducerEvent,
  ProducerEventMap,
  ProducerState,
  ReconciliationEvent,
  SessionEndReason,
  SkippedFragment,
  SkipReason,
  StateChangeEvent,
  StateChangeReason,
  StatsReportEvent,
  ViolationFoundEvent,
} from './events.ts'
export { PRODUCER_EVENT_TYPES } from './events.ts'
export {
  checkFragmentMetadata,
  FRAGMENT_METADATA_LIMITS,
  type FragmentMetadataTag,
  type PutMetadataOptions,
} from './fragment-metadata.ts'
export {
  DEFAULT_ACK_STALENESS_MS,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_CONNECTION_DURATION_MS,
  DEFAULT_MAX_DURATION_MS,
  DEFAULT_RECONCILE_SETTLE_MS,
  DEFAULT_STATS_INTERVAL_MS,
  type ProducerCredentials,
  type ProducerOptions,
  type ReconcileOptions,
} from './options.ts'
export { createProducer, type Producer, type ProducerEventsOptions } from './producer.ts'
export {
  EARLIEST_ABSOLUTE_TIMESTAMP_MS,
  MAX_FUTURE_TIMESTAMP_MS,
  type ProducerStartForFileOptions,
  producerStartForFile,
} from './producer-start.ts'
export type { StoredFragmentLister, TimestampRange } from './reconcile.ts'
export type { SessionHeader } from './replay-buffer.ts'
export { LATENCY_SAMPLES, type LatencySummary, type ProducerStats } from './stats.ts'
