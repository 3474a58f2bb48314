import { Transform } from 'node:stream'
import { type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'

/**
 * A Node `Transform` around `createAckDecoder`: bytes in (writable side), `AckDecoderEvent` objects out
 * (readable side in object mode). Errors destroy the stream, so `pipeline()` rejects with them.
 *
 * @example
 * await pipeline(response.body, createAckDecoderTransform(), handleEvents)
 */
export function createAckDecoderTransform(options?: AckDecoderOptions): Transform {
  const decoder = createAckDecoder(options)
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Uint8Array, _encoding, callback) {
      try {
        for (const event of decoder.push(chunk)) this.push(event)
      } catch (error) {
        callback(error as Error)
        return
      }
      callback()
    },
    flush(callback) {
      try {
        for (const event of decoder.end()) this.push(event)
      } catch (error) {
        callback(error as Error)
        return
      }
      callback()
    },
  })
}
