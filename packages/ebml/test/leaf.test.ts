import { describe, expect, it } from 'vitest'
import {
  EbmlError,
  readBigUint,
  readBlockHeader,
  readBlockHeaderAt,
  readDate,
  readFloat,
  readInt,
  readString,
  readUint,
} from '../src/index.ts'
import { bytes, thrown } from './helpers.ts'

const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

function expectInvalidData(action: () => unknown): void {
  const error = thrown(action)
  expect(EbmlError.is(error)).toBe(true)
  expect((error as EbmlError).code).toBe('ERR_KVS_EBML_INVALID_DATA')
}

describe('readString', () => {
  it.each([
    ['6d6174726f736b61', 'matroska'],
    ['6d6174726f736b6100', 'matroska'],
    ['5f4d532f5646572f464f5552434300000000000000', '_MS/VFW/FOURCC'],
    ['61000062', 'a'],
    ['68c3a96c6c6f', 'héllo'],
    ['', ''],
    ['00', ''],
  ])('reads %s as %j, dropping NUL padding', (input, expected) => {
    expect(readString(fromHex(input))).toBe(expected)
  })
})

describe('readUint and readBigUint', () => {
  it.each([
    ['', 0],
    ['00', 0],
    ['ff', 255],
    ['0100', 256],
    ['0f4240', 1_000_000],
    ['001fffffffffffff', Number.MAX_SAFE_INTEGER],
  ])('reads %s as %d', (input, expected) => {
    expect(readUint(fromHex(input))).toBe(expected)
    expect(readBigUint(fromHex(input))).toBe(BigInt(expected))
  })

  it('reads 8-byte values above 2^53 exactly only as a bigint', () => {
    expect(readBigUint(fromHex('ffffffffffffffff'))).toBe(2n ** 64n - 1n)
    expect(readBigUint(fromHex('8215f0b4a43bd2f6'))).toBe(0x8215f0b4a43bd2f6n)
  })

  it('rejects more than 8 bytes', () => {
    expectInvalidData(() => readUint(new Uint8Array(9)))
    expectInvalidData(() => readBigUint(new Uint8Array(9)))
  })
})

describe('readInt', () => {
  it.each([
    ['', 0],
    ['7f', 127],
    ['ff', -1],
    ['80', -128],
    ['8000', -32768],
    ['fffffe', -2],
    ['00ff', 255],
    ['ffffffffffffffff', -1],
    ['fffffffffffffffe', -2],
    ['ffffffffffff85', -123],
    ['fff0000000000000', -(2 ** 52)],
    ['001fffffffffffff', Number.MAX_SAFE_INTEGER],
  ])('reads %s as %d', (input, expected) => {
    expect(readInt(fromHex(input))).toBe(expected)
  })

  it('rejects more than 8 bytes', () => {
    expectInvalidData(() => readInt(new Uint8Array(9)))
  })
})

describe('readFloat', () => {
  it('reads 0, 4 and 8 bytes', () => {
    expect(readFloat(new Uint8Array(0))).toBe(0)
    expect(readFloat(fromHex('3fc00000'))).toBe(1.5)
    expect(readFloat(fromHex('400921fb54442d18'))).toBe(Math.PI)
    expect(readFloat(fromHex('40b3880000000000'))).toBe(5000)
  })

  it('reads a float from a view at an odd offset', () => {
    expect(readFloat(fromHex('003fc00000').subarray(1))).toBe(1.5)
  })

  it('rejects other lengths', () => {
    expectInvalidData(() => readFloat(bytes(1, 2, 3)))
  })
})

describe('readDate', () => {
  it.each([
    ['', '2001-01-01T00:00:00.000Z'],
    ['0000000000000000', '2001-01-01T00:00:00.000Z'],
    ['00004e94914f0000', '2001-01-02T00:00:00.000Z'],
    ['ffffffffc4653600', '2000-12-31T23:59:59.000Z'],
    ['000000000001e240', '2001-01-01T00:00:00.000Z'],
    ['00000000000f4240', '2001-01-01T00:00:00.001Z'],
  ])('reads %s as %s (nanoseconds since 2001)', (input, expected) => {
    expect(readDate(fromHex(input)).toISOString()).toBe(expected)
  })

  it('rejects lengths other than 0 and 8', () => {
    expectInvalidData(() => readDate(bytes(1, 2, 3, 4)))
  })
})

describe('readBlockHeader', () => {
  it('reads track, timecode and flags of a key frame', () => {
    expect(readBlockHeader(fromHex('810000800102'))).toEqual({
      track: 1,
      timecode: 0,
      flags: 0x80,
      keyframe: true,
      invisible: false,
      discardable: false,
      lacing: 'none',
      headerSize: 4,
    })
  })

  it.each([
    ['ffff', -1],
    ['8000', -32768],
    ['7fff', 32767],
    ['01f4', 500],
  ])('reads the relative timecode %s as %d', (timecode, expected) => {
    expect(readBlockHeader(fromHex(`81${timecode}00`))?.timecode).toBe(expected)
  })

  it.each([
    ['00', 'none'],
    ['02', 'xiph'],
    ['04', 'fixed'],
    ['06', 'ebml'],
  ] as const)('reads lacing bits in flags %s as %s', (flags, lacing) => {
    expect(readBlockHeader(fromHex(`810000${flags}`))?.lacing).toBe(lacing)
  })

  it('reads the invisible and discardable flags', () => {
    const header = readBlockHeader(fromHex('81000009'))
    expect(header).toMatchObject({ keyframe: false, invisible: true, discardable: true, lacing: 'none' })
  })

  it('reads a 2-byte track number vint', () => {
    expect(readBlockHeader(fromHex('4081fffe80'))).toMatchObject({ track: 129, timecode: -2, headerSize: 5 })
    expect(readBlockHeader(fromHex('7ffe000080'))).toMatchObject({ track: 16382, headerSize: 5 })
  })

  it('never reports key frames or discardable for a Block (simpleBlock false)', () => {
    expect(readBlockHeader(fromHex('81000089'), false)).toMatchObject({
      keyframe: false,
      discardable: false,
      invisible: true,
    })
  })

  it('returns undefined when the header is cut short', () => {
    expect(readBlockHeader(new Uint8Array(0))).toBeUndefined()
    expect(readBlockHeader(fromHex('810000'))).toBeUndefined()
    expect(readBlockHeader(fromHex('40810000'))).toBeUndefined()
  })

  it('rejects a track number vint with a zero first byte', () => {
    expectInvalidData(() => readBlockHeader(fromHex('0000000000000000000000')))
  })
})

describe('readBlockHeaderAt', () => {
  const fields = () => ({ track: -1, timecode: -1, flags: -1 })

  it('reads the header in place, at an offset of a larger buffer, and returns its size', () => {
    // Two unrelated bytes, then a block payload: track 1, timecode -2, key frame flag, frame bytes.
    const data = fromHex('ffff81fffe80aabbcc')
    const into = fields()
    expect(readBlockHeaderAt(data, 2, 7, into)).toBe(4)
    expect(into).toEqual({ track: 1, timecode: -2, flags: 0x80 })
  })

  it('reads multi-byte track numbers (header of 5 bytes for a 2-byte vint)', () => {
    const into = fields()
    expect(readBlockHeaderAt(fromHex('4081000100'), 0, 5, into)).toBe(5)
    expect(into).toEqual({ track: 129, timecode: 1, flags: 0 })
  })

  it('returns 0, leaving the fields alone, when the payload is shorter than its header', () => {
    const into = fields()
    expect(readBlockHeaderAt(fromHex('81000080'), 0, 3, into)).toBe(0)
    expect(readBlockHeaderAt(fromHex('4081000080'), 0, 4, into)).toBe(0)
    expect(readBlockHeaderAt(fromHex('81000080'), 0, 0, into)).toBe(0)
    expect(into).toEqual(fields())
  })

  it('returns -1 for a track number vint whose first byte is 0', () => {
    expect(readBlockHeaderAt(fromHex('0000000000000000000000'), 0, 11, fields())).toBe(-1)
  })

  it('agrees with readBlockHeader on every 4-byte payload with a 1-byte track', () => {
    const into = fields()
    for (let flags = 0; flags < 256; flags += 17) {
      for (const timecode of ['0000', '7fff', '8000', 'ffff', '1234']) {
        const data = fromHex(`85${timecode}${flags.toString(16).padStart(2, '0')}`)
        const header = readBlockHeader(data)!
        expect(readBlockHeaderAt(data, 0, data.length, into)).toBe(header.headerSize)
        expect(into).toEqual({ track: header.track, timecode: header.timecode, flags: header.flags })
      }
    }
  })
})
