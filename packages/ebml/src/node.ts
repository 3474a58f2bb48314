import { Transform, type TransformOptions } from 'node:stream'
import type { IncrementalCore } from './adapters.ts'
import { createEbmlReader, type EbmlReaderOptions } from './reader.ts'

/**
 * Hosts a core in a Node `Transform`: bytes in, events out (readable side in object mode). Used by every
 * kvs-streams package for its `./node` adapter; it holds no logic of its own.
 */
export function coreNodeTransform<I, O>(
  core: IncrementalCore<I, O>,
  options: Pick<TransformOptions, 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark'> & {
    writableObjectMode?: boolean
  } = {},
): Transform {
  const deliver = (stream: Transform, step: () => O[]): Error | undefined => {
    let events: O[]
    try {
      events = step()
    } catch (error) {
      const before = (error as { events?: unknown }).events
      if (Array.isArray(before)) for (const event of before) stream.push(event)
      return error instanceof Error ? error : new Error(String(error))
    }
    for (const event of events) stream.push(event)
    return undefined
  }
  return new Transform({
    ...options,
    readableObjectMode: true,
    transform(chunk: I, _encoding, callback) {
      callback(deliver(this, () => core.push(chunk)))
    },
    flush(callback) {
      callback(deliver(this, () => core.end()))
    },
  })
}

/** A Node `Transform` that reads EBML: bytes in, `EbmlEvent`s out. */
export function createEbmlReaderTransform(options?: EbmlReaderOptions): Transform {
  return coreNodeTransform(createEbmlReader(options))
}
