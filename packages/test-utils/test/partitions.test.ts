import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  concatBytes,
  fcPartition,
  oneByteAtATime,
  partitionLabel,
  readFixture,
  splitAt,
  splits,
} from '../src/index.ts'

// Faster than a deep toEqual on large typed arrays (which compares element by element).
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

const bytesOf = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff)

describe('splits', () => {
  it.each([0, 1, 2, 3, 37, 300])(
    'gives partitions of a %i-byte input that all reassemble to it',
    (length) => {
      const bytes = bytesOf(length)
      let count = 0
      for (const chunks of splits(bytes)) {
        expect(concatBytes(chunks), partitionLabel(chunks)).toEqual(bytes)
        count++
      }
      expect(count).toBeGreaterThan(0)
    },
  )

  it('yields the whole input, each split offset, one byte at a time, then the random partitions', () => {
    const bytes = bytesOf(5)
    const all = [...splits(bytes, { randomPartitions: 2 })].map((chunks) =>
      chunks.map((chunk) => chunk.length),
    )
    expect(all.slice(0, 6)).toEqual([[5], [1, 4], [2, 3], [3, 2], [4, 1], [1, 1, 1, 1, 1]])
    expect(all).toHaveLength(8)
  })

  it('returns views of the input, never copies', () => {
    const bytes = bytesOf(64)
    for (const chunks of splits(bytes)) {
      for (const chunk of chunks) expect(chunk.buffer).toBe(bytes.buffer)
    }
  })

  it('spreads maxOffsets two-chunk splits evenly from the first to the last offset', () => {
    const bytes = bytesOf(1001)
    const twoChunk = [...splits(bytes, { maxOffsets: 11, oneByteAtATime: false, randomPartitions: 0 })].slice(
      1,
    )
    expect(twoChunk.map(([first]) => first!.length)).toEqual([
      1, 101, 201, 301, 401, 501, 600, 700, 800, 900, 1000,
    ])
  })

  it('gives the same random partitions for the same seed and different ones for another seed', () => {
    const bytes = bytesOf(2000)
    const random = (seed: number) =>
      [...splits(bytes, { seed, maxOffsets: 0, oneByteAtATime: false })].slice(1).map(partitionLabel)
    expect(random(7)).toEqual(random(7))
    expect(random(7)).not.toEqual(random(8))
  })

  it('puts empty chunks into random partitions only when asked', () => {
    const bytes = bytesOf(3000)
    const randomChunks = (emptyChunks: boolean) =>
      [...splits(bytes, { maxOffsets: 0, oneByteAtATime: false, randomPartitions: 8, emptyChunks })]
        .slice(1)
        .flat()
    expect(randomChunks(false).some((chunk) => chunk.length === 0)).toBe(false)
    expect(randomChunks(true).some((chunk) => chunk.length === 0)).toBe(true)
  })

  it('partitions a real fixture with bounded offsets', () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    for (const chunks of splits(bytes, { maxOffsets: 50 })) {
      expect(sameBytes(concatBytes(chunks), bytes), partitionLabel(chunks)).toBe(true)
    }
  })

  it('rejects a negative maxOffsets with a TypeError', () => {
    expect(() => [...splits(bytesOf(3), { maxOffsets: -1 })]).toThrow(TypeError)
  })
})

describe('oneByteAtATime and splitAt', () => {
  it('cuts one view per byte', () => {
    expect(oneByteAtATime(Uint8Array.of(1, 2, 3))).toEqual([
      Uint8Array.of(1),
      Uint8Array.of(2),
      Uint8Array.of(3),
    ])
  })

  it('cuts at the given offsets, with empty chunks for repeated or end offsets', () => {
    const parts = splitAt(Uint8Array.of(1, 2, 3, 4), [0, 2, 2, 4]).map((chunk) => [...chunk])
    expect(parts).toEqual([[], [1, 2], [], [3, 4], []])
  })

  it('rejects decreasing or out-of-range offsets with a TypeError', () => {
    expect(() => splitAt(bytesOf(4), [3, 1])).toThrow(/offsets must be non-decreasing integers in 0\.\.4/)
    expect(() => splitAt(bytesOf(4), [5])).toThrow(TypeError)
  })
})

describe('fcPartition', () => {
  it('produces partitions that reassemble to the input', () => {
    const bytes = bytesOf(500)
    fc.assert(
      fc.property(fcPartition(bytes), (chunks) => {
        expect(concatBytes(chunks)).toEqual(bytes)
        expect(chunks.every((chunk) => chunk.length > 0)).toBe(true)
      }),
    )
  })

  it('may produce empty chunks when asked, still reassembling to the input', () => {
    const bytes = bytesOf(20)
    fc.assert(
      fc.property(fcPartition(bytes, { emptyChunks: true }), (chunks) => concatBytes(chunks).length === 20),
    )
  })

  it('gives the single-chunk partition for inputs too short to cut', () => {
    fc.assert(fc.property(fcPartition(bytesOf(1)), (chunks) => chunks.length === 1))
  })

  it('respects maxChunks', () => {
    fc.assert(fc.property(fcPartition(bytesOf(100), { maxChunks: 3 }), (chunks) => chunks.length <= 3))
  })
})
