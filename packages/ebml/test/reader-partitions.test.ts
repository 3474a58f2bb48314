import { fcPartition, partitionLabel, readFixture, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EbmlEvent } from '../src/index.ts'
import { fixtureName, fixtures } from './fixture-facts.ts'
import { readAll } from './helpers.ts'

function sameEvent(a: EbmlEvent, b: EbmlEvent): boolean {
  if (a.type !== b.type || a.id !== b.id || a.offset !== b.offset || a.depth !== b.depth) return false
  if (a.type === 'element-end')
    return b.type === 'element-end' && a.end === b.end && a.unknownSize === b.unknownSize
  if (a.type === 'element-start')
    return b.type === 'element-start' && a.headerSize === b.headerSize && a.size === b.size
  return (
    b.type === 'element' &&
    a.headerSize === b.headerSize &&
    a.size === b.size &&
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(b.data)
  )
}

/** The first difference between two event lists, comparing `data` by bytes (a view equals a copy). */
function firstDifference(actual: readonly EbmlEvent[], expected: readonly EbmlEvent[]): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} events instead of ${expected.length}`
  for (let i = 0; i < actual.length; i++) {
    if (!sameEvent(actual[i]!, expected[i]!)) {
      const show = ({ data: _data, ...rest }: EbmlEvent & { data?: unknown }) => JSON.stringify(rest)
      return `event ${i}: ${show(actual[i]!)} instead of ${show(expected[i]!)}`
    }
  }
  return undefined
}

describe('any partition of a real recording', () => {
  it.each(fixtures.map((facts) => [fixtureName(facts), facts] as const))(
    'gives the same events: %s',
    (_name, facts) => {
      const bytes = readFixture(...facts.path)
      const expected = readAll([bytes])
      // Each run re-reads the whole file; the small files get more runs.
      const numRuns = bytes.length < 100_000 ? 40 : 4
      fc.assert(
        fc.property(fcPartition(bytes, { maxChunks: 200 }), (chunks) => {
          const difference = firstDifference(readAll(chunks), expected)
          expect(difference, partitionLabel(chunks)).toBeUndefined()
        }),
        { numRuns },
      )
    },
  )
})

describe('a small real recording', () => {
  it.each([
    ['kvs-getmedia', 'test_tags_empty_cluster.mkv'],
    ['kvs-getmedia', 'empty-mkv-with-tags.mkv'],
    ['kvs-getmedia', 'test_mixed_tags.mkv'],
  ] as const)('gives the same events split at every offset and one byte at a time: %s/%s', (folder, file) => {
    const bytes = readFixture(folder, file)
    const expected = readAll([bytes])
    for (const chunks of splits(bytes, { maxOffsets: 300 })) {
      expect(firstDifference(readAll(chunks), expected), partitionLabel(chunks)).toBeUndefined()
    }
  })
})
