import { partitionLabel, type SplitsOptions, splits } from '@kvs-streams/test-utils'
import { expect } from 'vitest'
import {
  createEbmlReader,
  type EbmlElement,
  type EbmlElementEnd,
  type EbmlElementStart,
  type EbmlEvent,
  type EbmlReaderOptions,
} from '../src/index.ts'

/** An event as tests compare it: `data` as hex, so a view and a copy of the same bytes are equal. */
export type Comparable = EbmlElementStart | EbmlElementEnd | (Omit<EbmlElement, 'data'> & { data: string })

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function comparable(events: readonly EbmlEvent[]): Comparable[] {
  return events.map((event) => (event.type === 'element' ? { ...event, data: hex(event.data) } : event))
}

/** Pushes every chunk into a new reader, then ends it, and returns all events. */
export function readAll(chunks: readonly Uint8Array[], options?: EbmlReaderOptions): EbmlEvent[] {
  const reader = createEbmlReader(options)
  const events: EbmlEvent[] = []
  for (const chunk of chunks) events.push(...reader.push(chunk))
  events.push(...reader.end())
  return events
}

/**
 * Asserts that `bytes` read as `expected` however they are chunked: whole, split at every offset, one byte
 * at a time and in seeded random partitions (`splits` from test-utils). Events compare modulo data views.
 */
export function expectEventsForEveryPartition(
  bytes: Uint8Array,
  expected: readonly Comparable[],
  options?: EbmlReaderOptions,
  splitsOptions?: SplitsOptions,
): void {
  for (const chunks of splits(bytes, splitsOptions)) {
    const reader = createEbmlReader(options)
    const events: EbmlEvent[] = []
    for (const chunk of chunks) events.push(...reader.push(chunk))
    events.push(...reader.end())
    expect(comparable(events), partitionLabel(chunks)).toEqual(expected)
    expect(reader.offset, partitionLabel(chunks)).toBe(bytes.length)
    expect(reader.depth, partitionLabel(chunks)).toBe(0)
  }
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

export function bytes(...values: readonly number[]): Uint8Array {
  return Uint8Array.from(values)
}

/** Expected `element-start` event. `size` `undefined` is the unknown size. */
export function start(
  id: number,
  offset: number,
  headerSize: number,
  size: number | undefined,
  depth: number,
) {
  return { type: 'element-start', id, offset, headerSize, size, depth } satisfies Comparable
}

/** Expected `element` event; `data` in hex (its length is `size` unless `size` is given). */
export function leaf(
  id: number,
  offset: number,
  headerSize: number,
  data: string,
  depth: number,
  size?: number,
) {
  return {
    type: 'element',
    id,
    offset,
    headerSize,
    size: size ?? data.length / 2,
    depth,
    data,
  } satisfies Comparable
}

/** Expected `element-end` event. */
export function end(id: number, offset: number, endOffset: number, depth: number, unknownSize = false) {
  return { type: 'element-end', id, offset, end: endOffset, depth, unknownSize } satisfies Comparable
}

/** Calls `action` and returns what it threw (failing the test when it throws nothing). */
export function thrown(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  expect.fail('expected an error to be thrown')
}
