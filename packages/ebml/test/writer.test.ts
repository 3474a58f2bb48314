import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mkvinfoSummary, run } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  type EbmlElement,
  ElementId,
  encodeId,
  encodeVint,
  readBlockHeader,
  readFloat,
  readString,
  readUint,
  type SimpleBlockInput,
  writeEbmlHeader,
  writeElement,
  writeFloat,
  writeSimpleBlock,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '../src/index.ts'
import { bytes, comparable, concat, hex, readAll } from './helpers.ts'

const E = ElementId

const leaves = (input: Uint8Array) =>
  readAll([input]).filter((event): event is EbmlElement => event.type === 'element')

describe('encodeVint and encodeId', () => {
  it.each([
    [0, '80'],
    [1, '81'],
    [126, 'fe'],
    [127, '407f'],
    [16382, '7ffe'],
    [16383, '203fff'],
    [2 ** 21 - 2, '3ffffe'],
    [2 ** 53 - 1, '011fffffffffffff'],
  ])('encodes %d at its smallest width as %s', (value, expected) => {
    expect(hex(encodeVint(value))).toBe(expected)
  })

  it('encodes at a requested width', () => {
    expect(hex(encodeVint(3, 8))).toBe('0100000000000003')
    expect(hex(encodeVint(126, 1))).toBe('fe')
    expect(hex(encodeVint(127, 2))).toBe('407f')
  })

  it.each([
    [127, 1, 'value 127 does not fit a 1-byte vint'],
    [16383, 2, 'value 16383 does not fit a 2-byte vint'],
    [1, 0, 'width must be an integer from 1 to 8, got 0'],
    [1, 9, 'width must be an integer from 1 to 8, got 9'],
    [-1, undefined, 'value must be a non-negative safe integer, got -1'],
    [1.5, undefined, 'value must be a non-negative safe integer, got 1.5'],
    [2 ** 53, undefined, 'value must be a non-negative safe integer, got 9007199254740992'],
  ])('rejects %d at width %s: the all-ones value is the unknown size', (value, width, message) => {
    expect(() => encodeVint(value, width)).toThrow(new RangeError(message))
  })

  it('writes ids with their marker bits', () => {
    expect(hex(encodeId(E.EBML))).toBe('1a45dfa3')
    expect(hex(encodeId(E.Timecode))).toBe('e7')
    expect(hex(encodeId(E.TimecodeScale))).toBe('2ad7b1')
  })
})

describe('writeElement', () => {
  it('joins payload parts after the id and size', () => {
    expect(hex(writeElement(E.Void, [bytes(1), bytes(2, 3), bytes()]))).toBe('ec83010203')
  })

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('writes a %i-byte size field that reads back', (sizeWidth) => {
    const element = writeElement(E.Void, bytes(9, 8, 7), { sizeWidth })
    expect(comparable(readAll([element]))).toEqual([
      {
        type: 'element',
        id: E.Void,
        offset: 0,
        headerSize: 1 + sizeWidth,
        size: 3,
        depth: 0,
        data: '090807',
      },
    ])
  })

  it('rejects a payload too large for the requested size width instead of writing the unknown size', () => {
    expect(hex(writeElement(E.Void, new Uint8Array(126), { sizeWidth: 1 })).slice(0, 4)).toBe('ecfe')
    expect(() => writeElement(E.Void, new Uint8Array(127), { sizeWidth: 1 })).toThrow(RangeError)
  })
})

describe('writeUint, writeFloat and writeString', () => {
  it.each([
    [0, 'e78100'],
    [255, 'e781ff'],
    [256, 'e7820100'],
    [2 ** 48, 'e78701000000000000'],
    [2 ** 50 + 1, 'e78704000000000001'],
    [Number.MAX_SAFE_INTEGER, 'e7871fffffffffffff'],
  ])('writes the unsigned integer %d at its smallest width', (value, expected) => {
    const element = writeUint(E.Timecode, value)
    expect(hex(element)).toBe(expected)
    expect(readUint(leaves(element)[0]!.data)).toBe(value)
  })

  it.each([-1, 0.5, 2 ** 53])('rejects %d as an unsigned integer', (value) => {
    expect(() => writeUint(E.Timecode, value)).toThrow(RangeError)
  })

  it('writes an 8-byte float', () => {
    const element = writeFloat(E.Duration, 1234.5)
    expect(element).toHaveLength(11)
    expect(readFloat(leaves(element)[0]!.data)).toBe(1234.5)
  })

  it('writes UTF-8 strings', () => {
    expect(readString(leaves(writeString(E.TagString, 'Größe ✓'))[0]!.data)).toBe('Größe ✓')
  })
})

describe('writeEbmlHeader', () => {
  it('writes a Matroska EBML header by default', () => {
    const header = writeEbmlHeader()
    const values = leaves(header).map((leaf) => [
      leaf.id,
      leaf.id === E.DocType ? readString(leaf.data) : readUint(leaf.data),
    ])
    expect(values).toEqual([
      [E.EBMLVersion, 1],
      [E.EBMLReadVersion, 1],
      [E.EBMLMaxIDLength, 4],
      [E.EBMLMaxSizeLength, 8],
      [E.DocType, 'matroska'],
      [E.DocTypeVersion, 4],
      [E.DocTypeReadVersion, 2],
    ])
    expect(readAll([header])[0]).toEqual({
      type: 'element-start',
      id: E.EBML,
      offset: 0,
      headerSize: 5,
      size: 35,
      depth: 0,
    })
  })

  it('writes the given DocType and versions', () => {
    const leafs = leaves(writeEbmlHeader({ docType: 'webm', docTypeVersion: 2, docTypeReadVersion: 1 }))
    expect(readString(leafs.find((leaf) => leaf.id === E.DocType)!.data)).toBe('webm')
    expect(readUint(leafs.find((leaf) => leaf.id === E.DocTypeVersion)!.data)).toBe(2)
    expect(readUint(leafs.find((leaf) => leaf.id === E.DocTypeReadVersion)!.data)).toBe(1)
  })
})

describe('writeSimpleTags', () => {
  it('writes Tags > Tag > SimpleTag > TagName + TagString with 4-byte sizes, as KVS does', () => {
    const tags = writeSimpleTags(
      [
        {
          name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
          value: '91343852333713038908964877623801423530396737899',
        },
        { name: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP', value: '0.000' },
      ],
      { sizeWidth: 4 },
    )
    const events = readAll([tags])
    expect(
      events
        .filter((event) => event.type !== 'element-end')
        .map((event) => [event.id, event.depth, event.headerSize]),
    ).toEqual([
      [E.Tags, 0, 8],
      [E.Tag, 1, 6],
      [E.SimpleTag, 2, 6],
      [E.TagName, 3, 6],
      [E.TagString, 3, 6],
      [E.SimpleTag, 2, 6],
      [E.TagName, 3, 6],
      [E.TagString, 3, 6],
    ])
    expect(leaves(tags).map((leaf) => readString(leaf.data))).toEqual([
      'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
      '91343852333713038908964877623801423530396737899',
      'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP',
      '0.000',
    ])
    expect(events.at(-1)).toMatchObject({ type: 'element-end', id: E.Tags, end: tags.length })
  })

  it('writes the smallest size fields by default', () => {
    const tags = writeSimpleTags([{ name: 'A', value: 'B' }])
    expect(hex(tags)).toBe('1254c3678e73738b67c88845a3814144878142')
  })
})

describe('writeSimpleBlock', () => {
  it.each<[Omit<SimpleBlockInput, 'data'>, string]>([
    [{ track: 1, timecode: 0, keyframe: true }, 'a key frame on track 1'],
    [{ track: 2, timecode: -32768, discardable: true }, 'the lowest timecode'],
    [{ track: 126, timecode: 32767, invisible: true }, 'the highest timecode'],
    [{ track: 200, timecode: -1 }, 'a 2-byte track number'],
  ])('writes %o (%s) that reads back', (input) => {
    const frame = bytes(0xde, 0xad, 0xbe, 0xef)
    const element = writeSimpleBlock({ ...input, data: frame })
    const [block] = leaves(element)
    const header = readBlockHeader(block!.data)!
    expect(header).toMatchObject({
      track: input.track,
      timecode: input.timecode,
      keyframe: input.keyframe ?? false,
      invisible: input.invisible ?? false,
      discardable: input.discardable ?? false,
      lacing: 'none',
      headerSize: input.track < 127 ? 4 : 5,
    })
    expect(hex(block!.data.subarray(header.headerSize))).toBe('deadbeef')
  })

  it.each([32768, -32769, 0.5])('rejects the timecode %d, which is not an int16', (timecode) => {
    expect(() => writeSimpleBlock({ track: 1, timecode, data: bytes() })).toThrow(
      new RangeError(`timecode must be an int16, got ${timecode}`),
    )
  })
})

describe('writeUnknownSizeStart', () => {
  it('writes an unknown-size Cluster start with a 1-byte size by default', () => {
    expect(hex(writeUnknownSizeStart(E.Cluster))).toBe('1f43b675ff')
    expect(hex(writeUnknownSizeStart(E.Cluster, 8))).toBe('1f43b67501ffffffffffffff')
  })

  it.each([0, 9, 1.5])('rejects the size width %d', (width) => {
    expect(() => writeUnknownSizeStart(E.Cluster, width)).toThrow(RangeError)
  })
})

describe('an MKV file assembled with the writer', () => {
  const mkv = concat(
    writeEbmlHeader(),
    writeUnknownSizeStart(E.Segment, 8),
    writeElement(E.Info, [
      writeUint(E.TimecodeScale, 1_000_000),
      writeString(E.MuxingApp, 'kvs-streams'),
      writeString(E.WritingApp, 'kvs-streams'),
    ]),
    writeElement(
      E.Tracks,
      writeElement(E.TrackEntry, [
        writeUint(E.TrackNumber, 1),
        writeUint(E.TrackUID, 2 ** 50 + 1),
        writeUint(E.TrackType, 1),
        writeString(E.CodecID, 'V_MS/VFW/FOURCC'),
        writeElement(E.Video, [writeUint(E.PixelWidth, 64), writeUint(E.PixelHeight, 48)]),
      ]),
    ),
    writeSimpleTags([{ name: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP', value: '0.000' }], { sizeWidth: 4 }),
    writeUnknownSizeStart(E.Cluster),
    writeUint(E.Timecode, 1000),
    writeSimpleBlock({ track: 1, timecode: 0, keyframe: true, data: new Uint8Array(10).fill(1) }),
    writeSimpleBlock({ track: 1, timecode: 40, data: new Uint8Array(10).fill(2) }),
    writeSimpleBlock({ track: 1, timecode: 80, data: new Uint8Array(10).fill(3) }),
  )

  it('reads back with one document, one unknown-size Cluster and three SimpleBlocks', () => {
    const events = readAll([mkv])
    const starts = events.filter((event) => event.type === 'element-start')
    expect(starts.filter((event) => event.id === E.Segment)).toMatchObject([
      { size: undefined, headerSize: 12 },
    ])
    expect(starts.filter((event) => event.id === E.Cluster)).toMatchObject([{ size: undefined, depth: 1 }])
    expect(leaves(mkv).filter((leaf) => leaf.id === E.SimpleBlock)).toHaveLength(3)
    expect(events.at(-1)).toMatchObject({
      type: 'element-end',
      id: E.Segment,
      end: mkv.length,
      unknownSize: true,
    })
  })

  it('is read by mkvinfo without errors or warnings', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'ebml-writer-'))
    try {
      const file = join(folder, 'written.mkv')
      await writeFile(file, mkv)
      const result = await run('mkvinfo', ['--ui-language', 'en_US', '-v', '-z', file])
      expect(result.code, result.stdout + result.stderr).toBe(0)
      expect(result.stdout + result.stderr).not.toMatch(/error|warning/i)
      const summary = await mkvinfoSummary(file)
      expect(summary).toMatchObject({
        segments: 1,
        segmentSizes: [null],
        timestampScale: 1_000_000,
        tracks: [{ number: 1, codecId: 'V_MS/VFW/FOURCC', type: 'video' }],
        clusters: 1,
        clusterTimecodes: [1000],
        clusterSizes: [null],
        simpleBlocks: 3,
        blockGroups: 0,
      })
      expect(summary.clusterDetails[0]!.blocks.map((block) => [block.key, block.timestampNs])).toEqual([
        [true, 1_000_000_000],
        [false, 1_040_000_000],
        [false, 1_080_000_000],
      ])
      expect(result.stdout).toContain('Track UID: 1125899906842625')
      expect(result.stdout).toContain('Name: AWS_KINESISVIDEO_PRODUCER_TIMESTAMP')
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
