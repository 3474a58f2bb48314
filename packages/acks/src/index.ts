export { ACK_EVENT_TYPES, type Ack, type AckEventType, isTerminalAck } from './ack.ts'
export { type AckDecoder, type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'
export { AckDecoderStream } from './ack-decoder-stream.ts'
export { ACK_ERRORS, type AckErrorInfo, describeAckError } from './ack-error-table.ts'
export { type DecodeAcksOptions, decodeAcks } from './decode-acks.ts'
export { encodeAck } from './encode-ack.ts'
export {
  type AckDecodeError,
  type AckErrorCode,
  type AckErrorOptions,
  AckObjectTooLargeError,
  AckServiceError,
  type AckServiceErrorOptions,
  AckSyntaxError,
  AckTruncatedError,
} from './errors.ts'
export type { AckDecoderEvent, AckEvent, AckServiceErrorEvent } from './events.ts'
export {
  createFragmentTracker,
  type FragmentState,
  type FragmentTracker,
  type FragmentTrackerOptions,
  type TrackerAnomaly,
} from './fragment-tracker.ts'
