import type { Ack } from './ack.ts'
import type { AckServiceError } from './errors.ts'

/** An acknowledgement decoded from the body. */
export interface AckEvent {
  type: 'ack'
  ack: Ack
}

/** A complete JSON object in the body that is not an acknowledgement (see `AckServiceError`). */
export interface AckServiceErrorEvent {
  type: 'service-error'
  error: AckServiceError
}

/** What the ack decoder emits, one event per top-level JSON object in the body. */
export type AckDecoderEvent = AckEvent | AckServiceErrorEvent
