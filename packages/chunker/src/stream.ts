import { coreTransformer, iterateCore } from '@kvs-streams/core'
import { type ClusterChunkerOptions, createClusterChunker } from './chunker.ts'
import type { ChunkerEvent } from './events.ts'

/** A WHATWG `TransformStream`: MKV bytes in, `header`, `fragment` and `violation` events out. */
export class ClusterChunkerStream extends TransformStream<Uint8Array, ChunkerEvent> {
  constructor(options?: ClusterChunkerOptions) {
    super(coreTransformer(createClusterChunker(options)))
  }
}

/** Chunks MKV bytes from an async iterable (a file stream, stdin, …), yielding chunker events. */
export function chunkClusters(
  source: AsyncIterable<Uint8Array>,
  options?: ClusterChunkerOptions,
): AsyncGenerator<ChunkerEvent> {
  return iterateCore(createClusterChunker(options), source)
}
