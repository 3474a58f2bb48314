import { createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import { writeEbmlHeader } from '@kvs-streams/ebml'
import { fcPartition, partitionLabel, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRepackager, describeChanges, RepackagerError, type RepackagerOptions } from '../src/index.ts'
import {
  AUDIO,
  blockOffsets,
  buildMkv,
  type DocumentSpec,
  describeRun,
  expectKvsReady,
  fragments,
  gops,
  outputBytes,
  readFrames,
  repackageAll,
  VIDEO,
  violations,
} from './helpers.ts'

/** The chunker's violations on `bytes`, as `kind:fragmentIndex`. */
function chunkerViolations(bytes: Uint8Array, options: { maxFragmentBytes?: number } = {}): string[] {
  const chunker = createClusterChunker({ onViolation: 'emit', ...options })
  return [...chunker.push(bytes), ...chunker.end()].flatMap((event) =>
    event.type === 'violation' ? [`${event.violation.kind}:${event.violation.fragmentIndex}`] : [],
  )
}

const AV = [VIDEO, AUDIO]

interface Case {
  name: string
  input: Uint8Array
  options?: RepackagerOptions
  /** What the chunker says about the input as it is (so the case shows a real problem, or none). */
  refused: string[]
  /** Fragment start times (ms) of the output. */
  starts: number[]
  /** The stats' counters that must not be zero (the others must be). */
  counted: string[]
  cutTrack?: number
  /** Input indexes of the frames left out. */
  dropped?: number[]
}

const cases: Case[] = [
  {
    name: 'a KVS-ready input comes out as it was, byte for byte',
    input: buildMkv({ tracks: AV, clusters: gops({ count: 3 }) }),
    refused: [],
    starts: [0, 400, 800],
    counted: [],
  },
  {
    name: "ffmpeg's audio before each key frame moves back to the fragment it belongs to",
    input: buildMkv({ tracks: AV, clusters: gops({ count: 4, audioBeforeKey: 2 }) }),
    refused: ['timecode-not-increasing:1', 'timecode-not-increasing:2', 'timecode-not-increasing:3'],
    starts: [0, 400, 800, 1200],
    counted: ['rewrittenFragments', 'framesMoved'],
  },
  {
    name: "GStreamer's audio at the key frame's time at the end of a cluster moves to the next fragment",
    input: buildMkv({ tracks: AV, clusters: gops({ count: 4, audioAtKeyInPrevious: true }) }),
    refused: ['timecode-not-increasing:1', 'timecode-not-increasing:2', 'timecode-not-increasing:3'],
    starts: [0, 400, 800, 1200],
    counted: ['rewrittenFragments', 'framesMoved'],
  },
  {
    name: 'unknown-size clusters with audio tracks first are repackaged the same way',
    input: buildMkv({
      tracks: [AUDIO, VIDEO],
      clusters: gops({ count: 3, audioAtKeyInPrevious: true }).map((c) => ({ ...c, unknownSize: true })),
    }),
    refused: ['timecode-not-increasing:1', 'timecode-not-increasing:2'],
    starts: [0, 400, 800],
    counted: ['rewrittenFragments', 'framesMoved'],
  },
  {
    name: 'B-frames keep their decode order and times across the new cluster boundaries',
    input: buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 2, timecode: 0, keyframe: true },
            { track: 1, timecode: 120 },
            { track: 1, timecode: 40 },
            { track: 2, timecode: 60, keyframe: true },
            { track: 1, timecode: 80 },
          ],
        },
        {
          timecode: 130,
          blocks: [
            { track: 2, timecode: -10, keyframe: true },
            { track: 1, timecode: 30, keyframe: true },
            { track: 2, timecode: 10, keyframe: true },
            { track: 1, timecode: 150 },
            { track: 1, timecode: 70 },
            { track: 2, timecode: 60, keyframe: true },
            { track: 1, timecode: 110 },
          ],
        },
      ],
    }),
    refused: ['timecode-not-increasing:1'],
    starts: [0, 160],
    counted: ['rewrittenFragments', 'framesMoved'],
  },
  {
    name: 'a long cluster is split at the first key frame after the target duration',
    input: buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: gops({ count: 6 }).flatMap((c) =>
            c.blocks.map((b) => ({ ...b, timecode: b.timecode + c.timecode })),
          ),
        },
      ],
    }),
    options: { fragmentDurationMs: 1000 },
    refused: [],
    starts: [0, 1200],
    counted: ['rewrittenFragments', 'clustersSplit'],
  },
  {
    name: 'clusters that do not start with a key frame are merged into the fragment before',
    input: buildMkv({
      tracks: [VIDEO],
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 40 },
          ],
        },
        {
          timecode: 80,
          blocks: [
            { track: 1, timecode: 0 },
            { track: 1, timecode: 40 },
          ],
        },
        {
          timecode: 160,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 40 },
          ],
        },
      ],
    }),
    refused: ['not-keyframe-start:1'],
    starts: [0, 160],
    counted: ['rewrittenFragments', 'clustersMerged'],
  },
  {
    name: 'keepSourceClusters false groups short key-frame clusters up to the target duration',
    input: buildMkv({ tracks: AV, clusters: gops({ count: 6 }) }),
    options: { keepSourceClusters: false, fragmentDurationMs: 1000 },
    refused: [],
    starts: [0, 1200],
    counted: ['rewrittenFragments', 'clustersMerged'],
  },
  {
    name: 'a gap closes the fragment at the next key frame, before the target duration',
    input: buildMkv({
      tracks: [VIDEO],
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 40 },
            { track: 1, timecode: 5000, keyframe: true },
            { track: 1, timecode: 5040 },
          ],
        },
      ],
    }),
    options: { gapMs: 1000, fragmentDurationMs: 8000 },
    refused: [],
    starts: [0, 5000],
    counted: ['rewrittenFragments', 'clustersSplit'],
  },
  {
    name: 'BlockGroups with ReferenceBlock and BlockDuration, and laced blocks, pass through untouched',
    input: buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, group: { duration: 40 } },
            { track: 2, timecode: 0, group: {}, laced: true, size: 20 },
            { track: 1, timecode: 80, group: { references: true, duration: 40 } },
            { track: 1, timecode: 40, group: { references: true } },
          ],
        },
        {
          timecode: 70,
          blocks: [
            { track: 2, timecode: 0, group: { duration: 30 }, laced: true, size: 20 },
            { track: 1, timecode: 50, group: { duration: 40 } },
            { track: 1, timecode: 90, group: { references: true } },
            { track: 2, timecode: 60, keyframe: true, laced: true, size: 12 },
          ],
        },
      ],
    }),
    refused: ['timecode-not-increasing:1'],
    starts: [0, 120],
    counted: ['rewrittenFragments', 'framesMoved'],
  },
  {
    name: 'video frames before the first key frame are dropped; audio before it is kept',
    input: buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 1000,
          blocks: [
            { track: 2, timecode: 0, keyframe: true },
            { track: 1, timecode: 0 },
            { track: 2, timecode: 20, keyframe: true },
            { track: 1, timecode: 40, keyframe: true },
            { track: 2, timecode: 40, keyframe: true },
            { track: 1, timecode: 80 },
          ],
        },
      ],
    }),
    refused: ['not-keyframe-start:0'],
    starts: [1000],
    dropped: [1],
    counted: ['rewrittenFragments', 'framesDropped'],
  },
  {
    name: 'an empty cluster is left out',
    input: buildMkv({
      tracks: [VIDEO],
      clusters: [
        { timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
        { timecode: 40, blocks: [] },
        { timecode: 80, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
      ],
    }),
    refused: ['not-keyframe-start:1', 'missing-track:1'],
    starts: [0, 80],
    counted: ['emptyClusters'],
  },
]

/** Output fragment starts and which stats counters moved. */
function summary(run: ReturnType<typeof repackageAll>) {
  const {
    changed: _changed,
    rebasedMs: _rebasedMs,
    fragments: _count,
    sourceClusters: _clusters,
    ...counters
  } = run.stats
  return {
    starts: fragments(run.events).map((fragment) => fragment.startMs),
    counted: Object.entries(counters)
      .filter(([, value]) => value !== 0)
      .map(([name]) => name)
      .sort(),
  }
}

describe('createRepackager on crafted inputs', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      expect(chunkerViolations(testCase.input)).toEqual(testCase.refused)
      const run = repackageAll([testCase.input], testCase.options)
      expectKvsReady(testCase.input, run, {
        cutTrack: testCase.cutTrack ?? 1,
        dropped: testCase.dropped ?? [],
      })
      expect(summary(run)).toEqual({ starts: testCase.starts, counted: [...testCase.counted].sort() })
      expect(run.stats.changed).toBe(testCase.counted.length > 0)
    })
  }

  it('gives the same events however the input is chunked (every offset, one byte at a time, random)', () => {
    for (const testCase of cases) {
      const expected = describeRun(repackageAll([testCase.input], testCase.options))
      for (const chunks of splits(testCase.input, { maxOffsets: 400 })) {
        expect(
          describeRun(repackageAll(chunks, testCase.options)),
          `${testCase.name}, ${partitionLabel(chunks)}`,
        ).toEqual(expected)
      }
    }
  })

  it('any partition of a document mixing every pattern gives the same events (fast-check)', () => {
    const input = buildMkv(
      { tracks: AV, clusters: gops({ count: 3, audioBeforeKey: 2 }) },
      { tracks: AV, clusters: gops({ count: 3, audioAtKeyInPrevious: true }) },
    )
    for (const options of [{ onViolation: 'emit' as const }, { rebaseTimecodes: true }]) {
      const expected = describeRun(repackageAll([input], options))
      fc.assert(
        fc.property(fcPartition(input, { maxChunks: 48, emptyChunks: true }), (chunks) => {
          expect(describeRun(repackageAll(chunks, options))).toEqual(expected)
        }),
        { numRuns: 150 },
      )
    }
  })

  it('hands out the input as it was, as the chunker does, when nothing needs changing', () => {
    const input = buildMkv({
      tracks: AV,
      clusters: gops({ count: 3 }).map((c, i) => ({
        ...c,
        unknownSize: i === 1,
        tagsAfter: [{ name: 'n', value: `${i}` }],
      })),
    })
    const run = repackageAll([input])
    const chunker = createClusterChunker()
    const chunked = [...chunker.push(input), ...chunker.end()]
    expect(outputBytes(run.events)).toEqual(outputBytes(chunked as never))
    expect(fragments(run.events).map((f) => f.changes.rewritten)).toEqual([false, false, false])
    expect(run.stats.changed).toBe(false)
    expect(describeChanges(run.stats)).toBeUndefined()
  })

  it('keeps the Tags after a cluster with the fragment that holds its key frame', () => {
    const clusters = gops({ count: 3, audioBeforeKey: 1 }).map((c, i) => ({
      ...c,
      tagsAfter: [{ name: 'TAG', value: `v${i}` }],
    }))
    const input = buildMkv({ tracks: AV, clusters })
    const run = repackageAll([input])
    const text = fragments(run.events).map((fragment) =>
      Buffer.from(concatBytes(fragment.parts)).toString('latin1').match(/v\d/g),
    )
    expect(text).toEqual([['v0'], ['v1'], ['v2']])
  })

  it('rewrites block timecodes relative to each new cluster, and payloads are views of the input', () => {
    const input = buildMkv({ tracks: AV, clusters: gops({ count: 3, audioBeforeKey: 2 }) })
    const run = repackageAll([input])
    const moved = fragments(run.events)
    expect(moved.map((f) => f.timecode)).toEqual([0, 400, 800])
    const inputBuffer = input.buffer
    for (const fragment of moved) {
      const copied = fragment.parts.filter((part) => part.buffer !== inputBuffer)
      // The Cluster header with its Timecode, and 2-byte timecode patches: nothing else is new.
      expect(copied.reduce((sum, part) => sum + part.length, 0)).toBeLessThan(20 + 2 * fragment.blockCount)
      expect(copied.slice(1).every((part) => part.length === 2)).toBe(true)
    }
    // Absolute times unchanged: read back from the bytes written.
    expect(
      readFrames(outputBytes(run.events))
        .map((f) => f.time)
        .sort((a, b) => a - b),
    ).toEqual(
      readFrames(input)
        .map((f) => f.time)
        .sort((a, b) => a - b),
    )
  })

  it('names the frame of an open GOP that is shown before the previous fragment ends (violation, no re-encoding)', () => {
    const input = buildMkv({
      tracks: [VIDEO],
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 80 },
            { track: 1, timecode: 40 },
          ],
        },
        {
          timecode: 120,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: -60 },
            { track: 1, timecode: 40 },
          ],
        },
      ],
    })
    const run = repackageAll([input], { onViolation: 'emit' })
    const [violation] = violations(run.events)
    const leadingFrameOffset = readFrameOffset(input, 1, 1)
    expect(violation).toMatchObject({
      kind: 'timecode-not-increasing',
      errorId: 4004,
      fragmentIndex: 1,
      frame: { track: 1, timecode: 60, timeMs: 60, offset: leadingFrameOffset },
    })
    expect(violations(run.events)).toHaveLength(1)
    // The default throws it, with the events before it.
    const thrown = repackageAll([input])
    expect(RepackagerError.is(thrown.error)).toBe(true)
    expect(thrown.error).toMatchObject({
      code: 'ERR_KVS_REPACKAGER_VIOLATION',
      errorId: 4004,
      offset: leadingFrameOffset,
    })
    expect(fragments(thrown.events)).toHaveLength(1)
  })

  it('starts an open-GOP fragment at its leading frames, moving the audio shown after them', () => {
    // The leading B-frames (100, 120) come after the key frame (140) but after the previous GOP's last frame (80).
    const input = buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 2, timecode: 0, keyframe: true },
            { track: 1, timecode: 80 },
            { track: 2, timecode: 50, keyframe: true },
            { track: 1, timecode: 40 },
            { track: 2, timecode: 100, keyframe: true },
            { track: 2, timecode: 110, keyframe: true },
          ],
        },
        {
          timecode: 140,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: -40 },
            { track: 1, timecode: -20 },
            { track: 2, timecode: 10, keyframe: true },
          ],
        },
      ],
    })
    const run = repackageAll([input])
    expectKvsReady(input, run, { cutTrack: 1 })
    expect(fragments(run.events).map((f) => [f.startMs, f.blockCount])).toEqual([
      [0, 5],
      [100, 6],
    ])
  })

  it('cuts before a block timecode would leave the signed 16-bit range, and fails typed when a GOP cannot fit', () => {
    // TimecodeScale 100 µs: a relative timecode covers at most 3.2767 s. Frames 0.4 s apart, two per Cluster.
    const clusters = (count: number, gop: number) =>
      Array.from({ length: count }, (_, i) => ({
        timecode: i * 8000,
        blocks: [
          { track: 1, timecode: 0, keyframe: (2 * i) % gop === 0 },
          { track: 1, timecode: 4000 },
        ],
      }))
    const options = { fragmentDurationMs: 10_000, keepSourceClusters: false }
    const fits = buildMkv({ tracks: [VIDEO], timecodeScale: 100_000, clusters: clusters(6, 2) })
    const run = repackageAll([fits], options)
    expectKvsReady(fits, run, { cutTrack: 1 })
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 3200])
    const tooLong = buildMkv({ tracks: [VIDEO], timecodeScale: 100_000, clusters: clusters(5, 20) })
    const failed = repackageAll([tooLong], options)
    expect(failed.error).toMatchObject({
      name: 'RepackagerError',
      code: 'ERR_KVS_REPACKAGER_TIMECODE_OVERFLOW',
    })
  })

  it('reports a GOP longer than the service accepts as duration-too-long', () => {
    const input = buildMkv({
      tracks: [VIDEO],
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 11_000 },
            { track: 1, timecode: 12_000, keyframe: true },
          ],
        },
      ],
    })
    const run = repackageAll([input], { onViolation: 'emit' })
    expect(violations(run.events).map((v) => [v.kind, v.errorId, v.fragmentIndex])).toEqual([
      ['duration-too-long', 4002, 0],
    ])
  })
})

describe('restarted sources', () => {
  // With frame durations (DefaultDuration), so a restart continues where the last frame ends.
  const timed = [
    { ...VIDEO, defaultDurationNs: 40_000_000 },
    { ...AUDIO, defaultDurationNs: 20_000_000 },
  ]
  const first: DocumentSpec = { tracks: timed, clusters: gops({ count: 3, audioBeforeKey: 2 }) }
  const restarted = buildMkv(first, first)

  it('without rebaseTimecodes, a second document is reported and gets a header of its own (the chunker does the same)', () => {
    expect(chunkerViolations(restarted)).toEqual([
      'timecode-not-increasing:1',
      'timecode-not-increasing:2',
      'second-segment:undefined',
      'timecode-not-increasing:4',
      'timecode-not-increasing:5',
    ])
    const run = repackageAll([restarted], { onViolation: 'emit' })
    expect(violations(run.events).map((v) => v.kind)).toEqual(['second-segment'])
    expect(run.events.filter((e) => e.type === 'header')).toHaveLength(2)
  })

  it('with rebaseTimecodes, a second document with the same tracks continues after the last frame sent, under one header', () => {
    const run = repackageAll([restarted], { rebaseTimecodes: true })
    const end = 3 * 400 // three GOPs of 400 ms, the last audio frame ending at 1200
    expectKvsReady(restarted, run, {
      cutTrack: 1,
      shift: (time, index) => (index >= readFrames(buildMkv(first)).length ? time + end : time),
    })
    expect(run.events.filter((e) => e.type === 'header')).toHaveLength(1)
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 400, 800, 1200, 1600, 2000])
    expect(fragments(run.events).map((f) => f.changes.rebasedMs)).toEqual([0, 0, 0, end, end, end])
    expect(run.stats).toMatchObject({ rebases: 1, rebasedMs: end, documentsJoined: 1 })
    expect(describeChanges(run.stats)).toContain('shifted timecodes once')
  })

  it('with rebaseTimecodes, a second document with other tracks gets a new header but its times still continue', () => {
    const other = buildMkv(first, {
      tracks: [{ ...timed[0]!, codecPrivate: Uint8Array.of(1, 2, 3) }, timed[1]!],
      clusters: gops({ count: 2 }),
    })
    const run = repackageAll([other], { rebaseTimecodes: true, onViolation: 'emit' })
    expect(violations(run.events).map((v) => v.kind)).toEqual(['second-segment'])
    expect(run.events.filter((e) => e.type === 'header')).toHaveLength(2)
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 400, 800, 1200, 1600])
  })

  it('timecodes that go back inside one document are rebased too, from the Cluster where they restart', () => {
    const clusters = [...gops({ count: 2, audioBeforeKey: 2 }), ...gops({ count: 2, audioBeforeKey: 2 })]
    const input = buildMkv({ tracks: timed, clusters })
    expect(chunkerViolations(input)).toContain('timecode-not-increasing:2')
    const run = repackageAll([input], { rebaseTimecodes: true })
    const firstHalf = readFrames(buildMkv({ tracks: timed, clusters: clusters.slice(0, 2) })).length
    expectKvsReady(input, run, {
      cutTrack: 1,
      shift: (time, index) => (index >= firstHalf ? time + 800 : time),
    })
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 400, 800, 1200])
    // Without the option the restart is a violation naming the first frame that goes back.
    const refused = repackageAll([input], { onViolation: 'emit' })
    expect(violations(refused.events)).toMatchObject([
      { kind: 'timecode-not-increasing', errorId: 4004, fragmentIndex: 2, frame: { track: 1, timecode: 0 } },
    ])
  })
})

describe('options', () => {
  it.each([
    [{ onViolation: 'skip' }, "onViolation must be 'throw' or 'emit', got \"skip\""],
    [{ fragmentDurationMs: 0 }, 'fragmentDurationMs must be a positive number, got 0'],
    [
      { fragmentDurationMs: 20_000 },
      'fragmentDurationMs must be at most maxFragmentDurationMs (10000), got 20000',
    ],
    [{ keepSourceClusters: 'yes' }, 'keepSourceClusters must be a boolean, got "yes"'],
    [{ rebaseTimecodes: 1 }, 'rebaseTimecodes must be a boolean, got 1'],
    [{ gapMs: -5 }, 'gapMs must be a positive number, got -5'],
    [{ maxBufferedBytes: Number.NaN }, 'maxBufferedBytes must be a positive number, got NaN'],
  ])('rejects %o with a TypeError', (options, message) => {
    expect(() => createRepackager(options as RepackagerOptions)).toThrow(new TypeError(message))
  })
})

/** Offset of the `index`-th block (0-based) of the `cluster`-th Cluster. */
function readFrameOffset(bytes: Uint8Array, cluster: number, index: number): number {
  return blockOffsets(bytes).filter((block) => block.cluster === cluster)[index]!.offset
}

describe('what it cannot repair is reported in the chunker’s terms', () => {
  it('a fragment over maxFragmentBytes, a track Tracks does not declare, a declared track without frames, too many tracks', () => {
    const input = buildMkv({
      tracks: [VIDEO, AUDIO, { number: 3, type: 2 }, { number: 4, type: 17, codecId: 'S_TEXT/UTF8' }],
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true, size: 3000 },
            { track: 2, timecode: 0, keyframe: true },
            { track: 3, timecode: 0, keyframe: true },
            { track: 9, timecode: 10, keyframe: true },
          ],
        },
      ],
    })
    const run = repackageAll([input], { onViolation: 'emit', maxFragmentBytes: 2000 })
    expect(violations(run.events).map((v) => [v.kind, v.errorId, v.fragmentIndex])).toEqual([
      ['too-many-tracks', 4012, undefined],
      ['size-too-large', 4001, 0],
      ['undeclared-track', 4010, 0],
      ['missing-track', 4011, 0],
    ])
    // The same as the chunker says about the output.
    expect(chunkerViolations(outputBytes(run.events), { maxFragmentBytes: 2000 })).toEqual([
      'too-many-tracks:undefined',
      'size-too-large:0',
      'undeclared-track:0',
      'missing-track:0',
    ])
    expect(run.stats.violations).toBe(4)
  })
})

describe('more input shapes', () => {
  it('a second Segment after the same EBML header is a restart like a second document', () => {
    const segment = buildMkv({ tracks: AV, clusters: gops({ count: 2 }) })
    // The bytes from the Segment on, twice, after one EBML header.
    const input = concatBytes([segment, segment.subarray(writeEbmlHeader().length)])
    const run = repackageAll([input], { rebaseTimecodes: true })
    expectKvsReady(input, run, { cutTrack: 1, shift: (time, index) => (index >= 60 ? time + 781 : time) })
    expect(run.events.filter((e) => e.type === 'header')).toHaveLength(1)
    // No frame durations here: the restart continues 1 ms after the last frame (audio at 780 ms).
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 400, 781, 1181])
    expect(run.stats).toMatchObject({ rebases: 1, documentsJoined: 1 })
  })

  it('a gap in the audio alone also closes the fragment at the next key frame', () => {
    const input = buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 2, timecode: 0, keyframe: true },
            { track: 2, timecode: 3000, keyframe: true },
            { track: 1, timecode: 3000, keyframe: true },
            { track: 2, timecode: 3020, keyframe: true },
          ],
        },
      ],
    })
    expect(
      fragments(repackageAll([input], { fragmentDurationMs: 5000 }).events).map((f) => f.startMs),
    ).toEqual([0])
    const run = repackageAll([input], { gapMs: 1000, fragmentDurationMs: 5000 })
    expectKvsReady(input, run, { cutTrack: 1 })
    expect(fragments(run.events).map((f) => f.startMs)).toEqual([0, 3000])
  })

  it('Tags before the first key frame go with the first fragment', () => {
    const input = buildMkv({
      tracks: AV,
      clusters: [
        {
          timecode: 0,
          blocks: [{ track: 2, timecode: 0, keyframe: true }],
          tagsAfter: [{ name: 'EARLY', value: 'e' }],
        },
        ...gops({ count: 2, start: 20 }),
      ],
    })
    const run = repackageAll([input], { onViolation: 'emit' })
    const first = Buffer.from(concatBytes(fragments(run.events)[0]!.parts)).toString('latin1')
    expect(first).toContain('EARLY')
  })
})
