import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import type { RepackagerOptions } from './options.ts'
import { createRepackager } from './repackager.ts'

/** A Node `Transform`: MKV bytes in, KVS-ready repackager events out (object mode). */
export function createRepackagerTransform(options?: RepackagerOptions): Transform {
  return coreNodeTransform(createRepackager(options))
}
