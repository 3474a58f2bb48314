import { describe, expect, it } from 'vitest'
import { createEbmlReader, type EbmlReaderOptions } from '../src/index.ts'
import { thrown } from './helpers.ts'

describe('createEbmlReader options', () => {
  it.each([
    [{ maxElementBytes: 0 }, 'maxElementBytes must be a positive integer, got 0'],
    [{ maxElementBytes: 1.5 }, 'maxElementBytes must be a positive integer, got 1.5'],
    [{ maxElementBytes: '5' }, 'maxElementBytes must be a positive integer, got "5"'],
    [{ maxElementSize: 0 }, 'maxElementSize must be a positive integer, got 0'],
    [
      { maxElementBytes: 2, maxElementSize: 3 },
      'maxElementSize must be absent or equal to maxElementBytes (it is a deprecated alias of maxElementBytes), got 3',
    ],
    [{ maxDepth: -1 }, 'maxDepth must be a positive integer, got -1'],
    [{ maxDepth: Number.NaN }, 'maxDepth must be a positive integer, got NaN'],
    [{ maxIdLength: 0 }, 'maxIdLength must be a positive integer, got 0'],
    [{ maxIdLength: 9 }, 'maxIdLength must be an integer from 1 to 8, got 9'],
    [{ headBytes: Number.POSITIVE_INFINITY }, 'headBytes must be a positive integer, got Infinity'],
    [{ dataMode: 'skip' }, 'dataMode must be a function, got "skip"'],
  ])('rejects %o with a TypeError', (options, message) => {
    const error = thrown(() => createEbmlReader(options as unknown as EbmlReaderOptions))
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(message)
  })

  it('accepts every option at its limits', () => {
    const reader = createEbmlReader({
      maxElementBytes: 1,
      maxDepth: 1,
      maxIdLength: 8,
      headBytes: 1,
      dataMode: () => 'head',
    })
    expect(reader.push(Uint8Array.of(0xec, 0x81, 0x00))).toHaveLength(1)
    expect(reader.offset).toBe(3)
  })

  it('applies maxElementBytes to the payload size, inclusive', () => {
    const reader = createEbmlReader({ maxElementBytes: 2 })
    expect(reader.push(Uint8Array.of(0xec, 0x82, 0x00, 0x00))).toHaveLength(1)
    expect(() => reader.push(Uint8Array.of(0xec, 0x83, 0x00, 0x00, 0x00))).toThrow(/maxElementBytes 2/)
  })

  it('still takes the deprecated maxElementSize as maxElementBytes', () => {
    const reader = createEbmlReader({ maxElementSize: 2 })
    expect(reader.push(Uint8Array.of(0xec, 0x82, 0x00, 0x00))).toHaveLength(1)
    expect(() => reader.push(Uint8Array.of(0xec, 0x83, 0x00, 0x00, 0x00))).toThrow(/maxElementBytes 2/)
    const same = createEbmlReader({ maxElementBytes: 2, maxElementSize: 2 })
    expect(() => same.push(Uint8Array.of(0xec, 0x83, 0x00, 0x00, 0x00))).toThrow(/maxElementBytes 2/)
  })
})
