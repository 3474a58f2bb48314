import { fcPartition } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { StartCodeFinder, type StartCodeSearch } from '../src/start-codes.ts'

/** Positions of the 01 of every start code, by reading every byte (the reference). */
function reference(bytes: Uint8Array): number[] {
  const found: number[] = []
  let zeros = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 1 && zeros >= 2) found.push(i)
    zeros = bytes[i] === 0 ? zeros + 1 : 0
  }
  return found
}

/** Positions found by the finder over `chunks` (absolute), carrying zeros across chunks as the parser does. */
function findAll(chunks: readonly Uint8Array[], search: StartCodeSearch): number[] {
  const finder = new StartCodeFinder(search)
  const found: number[] = []
  let offset = 0
  let carry = 0
  for (const chunk of chunks) {
    finder.reset(chunk)
    let from = 0
    while (true) {
      const one = finder.find(from, from === 0 ? carry : 0)
      if (one < 0) break
      found.push(offset + one)
      from = one + 1
    }
    let end = chunk.length
    while (end > from && chunk[end - 1] === 0) end--
    carry = end === from ? (from === 0 ? carry : 0) + chunk.length - from : chunk.length - end
    offset += chunk.length
  }
  return found
}

/** Bytes rich in zeros, ones and start-code-like runs, at any alignment. */
const streamBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom([0, 0, 1], [0, 0, 0, 1], [0, 0, 3], [0, 1], [0], [1], [0, 0], [0, 0, 0, 0, 0, 1]),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 90 }),
    ),
    { maxLength: 40 },
  )
  .chain((pieces) =>
    fc.integer({ min: 0, max: 3 }).map((shift) => {
      // A view at an odd or even byte offset of its buffer: both alignments of the 16-bit view.
      const flat = pieces.flat()
      const buffer = new Uint8Array(flat.length + shift)
      buffer.set(flat, shift)
      return buffer.subarray(shift)
    }),
  )

const searches: StartCodeSearch[] = ['needle', 'words']

describe('StartCodeFinder', () => {
  for (const search of searches) {
    it(`finds every start code, and only those, in one chunk (${search} search)`, () => {
      fc.assert(
        fc.property(streamBytes, (bytes) => {
          expect(findAll([bytes], search)).toEqual(reference(bytes))
        }),
        { numRuns: 500 },
      )
    })

    it(`finds start codes split across chunks, with zeros carried (${search} search)`, () => {
      fc.assert(
        fc.property(
          streamBytes.chain((bytes) => fc.tuple(fc.constant(bytes), fcPartition(bytes, { maxChunks: 12 }))),
          ([bytes, chunks]) => {
            expect(findAll(chunks, search)).toEqual(reference(bytes))
          },
        ),
        { numRuns: 500 },
      )
    })
  }

  it('finds a start code at every position of a long chunk, at both alignments', () => {
    for (const shift of [0, 1]) {
      const buffer = new Uint8Array(300 + shift).fill(0x55)
      const bytes = buffer.subarray(shift)
      for (let at = 0; at + 3 <= bytes.length; at++) {
        bytes.fill(0x55)
        bytes.set([0, 0, 1], at)
        for (const search of searches)
          expect(findAll([bytes], search), `${search} at ${at}`).toEqual([at + 2])
      }
    }
  })
})
