import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { createEbmlReader, type EbmlReaderOptions } from './reader.ts'

/** A Node `Transform` that reads EBML: bytes in, `EbmlEvent`s out. */
export function createEbmlReaderTransform(options?: EbmlReaderOptions): Transform {
  return coreNodeTransform(createEbmlReader(options))
}
