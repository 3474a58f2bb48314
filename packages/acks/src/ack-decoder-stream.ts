import { CoreStream } from '@kvs-streams/core'
import { type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'
import type { AckDecoderEvent } from './events.ts'

/**
 * A `CoreStream` (WHATWG pair) around `createAckDecoder`: bytes of the PutMedia response body in,
 * `AckDecoderEvent`s out. Decoding errors error the stream (and so `pipeTo()` / `pipeThrough()` chains).
 *
 * @example
 * const events = response.body.pipeThrough(new AckDecoderStream())
 */
export class AckDecoderStream extends CoreStream<Uint8Array, AckDecoderEvent> {
  constructor(options?: AckDecoderOptions) {
    super(createAckDecoder(options))
  }
}
