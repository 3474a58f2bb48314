/**
 * The `EventType` of a PutMedia acknowledgement.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export type AckEventType = 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR' | 'IDLE'

/** Every `AckEventType`, in the order the service sends them for one fragment. */
export const ACK_EVENT_TYPES: readonly AckEventType[] = [
  'BUFFERING',
  'RECEIVED',
  'PERSISTED',
  'ERROR',
  'IDLE',
]

/**
 * One acknowledgement from the PutMedia response body, with wire keys mapped to camelCase
 * (`EventType` → `eventType`, `FragmentTimecode` → `fragmentTimecode`, …).
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export interface Ack {
  eventType: AckEventType
  /**
   * Service-assigned fragment number, always as text: it has ~47 decimal digits, more than a JavaScript
   * number holds. A bare JSON number on the wire keeps its digits exactly.
   */
  fragmentNumber?: string
  /** The Cluster `Timecode` the producer sent, in TimecodeScale units. Absent for `IDLE`; may be negative. */
  fragmentTimecode?: number
  /** `ErrorId` of an `ERROR` ack; see `ACK_ERRORS`. */
  errorId?: number
  /** `ErrorCode` of an `ERROR` ack, e.g. `FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS`. */
  errorCode?: string
  /** Keys the decoder does not know, with their parsed JSON values. Present only when there are some. */
  extra?: Record<string, unknown>
}

/**
 * True for an `ERROR` ack. The service ends the connection after every ERROR ack, so the session is over.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function isTerminalAck(ack: Ack): boolean {
  return ack.eventType === 'ERROR'
}
