import { type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'
import type { AckDecoderEvent } from './events.ts'

/**
 * A WHATWG `TransformStream` around `createAckDecoder`: bytes of the PutMedia response body in,
 * `AckDecoderEvent`s out. Decoding errors error the stream (and so `pipeTo()` / `pipeThrough()` chains).
 *
 * @example
 * const events = response.body.pipeThrough(new AckDecoderStream())
 */
export class AckDecoderStream extends TransformStream<Uint8Array, AckDecoderEvent> {
  constructor(options?: AckDecoderOptions) {
    const decoder = createAckDecoder(options)
    super({
      transform(chunk, controller) {
        for (const event of decoder.push(chunk)) controller.enqueue(event)
      },
      flush(controller) {
        for (const event of decoder.end()) controller.enqueue(event)
      },
    })
  }
}
