import { CoreStream, iterateCore } from '@kvs-streams/core'
import { type ClusterChunkerOptions, createClusterChunker } from './chunker.ts'
import type { ChunkerEvent } from './events.ts'

/** A `CoreStream` (WHATWG pair): MKV bytes in, `header`, `fragment` and `violation` events out. */
export class ClusterChunkerStream extends CoreStream<Uint8Array, ChunkerEvent> {
  constructor(options?: ClusterChunkerOptions) {
    super(createClusterChunker(options))
  }
}

/** Chunks MKV bytes from an async iterable (a file stream, stdin, …), yielding chunker events. */
export function chunkClusters(
  source: AsyncIterable<Uint8Array>,
  options?: ClusterChunkerOptions,
): AsyncGenerator<ChunkerEvent> {
  return iterateCore(createClusterChunker(options), source)
}
