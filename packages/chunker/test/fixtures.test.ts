import { fcPartition, partitionLabel, readFixture, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkerError } from '../src/index.ts'
import { chunkAll, describeRun, fragmentBytes, fragments, headers, sameBytes, violations } from './helpers.ts'

/**
 * What the chunker must find in each fixture (emit mode). Timecodes, block counts and key frames agree with
 * `mkvinfo -v` (see fixtures/generated/EXPECTED.md and differential.test.ts); offsets and lengths are the
 * Cluster's (plus the Tags after it) in the file.
 */
interface FixtureCase {
  file: string
  headerBytes: number[]
  timecodes: number[]
  offsets: number[]
  byteLengths: number[]
  blockCounts: number[]
  keyframes: boolean[]
  tracks: number[]
  /** `kind:fragmentIndex` of each violation, in emit mode. */
  violations: string[]
}

const all = (count: number, value: boolean) => Array.from({ length: count }, () => value)

const fixtureCases: FixtureCase[] = [
  {
    file: 'kvs-getmedia/clusters.mkv',
    headerBytes: [471],
    timecodes: [0, 1999, 3999, 5998, 7998, 9998, 11997, 13997],
    offsets: [694, 149776, 313384, 494551, 662071, 812436, 957026, 1093043],
    byteLengths: [149082, 163608, 181167, 167520, 150365, 144590, 136017, 102889],
    blockCounts: [59, 59, 59, 59, 59, 59, 59, 31],
    keyframes: all(8, true),
    tracks: [1],
    violations: [],
  },
  {
    file: 'kvs-getmedia/vogels_330.mkv',
    headerBytes: [505],
    timecodes: [0, 2155, 7147, 9792, 14784, 17131, 22123, 25024, 28821],
    offsets: [728, 74515, 392695, 576860, 897811, 1014817, 1286098, 1410998, 1570772],
    byteLengths: [73787, 318180, 184165, 320951, 117006, 271281, 124900, 159774, 72965],
    blockCounts: [166, 384, 203, 384, 180, 384, 222, 292, 119],
    // mkvinfo: the first video SimpleBlock of Clusters 2, 4 and 6 has no key flag.
    keyframes: [true, true, false, true, false, true, false, true, true],
    tracks: [1, 2],
    violations: ['not-keyframe-start:2', 'not-keyframe-start:4', 'not-keyframe-start:6'],
  },
  {
    file: 'webm/5s.webm',
    headerBytes: [808],
    timecodes: [0, 4260],
    offsets: [1037, 157629],
    byteLengths: [156592, 47131],
    blockCounts: [341, 60],
    keyframes: [true, true],
    tracks: [1, 2],
    violations: [],
  },
  {
    // 10 GetMedia documents: each fragment runs from its unknown-size Cluster to the end of its document,
    // taking the producer and AWS Tags after the blocks.
    file: 'kvs-getmedia/test_mixed_tags.mkv',
    headerBytes: [921, 541, 542, 542, 542, 542, 542, 542, 542, 542],
    timecodes: [0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000],
    offsets: [921, 3159, 5398, 7637, 9876, 12115, 14354, 16593, 18832, 21071],
    byteLengths: Array.from({ length: 10 }, () => 1697),
    blockCounts: Array.from({ length: 10 }, () => 10),
    keyframes: all(10, true),
    tracks: [1],
    violations: Array.from({ length: 9 }, () => 'second-segment:undefined'),
  },
  {
    file: 'kvs-getmedia/output_get_media.mkv',
    headerBytes: [930, 930, 930, 930, 930],
    timecodes: [0, 2000, 4000, 6000, 8000],
    offsets: [1159, 549084, 1041598, 1524532, 2013738],
    byteLengths: [546766, 491355, 481775, 488047, 489465],
    blockCounts: [60, 60, 60, 60, 60],
    keyframes: all(5, true),
    tracks: [1],
    violations: Array.from({ length: 4 }, () => 'second-segment:undefined'),
  },
  {
    file: 'kvs-getmedia/kinesis_video_renderer_example_output.mkv',
    headerBytes: Array.from({ length: 8 }, () => 544),
    timecodes: [0, 1999, 3999, 5998, 7998, 9998, 11997, 13997],
    offsets: [767, 150789, 315337, 497444, 665904, 817209, 962739, 1099696],
    byteLengths: [149255, 163781, 181340, 167693, 150538, 144763, 136190, 102889],
    blockCounts: [59, 59, 59, 59, 59, 59, 59, 31],
    keyframes: all(8, true),
    tracks: [1],
    violations: Array.from({ length: 7 }, () => 'second-segment:undefined'),
  },
  {
    file: 'kvs-getmedia/empty-mkv-with-tags.mkv',
    headerBytes: [559],
    timecodes: [],
    offsets: [],
    byteLengths: [],
    blockCounts: [],
    keyframes: [],
    tracks: [],
    violations: [],
  },
  {
    file: 'kvs-getmedia/test_tags_empty_cluster.mkv',
    headerBytes: [433],
    timecodes: [],
    offsets: [],
    byteLengths: [],
    blockCounts: [],
    keyframes: [],
    tracks: [],
    violations: [],
  },
  {
    // ffmpeg writes one audio packet older than the previous cluster's latest (B-frame) video frame first
    // in Clusters 1–3: KVS answers 4004 to that.
    file: 'generated/ffmpeg-h264-aac.mkv',
    headerBytes: [475],
    timecodes: [21, 938, 1920, 2922],
    offsets: [636, 47178, 94296, 145106],
    byteLengths: [46542, 47118, 50810, 54391],
    blockCounts: [69, 71, 72, 77],
    keyframes: all(4, true),
    tracks: [1, 2],
    violations: ['timecode-not-increasing:1', 'timecode-not-increasing:2', 'timecode-not-increasing:3'],
  },
  {
    file: 'generated/gst-streamable.mkv',
    headerBytes: [472],
    timecodes: [0, 1000, 2000, 3000],
    offsets: [472, 75709, 136427, 199213],
    byteLengths: [75237, 60718, 62786, 59774],
    blockCounts: [69, 71, 72, 76],
    keyframes: all(4, true),
    tracks: [1, 2],
    violations: [],
  },
  {
    file: 'generated/mkvmerge-blockgroups.mkv',
    headerBytes: [374],
    timecodes: [0, 1021, 2021, 3021],
    offsets: [5610, 53152, 100494, 151246],
    byteLengths: [47542, 47342, 50752, 52941],
    blockCounts: [31, 31, 31, 31],
    keyframes: all(4, true),
    tracks: [1, 2],
    violations: [],
  },
  {
    file: 'generated/h264-only.mkv',
    headerBytes: [315],
    timecodes: [0, 1000, 2000],
    offsets: [476, 39814, 76700],
    byteLengths: [39338, 36886, 42774],
    blockCounts: [25, 25, 25],
    keyframes: all(3, true),
    tracks: [1],
    violations: [],
  },
]

describe.each(fixtureCases)('$file', (fixture) => {
  const bytes = readFixture(...fixture.file.split('/'))
  const run = chunkAll([bytes], { onViolation: 'emit' })

  it('gives the header and fragments mkvinfo shows', () => {
    expect(run.error).toBeUndefined()
    const got = fragments(run.events)
    expect(headers(run.events).map((header) => header.bytes.length)).toEqual(fixture.headerBytes)
    expect(got.map((fragment) => fragment.index)).toEqual(got.map((_, index) => index))
    expect(got.map((fragment) => fragment.timecode)).toEqual(fixture.timecodes)
    expect(got.map((fragment) => fragment.offset)).toEqual(fixture.offsets)
    expect(got.map((fragment) => fragment.byteLength)).toEqual(fixture.byteLengths)
    expect(got.map((fragment) => fragment.blockCount)).toEqual(fixture.blockCounts)
    expect(got.map((fragment) => fragment.keyframe)).toEqual(fixture.keyframes)
    for (const fragment of got) expect(fragment.tracks).toEqual(fixture.tracks)
    expect(violations(run.events).map((violation) => `${violation.kind}:${violation.fragmentIndex}`)).toEqual(
      fixture.violations,
    )
  })

  it('gives fragment bytes equal to the input range they cover', () => {
    for (const fragment of fragments(run.events)) {
      const range = bytes.subarray(fragment.offset, fragment.offset + fragment.byteLength)
      expect(sameBytes(fragmentBytes(fragment.parts), range), `fragment ${fragment.index}`).toBe(true)
    }
  })

  it('gives the same events split at sampled offsets, one byte at a time and in random partitions', () => {
    const want = describeRun(run, { hash: true })
    for (const chunks of splits(bytes, { maxOffsets: 24, randomPartitions: 1 })) {
      expect(
        describeRun(chunkAll(chunks, { onViolation: 'emit' }), { hash: true }),
        partitionLabel(chunks),
      ).toEqual(want)
    }
  })

  it('gives the same events for any partition (property)', () => {
    const want = describeRun(run, { hash: true })
    fc.assert(
      fc.property(fcPartition(bytes, { maxChunks: 200, emptyChunks: true }), (chunks) => {
        expect(describeRun(chunkAll(chunks, { onViolation: 'emit' }), { hash: true })).toEqual(want)
      }),
      { numRuns: 8 },
    )
  })
})

describe('exact expectations', () => {
  it('clusters.mkv gives 8 fragments with timecodes 0 … 13997 and durations through TimecodeScale', () => {
    const { events } = chunkAll([readFixture('kvs-getmedia', 'clusters.mkv')])
    const [header] = headers(events)
    expect(header).toMatchObject({
      timecodeScale: 1_000_000,
      tracks: [{ number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC', defaultDurationNs: 33_333_333 }],
    })
    const got = fragments(events)
    expect(got).toHaveLength(8)
    expect(got.map((fragment) => fragment.timecode)).toEqual([0, 1999, 3999, 5998, 7998, 9998, 11997, 13997])
    expect(got.map((fragment) => fragment.startMs)).toEqual([0, 1999, 3999, 5998, 7998, 9998, 11997, 13997])
    // The last frame starts 1921 ms into the first Cluster and lasts DefaultDuration 33.333333 ms.
    expect(got[0]!.endMs).toBeCloseTo(1954.333333, 6)
    expect(got[0]!.durationMs).toBeCloseTo(1954.333333, 6)
    expect(got[7]!.endMs).toBeCloseTo(15018.333333, 6)
  })

  it('vogels_330.mkv throws by default at fragment 2, whose first video frame is not a key frame', () => {
    const { events, error } = chunkAll([readFixture('kvs-getmedia', 'vogels_330.mkv')])
    expect(ChunkerError.is(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'ERR_KVS_CHUNKER_VIOLATION',
      errorId: undefined,
      violation: { kind: 'not-keyframe-start', fragmentIndex: 2, offset: 392695 },
    })
    expect(events.map((event) => event.type)).toEqual(['header', 'fragment', 'fragment'])
  })

  it('vogels_330.mkv gives 9 fragments on tracks 1 and 2 with requireKeyframe: false', () => {
    const { events, error } = chunkAll([readFixture('kvs-getmedia', 'vogels_330.mkv')], {
      requireKeyframe: false,
    })
    expect(error).toBeUndefined()
    expect(violations(events)).toEqual([])
    expect(headers(events)[0]!.tracks.map((track) => [track.number, track.type, track.codecId])).toEqual([
      [1, 1, 'V_MPEG4/ISO/AVC'],
      [2, 2, 'A_AAC'],
    ])
    expect(fragments(events).map((fragment) => fragment.tracks)).toEqual(
      Array.from({ length: 9 }, () => [1, 2]),
    )
  })

  it('test_mixed_tags.mkv (10 GetMedia documents) throws 4006 at the second EBML header by default', () => {
    const { events, error } = chunkAll([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')])
    expect(error).toMatchObject({ code: 'ERR_KVS_CHUNKER_VIOLATION', errorId: 4006, offset: 2618 })
    expect(events.map((event) => event.type)).toEqual(['header', 'fragment'])
  })

  it('test_mixed_tags.mkv in emit mode gives a violation and then a fresh header before each later document', () => {
    const { events } = chunkAll([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')], { onViolation: 'emit' })
    const types = events.map((event) => event.type)
    expect(types.slice(0, 2)).toEqual(['header', 'fragment'])
    for (let document = 1; document < 10; document++) {
      expect(types.slice(2 + (document - 1) * 3, 2 + document * 3)).toEqual([
        'violation',
        'header',
        'fragment',
      ])
    }
  })

  it('5s.webm gives 2 fragments, the second with the one BlockGroup (60 blocks)', () => {
    const { events, error } = chunkAll([readFixture('webm', '5s.webm')])
    expect(error).toBeUndefined()
    expect(headers(events)[0]!.tracks.map((track) => track.codecId)).toEqual(['V_VP9', 'A_OPUS'])
    expect(fragments(events).map((fragment) => [fragment.timecode, fragment.blockCount])).toEqual([
      [0, 341],
      [4260, 60],
    ])
  })

  it('gst-streamable.mkv (unknown-size Segment and Clusters) passes the default checks', () => {
    const { events, error } = chunkAll([readFixture('generated', 'gst-streamable.mkv')])
    expect(error).toBeUndefined()
    expect(fragments(events)).toHaveLength(4)
  })

  it('rewrites a known-size Segment to the unknown size in the header', () => {
    const bytes = readFixture('kvs-getmedia', 'vogels_330.mkv')
    const [header] = headers(chunkAll([bytes], { requireKeyframe: false }).events)
    const segment = bytes.indexOf(0x18)
    // The file's Segment has a size (1643784); the header's is 01 FF FF FF FF FF FF FF.
    expect([...bytes.subarray(segment, segment + 4)]).toEqual([0x18, 0x53, 0x80, 0x67])
    expect(bytes.subarray(segment + 4, segment + 12)).not.toEqual(
      Uint8Array.of(1, 255, 255, 255, 255, 255, 255, 255),
    )
    expect([...header!.bytes.subarray(segment, segment + 12)]).toEqual([
      0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ])
    expect(header!.bytes.subarray(0, segment)).toEqual(bytes.subarray(0, segment))
  })
})
