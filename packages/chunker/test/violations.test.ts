import { concatBytes } from '@kvs-streams/core'
import { ElementId, writeEbmlHeader, writeElement } from '@kvs-streams/ebml'
import { fcPartition, partitionLabel, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkerError, type ClusterChunkerOptions, type ViolationKind } from '../src/index.ts'
import {
  AUDIO,
  buildMkv,
  chunkAll,
  describeRun,
  fragments,
  type MkvLayout,
  twoClusters,
  VIDEO,
  violations,
} from './helpers.ts'

interface ViolationCase {
  name: string
  layout: MkvLayout
  /** Options besides `onViolation`. */
  options?: ClusterChunkerOptions
  kind: ViolationKind
  errorId: number | undefined
  fragmentIndex: number | undefined
  offset: (layout: MkvLayout) => number
  /** Event types in emit mode; in throw mode, the events before the violation are delivered, then it throws. */
  emitted: string[]
}

const key = (timecode: number, track = 1) => ({ track, timecode, keyframe: true })
const delta = (timecode: number, track = 1) => ({ track, timecode })

const secondEbmlDocument = (() => {
  const first = twoClusters()
  const second = twoClusters()
  const bytes = concatBytes([first.bytes, second.bytes])
  return { ...first, bytes, secondStart: first.bytes.length }
})()

const secondSegment = (() => {
  // One EBML header, then two known-size Segments.
  const first = twoClusters({ segmentSize: 'known' })
  const segment = first.bytes.subarray(writeEbmlHeader().length)
  return { ...first, bytes: concatBytes([first.bytes, segment]), secondStart: first.bytes.length }
})()

const cases: ViolationCase[] = [
  {
    name: 'a fragment that does not start with a video key frame',
    layout: buildMkv({
      clusters: [
        { timecode: 0, blocks: [key(0), delta(40)] },
        { timecode: 80, blocks: [delta(0), key(40)] },
      ],
    }),
    kind: 'not-keyframe-start',
    errorId: undefined,
    fragmentIndex: 1,
    offset: (layout) => layout.clusters[1]!.start,
    emitted: ['header', 'fragment', 'violation', 'fragment'],
  },
  {
    name: 'a fragment whose first frame is before the previous fragment’s last frame (4004)',
    layout: buildMkv({
      clusters: [
        { timecode: 0, blocks: [key(0), delta(40)] },
        { timecode: 30, blocks: [key(0), delta(40)] },
      ],
    }),
    kind: 'timecode-not-increasing',
    errorId: 4004,
    fragmentIndex: 1,
    offset: (layout) => layout.clusters[1]!.start,
    emitted: ['header', 'fragment', 'violation', 'fragment'],
  },
  {
    name: 'a fragment whose first frame equals the previous fragment’s last frame (4004)',
    layout: buildMkv({
      clusters: [
        { timecode: 0, blocks: [key(0), delta(40)] },
        { timecode: 40, blocks: [key(0), delta(40)] },
      ],
    }),
    kind: 'timecode-not-increasing',
    errorId: 4004,
    fragmentIndex: 1,
    offset: (layout) => layout.clusters[1]!.start,
    emitted: ['header', 'fragment', 'violation', 'fragment'],
  },
  {
    name: 'a fragment longer than 10 s (4002)',
    layout: buildMkv({ clusters: [{ timecode: 0, blocks: [key(0), delta(5000), delta(11_000)] }] }),
    kind: 'duration-too-long',
    errorId: 4002,
    fragmentIndex: 0,
    offset: (layout) => layout.clusters[0]!.start,
    emitted: ['header', 'violation', 'fragment'],
  },
  {
    name: 'a fragment longer than a custom maxFragmentDurationMs (4002)',
    layout: buildMkv({ clusters: [{ timecode: 0, blocks: [key(0), delta(2500)] }] }),
    options: { maxFragmentDurationMs: 2000 },
    kind: 'duration-too-long',
    errorId: 4002,
    fragmentIndex: 0,
    offset: (layout) => layout.clusters[0]!.start,
    emitted: ['header', 'violation', 'fragment'],
  },
  {
    name: 'a fragment larger than maxFragmentBytes (4001)',
    layout: buildMkv({
      clusters: [
        { timecode: 0, blocks: [key(0)] },
        { timecode: 40, blocks: [{ ...key(0), size: 300 }] },
      ],
    }),
    options: { maxFragmentBytes: 200 },
    kind: 'size-too-large',
    errorId: 4001,
    fragmentIndex: 1,
    offset: (layout) => layout.clusters[1]!.start,
    emitted: ['header', 'fragment', 'violation', 'fragment'],
  },
  {
    name: 'a block of a track Tracks does not declare (4010)',
    layout: buildMkv({ clusters: [{ timecode: 0, blocks: [key(0), delta(10, 3)] }] }),
    kind: 'undeclared-track',
    errorId: 4010,
    fragmentIndex: 0,
    offset: (layout) => layout.clusters[0]!.start,
    emitted: ['header', 'violation', 'fragment'],
  },
  {
    name: 'more than 3 tracks (4012)',
    layout: buildMkv({
      tracks: [VIDEO, AUDIO, { number: 3, type: 2 }, { number: 4, type: 17, codecId: 'S_TEXT/UTF8' }],
      clusters: [{ timecode: 0, blocks: [key(0), key(0, 2), key(0, 3), key(0, 4)] }],
    }),
    kind: 'too-many-tracks',
    errorId: 4012,
    fragmentIndex: undefined,
    offset: () => 0,
    emitted: ['violation', 'header', 'fragment'],
  },
  {
    name: 'more tracks than a custom maxTracks (4012)',
    layout: buildMkv({ tracks: [VIDEO, AUDIO], clusters: [{ timecode: 0, blocks: [key(0), key(0, 2)] }] }),
    options: { maxTracks: 1 },
    kind: 'too-many-tracks',
    errorId: 4012,
    fragmentIndex: undefined,
    offset: () => 0,
    emitted: ['violation', 'header', 'fragment'],
  },
  {
    name: 'a declared track without a frame in a fragment (4011)',
    layout: buildMkv({
      tracks: [VIDEO, AUDIO],
      clusters: [
        { timecode: 0, blocks: [key(0), key(5, 2)] },
        { timecode: 100, blocks: [key(0), delta(40)] },
      ],
    }),
    kind: 'missing-track',
    errorId: 4011,
    fragmentIndex: 1,
    offset: (layout) => layout.clusters[1]!.start,
    emitted: ['header', 'fragment', 'violation', 'fragment'],
  },
  {
    name: 'a second EBML document in the stream (4006)',
    layout: secondEbmlDocument,
    kind: 'second-segment',
    errorId: 4006,
    fragmentIndex: undefined,
    offset: () => secondEbmlDocument.secondStart,
    emitted: ['header', 'fragment', 'fragment', 'violation', 'header', 'fragment', 'fragment'],
  },
  {
    name: 'a second Segment after the first (4006)',
    layout: secondSegment,
    kind: 'second-segment',
    errorId: 4006,
    fragmentIndex: undefined,
    offset: () => secondSegment.secondStart,
    emitted: ['header', 'fragment', 'fragment', 'violation', 'header', 'fragment', 'fragment'],
  },
]

describe.each(cases)('$name', ({ layout, options, kind, errorId, fragmentIndex, offset, emitted }) => {
  const violation = { kind, errorId, fragmentIndex, offset: offset(layout) }
  const before = emitted.slice(0, emitted.indexOf('violation'))

  it(`throws a ChunkerError (ERR_KVS_CHUNKER_VIOLATION, ${errorId ?? 'no ErrorId'}) with onViolation 'throw'`, () => {
    const { events, error } = chunkAll([layout.bytes], options)
    expect(ChunkerError.is(error)).toBe(true)
    expect(error).toBeInstanceOf(ChunkerError)
    expect(error).toMatchObject({
      name: 'ChunkerError',
      code: 'ERR_KVS_CHUNKER_VIOLATION',
      errorId,
      offset: violation.offset,
      violation,
    })
    expect((error as ChunkerError).message).toContain((error as ChunkerError).violation!.message)
    expect(events.map((event) => event.type)).toEqual(before)
  })

  it('is the default policy', () => {
    const { error } = chunkAll([layout.bytes], { ...options, onViolation: undefined })
    expect(error).toMatchObject({ code: 'ERR_KVS_CHUNKER_VIOLATION', violation })
  })

  it("emits a violation event before the fragment and goes on with onViolation 'emit'", () => {
    const { events, error } = chunkAll([layout.bytes], { ...options, onViolation: 'emit' })
    expect(error).toBeUndefined()
    expect(events.map((event) => event.type)).toEqual(emitted)
    expect(violations(events)).toEqual([{ ...violation, message: expect.any(String) }])
  })

  it('gives the same events and error however the input is chunked, in both policies', () => {
    for (const onViolation of ['throw', 'emit'] as const) {
      const want = describeRun(chunkAll([layout.bytes], { ...options, onViolation }))
      for (const chunks of splits(layout.bytes, { randomPartitions: 2 })) {
        expect(describeRun(chunkAll(chunks, { ...options, onViolation })), partitionLabel(chunks)).toEqual(
          want,
        )
      }
      fc.assert(
        fc.property(fcPartition(layout.bytes), (chunks) => {
          expect(describeRun(chunkAll(chunks, { ...options, onViolation }))).toEqual(want)
        }),
        { numRuns: 25 },
      )
    }
  })
})

describe('validation details', () => {
  it('emits every violation of a fragment before its fragment event', () => {
    const layout = buildMkv({
      tracks: [VIDEO, AUDIO],
      clusters: [{ timecode: 0, blocks: [delta(0), delta(10_500, 5)] }],
    })
    const { events } = chunkAll([layout.bytes], { onViolation: 'emit' })
    expect(events.map((event) => (event.type === 'violation' ? event.violation.kind : event.type))).toEqual([
      'header',
      'not-keyframe-start',
      'duration-too-long',
      'undeclared-track',
      'missing-track',
      'fragment',
    ])
  })

  it('does not flag fragments that start with a key frame when requireKeyframe is false', () => {
    const layout = buildMkv({ clusters: [{ timecode: 0, blocks: [delta(0), key(40)] }] })
    expect(chunkAll([layout.bytes], { requireKeyframe: false }).error).toBeUndefined()
  })

  it('checks only the first frame against the previous fragment: audio interleaved after the key frame may be earlier', () => {
    // GStreamer's matroskamux writes the key frame first, then audio up to 60 ms older: KVS takes the
    // fragment's first frame as its start.
    const layout = buildMkv({
      tracks: [VIDEO, AUDIO],
      clusters: [
        { timecode: 0, blocks: [key(0), key(0, 2), delta(960)] },
        { timecode: 1000, blocks: [key(0), key(-61, 2), key(-40, 2)] },
      ],
    })
    expect(chunkAll([layout.bytes]).error).toBeUndefined()
  })

  it('compares with the latest frame of the previous fragment, not its last in file order (B-frames)', () => {
    const layout = buildMkv({
      clusters: [
        { timecode: 0, blocks: [key(0), delta(120), delta(40), delta(80)] },
        { timecode: 100, blocks: [key(0)] },
      ],
    })
    expect(chunkAll([layout.bytes]).error).toMatchObject({ errorId: 4004, violation: { fragmentIndex: 1 } })
  })

  it('starts timecodes afresh after a second Segment in emit mode (its header follows the violation)', () => {
    const { events } = chunkAll([secondEbmlDocument.bytes], { onViolation: 'emit' })
    expect(violations(events).map((violation) => violation.kind)).toEqual(['second-segment'])
    expect(fragments(events).map((fragment) => [fragment.index, fragment.timecode])).toEqual([
      [0, 0],
      [1, 80],
      [2, 0],
      [3, 80],
    ])
  })

  it('counts frames of an empty Cluster as none: no time check, but a missing key frame', () => {
    const emptyCluster = writeElement(ElementId.Cluster, [writeElement(ElementId.Timecode, Uint8Array.of(5))])
    const layout = buildMkv({ clusters: [{ timecode: 0, blocks: [key(0)] }] })
    const bytes = concatBytes([layout.bytes, emptyCluster])
    const { events } = chunkAll([bytes], { onViolation: 'emit' })
    expect(violations(events).map((violation) => violation.kind)).toEqual([
      'not-keyframe-start',
      'missing-track',
    ])
    expect(fragments(events)[1]).toMatchObject({
      timecode: 5,
      startMs: 5,
      endMs: 5,
      blockCount: 0,
      tracks: [],
    })
  })
})
