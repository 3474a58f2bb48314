import { join } from 'node:path'
import { createClusterChunker } from '@kvs-streams/chunker'
import { partitionLabel, readFixture, splitAt, splits } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  describeRun,
  expectKvsReady,
  fragments,
  outputBytes,
  type ReadFrame,
  readFrames,
  repackageAll,
} from './helpers.ts'
import { ffprobePackets, mkvinfoProblems, type RecipeName, read, recipes, scratch } from './media.ts'

/** The chunker's violations on `bytes`, as `kind:fragmentIndex`. */
function chunkerViolations(bytes: Uint8Array): string[] {
  const chunker = createClusterChunker({ onViolation: 'emit' })
  return [...chunker.push(bytes), ...chunker.end()].flatMap((event) =>
    event.type === 'violation' ? [`${event.violation.kind}:${event.violation.fragmentIndex}`] : [],
  )
}

/** Indexes of the input's Clusters holding a frame at or before the previous Cluster's latest frame. */
function overlappingClusters(frames: readonly ReadFrame[]): number[] {
  const overlapping: number[] = []
  let previousMax = Number.NEGATIVE_INFINITY
  for (let cluster = 0; ; cluster++) {
    const times = frames.filter((frame) => frame.cluster === cluster).map((frame) => frame.time)
    if (times.length === 0) return overlapping
    if (Math.min(...times) <= previousMax) overlapping.push(cluster)
    previousMax = Math.max(...times)
  }
}

/** 64 KiB chunks, as a file or pipe delivers them. */
const fileChunks = (bytes: Uint8Array) =>
  splitAt(
    bytes,
    Array.from({ length: Math.floor((bytes.length - 1) / 65_536) }, (_, i) => (i + 1) * 65_536),
  )

interface MediaCase {
  recipe: RecipeName
  /** Number of the video track. */
  video: number
  /** What the chunker reports on the input as it is: the violation kinds (deduplicated). */
  refusedFor: string[]
}

const mediaCases: MediaCase[] = [
  { recipe: 'ffmpeg-file', video: 1, refusedFor: ['timecode-not-increasing'] },
  { recipe: 'ffmpeg-pipe-open-gop', video: 1, refusedFor: ['not-keyframe-start', 'timecode-not-increasing'] },
  { recipe: 'ffmpeg-mp4-remux', video: 1, refusedFor: ['not-keyframe-start', 'timecode-not-increasing'] },
  { recipe: 'gst-streamable-aligned', video: 2, refusedFor: ['timecode-not-increasing'] },
  // The chunker (which checks each fragment's first frame) lets this one through; the audio that follows
  // each key frame is still shown before the previous fragment's last frame (see the test).
  { recipe: 'gst-streamable-bframes', video: 1, refusedFor: [] },
]

describe('repackaging what ffmpeg and GStreamer write', () => {
  const folder = scratch()
  const files = {} as Record<RecipeName, string>

  beforeAll(async () => {
    for (const { recipe } of mediaCases) files[recipe] = await recipes[recipe](folder.dir)
  }, 120_000)
  afterAll(() => folder.remove())

  for (const { recipe, video, refusedFor } of mediaCases) {
    const before = refusedFor.length > 0 ? 'refused by the chunker' : 'fragments overlapping in time'
    it(`${recipe}: ${before} as it is, KVS-ready after, every packet's time stamps and bytes unchanged (ffprobe)`, async () => {
      const input = read(files[recipe])
      const refused = [...new Set(chunkerViolations(input).map((violation) => violation.split(':')[0]))]
      expect(refused).toEqual(refusedFor)
      // Even where the chunker passes it, some fragment holds frames earlier than the one before ends.
      expect(overlappingClusters(readFrames(input)).length).toBeGreaterThan(0)

      const run = repackageAll(fileChunks(input))
      expectKvsReady(input, run, { cutTrack: video })
      expect(fragments(run.events).every((fragment) => fragment.keyframe)).toBe(true)
      expect(run.stats.changed).toBe(true)
      expect(run.stats.framesMoved).toBeGreaterThan(0)

      const output = outputBytes(run.events)
      const outputFile = join(folder.dir, `${recipe}.out.mkv`)
      expect(await ffprobePackets(outputFile, output)).toEqual(await ffprobePackets(files[recipe]))
      expect(await mkvinfoProblems(outputFile)).toEqual([])
    })
  }

  it('gives the same output however the input is chunked (ffmpeg-file: 60 split offsets, one byte at a time, random)', () => {
    const input = read(files['ffmpeg-file'])
    const expected = describeRun(repackageAll([input]))
    for (const chunks of splits(input, { maxOffsets: 60 })) {
      expect(describeRun(repackageAll(chunks)), partitionLabel(chunks)).toEqual(expected)
    }
  })
})

describe('repackaging the committed fixtures', () => {
  const cases: { file: [string, string]; video: number; changed: boolean }[] = [
    { file: ['generated', 'ffmpeg-h264-aac.mkv'], video: 1, changed: true },
    { file: ['generated', 'gst-streamable.mkv'], video: 1, changed: true },
    { file: ['generated', 'mkvmerge-blockgroups.mkv'], video: 1, changed: true },
    { file: ['generated', 'h264-only.mkv'], video: 1, changed: false },
    { file: ['kvs-getmedia', 'clusters.mkv'], video: 1, changed: false },
    { file: ['kvs-getmedia', 'vogels_330.mkv'], video: 1, changed: true },
    { file: ['webm', '5s.webm'], video: 1, changed: true },
  ]
  for (const { file, video, changed } of cases) {
    it(`${file.join('/')} comes out KVS-ready${changed ? '' : ', as it was'}, however it is chunked`, () => {
      const input = readFixture(...file)
      const run = repackageAll([input])
      expectKvsReady(input, run, { cutTrack: video })
      expect(run.stats.changed).toBe(changed)
      if (!changed) {
        const chunker = createClusterChunker()
        const chunked = [...chunker.push(input), ...chunker.end()]
        expect(Buffer.from(outputBytes(run.events)).equals(Buffer.from(outputBytes(chunked as never)))).toBe(
          true,
        )
      }
      const expected = describeRun(run)
      for (const chunks of splits(input, { maxOffsets: 12, oneByteAtATime: false, randomPartitions: 2 })) {
        expect(describeRun(repackageAll(chunks)), partitionLabel(chunks)).toEqual(expected)
      }
    })
  }
})
