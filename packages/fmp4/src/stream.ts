import { CoreStream, iterateCore } from '@kvs-streams/core'
import type { Fmp4Event } from './events.ts'
import { createFmp4Segmenter, type Fmp4SegmenterOptions } from './segmenter.ts'

/**
 * A `CoreStream` (WHATWG pair): Matroska bytes (a GetMedia body, an MKV file) in, `init-segment` and
 * `media-segment` events out.
 * @example response.body.pipeThrough(new Fmp4SegmenterStream())
 */
export class Fmp4SegmenterStream extends CoreStream<Uint8Array, Fmp4Event> {
  constructor(options?: Fmp4SegmenterOptions) {
    super(createFmp4Segmenter(options))
  }
}

/** Segments Matroska bytes from an async iterable (a file, a GetMedia body), yielding fMP4 events; a `pipeline()` stage. */
export function segmentFmp4(
  source: AsyncIterable<Uint8Array>,
  options?: Fmp4SegmenterOptions,
): AsyncGenerator<Fmp4Event> {
  return iterateCore(createFmp4Segmenter(options), source)
}
