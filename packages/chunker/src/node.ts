import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { type ClusterChunkerOptions, createClusterChunker } from './chunker.ts'

/** A Node `Transform`: MKV bytes in, chunker events out (object mode). */
export function createClusterChunkerTransform(options?: ClusterChunkerOptions): Transform {
  return coreNodeTransform(createClusterChunker(options))
}
