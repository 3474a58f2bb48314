import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/ebml/node'
import { createGetMediaParser, type GetMediaParserOptions } from './parser.ts'

/** A Node `Transform`: GetMedia body bytes in, `GetMediaEvent`s out (object mode). */
export function createGetMediaParserTransform(options?: GetMediaParserOptions): Transform {
  return coreNodeTransform(createGetMediaParser(options))
}
