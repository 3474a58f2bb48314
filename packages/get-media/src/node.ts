import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { createFragmentMerger, type FragmentMergerOptions } from './merger.ts'
import { createGetMediaParser, type GetMediaParserOptions } from './parser.ts'

/** A Node `Transform`: GetMedia body bytes in, `GetMediaEvent`s out (object mode). */
export function createGetMediaParserTransform(options?: GetMediaParserOptions): Transform {
  return coreNodeTransform(createGetMediaParser(options))
}

/** A Node `Transform` (object mode): raw GetMedia `fragment` events in, the merged file's `MergeEvent`s out. */
export function createFragmentMergerTransform(options?: FragmentMergerOptions): Transform {
  return coreNodeTransform(createFragmentMerger(options), { writableObjectMode: true })
}
