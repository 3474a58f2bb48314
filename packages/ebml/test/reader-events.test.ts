import { describe, expect, it } from 'vitest'
import {
  ElementId,
  encodeId,
  writeElement,
  writeSimpleBlock,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '../src/index.ts'
import {
  bytes,
  type Comparable,
  concat,
  end,
  expectEventsForEveryPartition,
  hex,
  leaf,
  start,
} from './helpers.ts'

const { EBML, DocType, Segment, Cluster, Timecode, SimpleBlock, Tags, Cues, Void, CRC32 } = ElementId

// Building blocks, with their lengths in bytes. Offsets in the expected events below are written out by hand.
const ebmlHeader = writeElement(EBML, writeString(DocType, 'webm')) // 12: 1a45dfa3 87 | 4282 84 7765626d
const segmentStart = writeUnknownSizeStart(Segment) // 5: 18538067 ff
const clusterStart = writeUnknownSizeStart(Cluster) // 5: 1f43b675 ff
const timecode0 = writeUint(Timecode, 0) // 3: e7 81 00
const block = writeSimpleBlock({ track: 1, timecode: 0, keyframe: true, data: bytes(0xab) }) // 7: a3 85 81000080ab
const emptyTags = writeElement(Tags, []) // 5: 1254c367 80
const emptyCues = writeElement(Cues, []) // 5: 1c53bb6b 80
const void1 = writeElement(Void, bytes(0)) // 3: ec 81 00
const crc = writeElement(CRC32, bytes(1, 2, 3, 4)) // 6: bf 84 01020304
const blockData = '81000080ab'
const webm = '7765626d'

function headerEvents(offset: number): Comparable[] {
  return [
    start(EBML, offset, 5, 7, 0),
    leaf(DocType, offset + 5, 3, webm, 1),
    end(EBML, offset, offset + 12, 0),
  ]
}

describe('building blocks', () => {
  it('are the bytes the expected events below assume', () => {
    expect(hex(ebmlHeader)).toBe('1a45dfa3874282847765626d')
    expect(hex(segmentStart)).toBe('18538067ff')
    expect(hex(clusterStart)).toBe('1f43b675ff')
    expect(hex(timecode0)).toBe('e78100')
    expect(hex(block)).toBe('a38581000080ab')
    expect(hex(emptyTags)).toBe('1254c36780')
    expect(hex(emptyCues)).toBe('1c53bb6b80')
    expect(hex(void1)).toBe('ec8100')
    expect(hex(crc)).toBe('bf8401020304')
  })
})

describe('element ids', () => {
  const cases: [width: number, id: number, idBytes: string][] = [
    [1, 0xec, 'ec'],
    [2, 0x4286, '4286'],
    [3, 0x2ad7b1, '2ad7b1'],
    [4, 0x10abcdef, '10abcdef'],
    [5, 0x08abcdef01, '08abcdef01'],
    [6, 0x04abcdef0123, '04abcdef0123'],
    [7, 0x02abcdef012345, '02abcdef012345'],
    // 8-byte ids above 2^53 are exact numbers only when their low bits are zero (see README).
    [8, 0x01abcdef01234500, '01abcdef01234500'],
  ]
  it.each(cases)('reads a %i-byte id with maxIdLength 8', (width, id, idBytes) => {
    expect(hex(encodeId(id))).toBe(idBytes)
    const input = Buffer.from(`${idBytes}81aa`, 'hex')
    expectEventsForEveryPartition(new Uint8Array(input), [leaf(id, 0, width + 1, 'aa', 0)], {
      maxIdLength: 8,
    })
  })
})

describe('element sizes', () => {
  const cases: [width: number, sizeField: string][] = [
    [1, '83'],
    [2, '4003'],
    [3, '200003'],
    [4, '10000003'],
    [5, '0800000003'],
    [6, '040000000003'],
    [7, '02000000000003'],
    [8, '0100000000000003'],
  ]
  it.each(cases)('reads a %i-byte size field', (width, sizeField) => {
    const input = new Uint8Array(Buffer.from(`ec${sizeField}010203`, 'hex'))
    expectEventsForEveryPartition(input, [leaf(Void, 0, 1 + width, '010203', 0)])
  })

  const unknown: [width: number, sizeField: string][] = [
    [1, 'ff'],
    [2, '7fff'],
    [3, '3fffff'],
    [4, '1fffffff'],
    [5, '0fffffffff'],
    [6, '07ffffffffff'],
    [7, '03ffffffffffff'],
    [8, '01ffffffffffffff'],
  ]
  it.each(unknown)('reads the %i-byte reserved unknown size of a master', (width, sizeField) => {
    const input = new Uint8Array(Buffer.from(`18538067${sizeField}ec80`, 'hex'))
    expect(hex(writeUnknownSizeStart(Segment, width))).toBe(`18538067${sizeField}`)
    expectEventsForEveryPartition(input, [
      start(Segment, 0, 4 + width, undefined, 0),
      leaf(Void, 4 + width, 2, '', 1),
      end(Segment, 0, 6 + width, 0, true),
    ])
  })
})

describe('unknown-size masters', () => {
  const cases: [name: string, input: Uint8Array, expected: Comparable[]][] = [
    [
      'an unknown-size Segment ends where a new EBML header starts',
      concat(ebmlHeader, segmentStart, void1, ebmlHeader, segmentStart, void1),
      [
        ...headerEvents(0),
        start(Segment, 12, 5, undefined, 0),
        leaf(Void, 17, 2, '00', 1),
        end(Segment, 12, 20, 0, true),
        ...headerEvents(20),
        start(Segment, 32, 5, undefined, 0),
        leaf(Void, 37, 2, '00', 1),
        end(Segment, 32, 40, 0, true),
      ],
    ],
    [
      'an unknown-size Cluster ends where the next Cluster starts',
      concat(segmentStart, clusterStart, timecode0, block, clusterStart, timecode0),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(Timecode, 10, 2, '00', 2),
        leaf(SimpleBlock, 13, 2, blockData, 2),
        end(Cluster, 5, 20, 1, true),
        start(Cluster, 20, 5, undefined, 1),
        leaf(Timecode, 25, 2, '00', 2),
        end(Cluster, 20, 28, 1, true),
        end(Segment, 0, 28, 0, true),
      ],
    ],
    [
      'an unknown-size Cluster ends where Tags start',
      concat(segmentStart, clusterStart, block, emptyTags),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(SimpleBlock, 10, 2, blockData, 2),
        end(Cluster, 5, 17, 1, true),
        start(Tags, 17, 5, 0, 1),
        end(Tags, 17, 22, 1),
        end(Segment, 0, 22, 0, true),
      ],
    ],
    [
      'an unknown-size Cluster ends where Cues start',
      concat(segmentStart, clusterStart, block, emptyCues),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(SimpleBlock, 10, 2, blockData, 2),
        end(Cluster, 5, 17, 1, true),
        start(Cues, 17, 5, 0, 1),
        end(Cues, 17, 22, 1),
        end(Segment, 0, 22, 0, true),
      ],
    ],
    [
      'an unknown-size Cluster and Segment both end where an EBML header starts',
      concat(segmentStart, clusterStart, block, ebmlHeader),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(SimpleBlock, 10, 2, blockData, 2),
        end(Cluster, 5, 17, 1, true),
        end(Segment, 0, 17, 0, true),
        ...headerEvents(17),
      ],
    ],
    [
      'an unknown-size Cluster ends with its known-size parent Segment',
      concat(writeElement(Segment, [clusterStart, block]), ebmlHeader),
      [
        start(Segment, 0, 5, 12, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(SimpleBlock, 10, 2, blockData, 2),
        end(Cluster, 5, 17, 1, true),
        end(Segment, 0, 17, 0),
        ...headerEvents(17),
      ],
    ],
    [
      'an empty unknown-size Cluster whose header fills its known-size parent ends with it',
      concat(writeElement(Segment, clusterStart), void1),
      [
        start(Segment, 0, 5, 5, 0),
        start(Cluster, 5, 5, undefined, 1),
        end(Cluster, 5, 10, 1, true),
        end(Segment, 0, 10, 0),
        leaf(Void, 10, 2, '00', 0),
      ],
    ],
    [
      'Void and CRC-32 inside an unknown-size Cluster stay its children',
      concat(segmentStart, clusterStart, crc, void1, block),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(CRC32, 10, 2, '01020304', 2),
        leaf(Void, 16, 2, '00', 2),
        leaf(SimpleBlock, 19, 2, blockData, 2),
        end(Cluster, 5, 26, 1, true),
        end(Segment, 0, 26, 0, true),
      ],
    ],
    [
      'elements of unknown ids inside an unknown-size Cluster stay its children',
      concat(
        segmentStart,
        clusterStart,
        bytes(0x5a, 0x5a, 0x81, 0x07),
        bytes(0x10, 0xab, 0xcd, 0xef, 0x80),
        block,
      ),
      [
        start(Segment, 0, 5, undefined, 0),
        start(Cluster, 5, 5, undefined, 1),
        leaf(0x5a5a, 10, 3, '07', 2),
        leaf(0x10abcdef, 14, 5, '', 2),
        leaf(SimpleBlock, 19, 2, blockData, 2),
        end(Cluster, 5, 26, 1, true),
        end(Segment, 0, 26, 0, true),
      ],
    ],
  ]
  it.each(cases)('%s', (_name, input, expected) => {
    expectEventsForEveryPartition(input, expected)
  })
})

describe('known-size and zero-size masters', () => {
  const cases: [name: string, input: Uint8Array, expected: Comparable[]][] = [
    [
      'a zero-size Segment starts and ends at once',
      concat(writeElement(Segment, []), void1),
      [start(Segment, 0, 5, 0, 0), end(Segment, 0, 5, 0), leaf(Void, 5, 2, '00', 0)],
    ],
    [
      'a zero-size Cluster that is the last child closes its parent too',
      writeElement(Segment, [block, writeElement(Cluster, [])]),
      [
        start(Segment, 0, 5, 12, 0),
        leaf(SimpleBlock, 5, 2, blockData, 1),
        start(Cluster, 12, 5, 0, 1),
        end(Cluster, 12, 17, 1),
        end(Segment, 0, 17, 0),
      ],
    ],
    [
      'nested known-size masters that end together close innermost first',
      writeElement(Segment, writeElement(Cluster, block)),
      [
        start(Segment, 0, 5, 12, 0),
        start(Cluster, 5, 5, 7, 1),
        leaf(SimpleBlock, 10, 2, blockData, 2),
        end(Cluster, 5, 17, 1),
        end(Segment, 0, 17, 0),
      ],
    ],
    ['a zero-size leaf has empty data', bytes(0xec, 0x80), [leaf(Void, 0, 2, '', 0)]],
    ['empty input gives no events', new Uint8Array(0), []],
  ]
  it.each(cases)('%s', (_name, input, expected) => {
    expectEventsForEveryPartition(input, expected)
  })
})
