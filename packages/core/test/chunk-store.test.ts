import { describe, expect, it } from 'vitest'
import { ChunkStore, concatBytes } from '../src/index.ts'
import { hex } from './helpers.ts'

/** A store holding bytes 0…9 of a stream as the chunks [0 1 2] [3] [4 5 6 7] [8 9]. */
function store(): { store: ChunkStore; chunks: Uint8Array[] } {
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i)
  const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 4), bytes.subarray(4, 8), bytes.subarray(8)]
  const result = new ChunkStore()
  for (const chunk of chunks) result.append(chunk)
  result.append(new Uint8Array(0))
  return { store: result, chunks }
}

describe('ChunkStore', () => {
  it('tracks the end offset and the bytes retained', () => {
    const { store: s } = store()
    expect(s.end).toBe(10)
    expect(s.retainedBytes).toBe(10)
  })

  it('hands out a range as views of the chunks it spans, without copying', () => {
    const { store: s, chunks } = store()
    const parts = s.slice(2, 9)
    expect(parts.map(hex)).toEqual(['02', '03', '04050607', '08'])
    expect(parts[1]).toBe(chunks[1])
    expect(parts.every((part) => part.buffer === chunks[0]!.buffer)).toBe(true)
    expect(s.slice(5, 5)).toEqual([])
  })

  it('copies a range as a view when it lies in one chunk and joins it once otherwise', () => {
    const { store: s, chunks } = store()
    const view = s.copy(4, 6)
    expect(hex(view)).toBe('0405')
    expect(view.buffer).toBe(chunks[2]!.buffer)
    expect(hex(s.copy(0, 10))).toBe('00010203040506070809')
  })

  it('releases whole chunks that end at or before an offset, and refuses ranges it no longer holds', () => {
    const { store: s } = store()
    s.release(5)
    expect(s.retainedBytes).toBe(6)
    expect(hex(s.copy(4, 10))).toBe('040506070809')
    expect(() => s.slice(3, 5)).toThrow(RangeError)
    expect(() => s.slice(8, 11)).toThrow(RangeError)
  })

  it('keeps working after releasing many chunks', () => {
    const s = new ChunkStore()
    for (let i = 0; i < 1000; i++) {
      s.append(Uint8Array.of(i & 0xff))
      s.release(i - 2)
    }
    expect(s.retainedBytes).toBe(3)
    expect(hex(s.copy(997, 1000))).toBe('e5e6e7')
  })
})

describe('concatBytes', () => {
  it('joins byte arrays into one new array', () => {
    const joined = concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])
    expect(hex(joined)).toBe('010203')
    expect(concatBytes([])).toHaveLength(0)
  })
})
