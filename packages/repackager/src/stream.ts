import { CoreStream, iterateCore } from '@kvs-streams/core'
import type { RepackagerEvent } from './events.ts'
import type { RepackagerOptions } from './options.ts'
import { createRepackager } from './repackager.ts'

/**
 * A `CoreStream` (WHATWG pair): MKV bytes in, KVS-ready `header`, `fragment` and `violation` events out (the
 * chunker's shape, so it pipes into `PutFragmentStream` as `ClusterChunkerStream` does).
 */
export class RepackagerStream extends CoreStream<Uint8Array, RepackagerEvent> {
  constructor(options?: RepackagerOptions) {
    super(createRepackager(options))
  }
}

/**
 * Repackages MKV bytes from an async iterable (a file stream, stdin, …), yielding KVS-ready events. Valid
 * as a `stream.pipeline()` stage.
 */
export function repackage(
  source: AsyncIterable<Uint8Array>,
  options?: RepackagerOptions,
): AsyncGenerator<RepackagerEvent> {
  return iterateCore(createRepackager(options), source)
}
