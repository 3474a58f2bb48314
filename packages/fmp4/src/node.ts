import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { createFmp4Segmenter, type Fmp4SegmenterOptions } from './segmenter.ts'

/** A Node `Transform`: Matroska bytes in, `init-segment` and `media-segment` events out (object mode). */
export function createFmp4SegmenterTransform(options?: Fmp4SegmenterOptions): Transform {
  return coreNodeTransform(createFmp4Segmenter(options))
}
