import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'

/**
 * A Node `Transform` around `createAckDecoder`: bytes in (writable side), `AckDecoderEvent` objects out
 * (readable side in object mode). Errors destroy the stream, so `pipeline()` rejects with them.
 *
 * @example
 * await pipeline(response.body, createAckDecoderTransform(), handleEvents)
 */
export function createAckDecoderTransform(options?: AckDecoderOptions): Transform {
  return coreNodeTransform(createAckDecoder(options))
}
