import { CoreStream, iterateCore } from '@kvs-streams/core'
import type { EbmlEvent } from './events.ts'
import { createEbmlReader, type EbmlReaderOptions } from './reader.ts'

/** A `CoreStream` (WHATWG pair) that reads EBML: bytes in, `EbmlEvent`s out. */
export class EbmlReaderStream extends CoreStream<Uint8Array, EbmlEvent> {
  constructor(options?: EbmlReaderOptions) {
    super(createEbmlReader(options))
  }
}

/** Reads EBML from an async iterable of bytes, yielding `EbmlEvent`s. */
export function readEbml(
  source: AsyncIterable<Uint8Array>,
  options?: EbmlReaderOptions,
): AsyncGenerator<EbmlEvent> {
  return iterateCore(createEbmlReader(options), source)
}
