import { describe, expect, it } from 'vitest'
import { BitReader, BitstreamOverrun, InvalidExpGolomb, unescapeRbsp } from '../src/bit-reader.ts'

describe('unescapeRbsp', () => {
  it('removes the 03 of every 00 00 03 and keeps other bytes', () => {
    expect([...unescapeRbsp(Uint8Array.of(0x67, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 3, 0, 0, 2))]).toEqual([
      0x67, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 2,
    ])
  })

  it('reads from an offset and stops after limit output bytes', () => {
    expect([...unescapeRbsp(Uint8Array.of(9, 0, 0, 3, 1, 2, 3), 1, 7, 3)]).toEqual([0, 0, 1])
  })
})

describe('BitReader', () => {
  it('reads fixed-width fields MSB first', () => {
    const reader = new BitReader(Uint8Array.of(0b1010_1100, 0xff, 0x01))
    expect(reader.bits(3)).toBe(0b101)
    expect(reader.flag()).toBe(false)
    expect(reader.bits(12)).toBe(0b1100_1111_1111)
    expect(reader.bitsLeft).toBe(8)
    expect(reader.bits(8)).toBe(1)
  })

  it('reads unsigned and signed Exp-Golomb codes', () => {
    // ue: 1 → 0, 010 → 1, 011 → 2, 00100 → 3; then se: 010 → 1, 011 → -1, 00100 → 2, 00101 → -2
    const reader = new BitReader(Uint8Array.of(0b1010_0110, 0b0100_0100, 0b1100_1000, 0b0101_0000))
    expect([reader.ue(), reader.ue(), reader.ue(), reader.ue()]).toEqual([0, 1, 2, 3])
    expect([reader.se(), reader.se(), reader.se(), reader.se()]).toEqual([1, -1, 2, -2])
  })

  it('reads a 32-bit Exp-Golomb code and refuses a wider one', () => {
    const widest = new BitReader(Uint8Array.of(0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe))
    expect(widest.ue()).toBe(2 ** 32 - 2)
    expect(() => new BitReader(new Uint8Array(8)).ue()).toThrow(InvalidExpGolomb)
  })

  it('throws BitstreamOverrun past the end of the data', () => {
    const reader = new BitReader(Uint8Array.of(0x00))
    expect(() => reader.bits(9)).toThrow(BitstreamOverrun)
    expect(() => reader.ue()).toThrow(BitstreamOverrun)
    expect(() => new BitReader(new Uint8Array(0)).skip(1)).toThrow(BitstreamOverrun)
  })
})
