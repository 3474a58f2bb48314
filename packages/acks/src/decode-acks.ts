import { iterateCore } from '@kvs-streams/core'
import { type AckDecoderOptions, createAckDecoder } from './ack-decoder.ts'
import type { AckDecoderEvent } from './events.ts'

/** Options of `decodeAcks`: the decoder's, plus an abort signal. */
export interface DecodeAcksOptions extends AckDecoderOptions {
  /** Stops decoding with the signal's reason; `stream.pipeline()` passes one to every function stage. */
  signal?: AbortSignal | undefined
}

/**
 * Decodes an async iterable of body bytes (an undici body, a Node `Readable`, a WHATWG `ReadableStream`)
 * into `AckDecoderEvent`s. Valid as a `stream.pipeline()` stage: `pipeline(body, decodeAcks, consume)`.
 *
 * @throws AckSyntaxError, AckObjectTooLargeError, AckTruncatedError (see `createAckDecoder`)
 */
export async function* decodeAcks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options?: DecodeAcksOptions,
): AsyncGenerator<AckDecoderEvent, void, undefined> {
  yield* iterateCore(createAckDecoder(options), source, { signal: options?.signal })
}
