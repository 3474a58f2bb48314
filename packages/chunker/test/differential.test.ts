import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ffprobeCounts,
  fixturePath,
  type MkvinfoSummary,
  mkvinfoSummary,
  readFixture,
  run,
} from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChunkerEvent } from '../src/index.ts'
import { chunkAll, fragments, headers } from './helpers.ts'

/**
 * The chunker against readers nobody here wrote, on the same bytes: mkvinfo (mkvtoolnix) and ffprobe
 * (FFmpeg). Then the round trip: header + fragments, concatenated, must read back the same in both.
 */
const playable = [
  'kvs-getmedia/clusters.mkv',
  'kvs-getmedia/vogels_330.mkv',
  'kvs-getmedia/test_mixed_tags.mkv',
  'kvs-getmedia/output_get_media.mkv',
  'kvs-getmedia/kinesis_video_renderer_example_output.mkv',
  'webm/5s.webm',
  'generated/ffmpeg-h264-aac.mkv',
  'generated/gst-streamable.mkv',
  'generated/mkvmerge-blockgroups.mkv',
  'generated/h264-only.mkv',
]
/** No Cluster: ffprobe cannot open these ("End of file"), mkvinfo can. */
const headerOnly = ['kvs-getmedia/empty-mkv-with-tags.mkv', 'kvs-getmedia/test_tags_empty_cluster.mkv']

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'kvs-chunker-roundtrip-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

const chunk = (file: string) => chunkAll([readFixture(...file.split('/'))], { onViolation: 'emit' }).events

/** Header and fragment bytes in event order: what a PutMedia session (or several) would send. */
function reassemble(events: readonly ChunkerEvent[]): Buffer {
  const parts: Uint8Array[] = []
  for (const event of events) {
    if (event.type === 'header') parts.push(event.bytes)
    else if (event.type === 'fragment') parts.push(...event.parts)
  }
  return Buffer.concat(parts)
}

/** mkvinfo's reading of each fixture, once per file (tests in this file run concurrently). */
const summaries = new Map<string, Promise<MkvinfoSummary>>()
function summaryOf(path: string): Promise<MkvinfoSummary> {
  let summary = summaries.get(path)
  if (summary === undefined) summaries.set(path, (summary = mkvinfoSummary(path)))
  return summary
}

/** Block start offsets, from `ffprobe -show_entries packet=pos`: laced frames share their block's `pos`. */
async function ffprobeBlockOffsets(file: string): Promise<number[]> {
  const result = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=pos', '-of', 'csv=p=0', file])
  if (result.code !== 0) throw new Error(`ffprobe exited with ${result.code}: ${result.stderr}`)
  const offsets = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      // A packet with side data (the Opus DiscardPadding of 5s.webm) prints a trailing comma: `204374,`.
      .map((line) => Number.parseInt(line, 10)),
  )
  return [...offsets].sort((a, b) => a - b)
}

function firstVideoKey(summary: MkvinfoSummary, cluster: number): boolean {
  const videoTracks = new Set(
    summary.tracks.filter((track) => track.type === 'video').map((track) => track.number),
  )
  return summary.clusterDetails[cluster]!.blocks.find((block) => videoTracks.has(block.track))?.key ?? false
}

describe.concurrent.each(playable)('%s against mkvinfo and ffprobe', (file) => {
  it('has the Clusters, Cluster timecodes, blocks, tracks and key frames mkvinfo shows', async ({
    expect,
  }) => {
    const events = chunk(file)
    const summary = await summaryOf(fixturePath(file))
    const got = fragments(events)
    expect(got.length).toBe(summary.clusters)
    expect(got.map((fragment) => fragment.timecode)).toEqual(summary.clusterTimecodes)
    expect(got.map((fragment) => fragment.blockCount)).toEqual(
      summary.clusterDetails.map((cluster) => cluster.simpleBlocks + cluster.blockGroups),
    )
    expect(got.reduce((sum, fragment) => sum + fragment.blockCount, 0)).toBe(
      summary.simpleBlocks + summary.blockGroups,
    )
    expect(got.map((fragment) => fragment.tracks)).toEqual(
      summary.clusterDetails.map((cluster) =>
        [...new Set(cluster.blocks.map((block) => block.track))].sort(),
      ),
    )
    expect(got.map((fragment) => fragment.keyframe)).toEqual(
      got.map((_, index) => firstVideoKey(summary, index)),
    )
    expect(headers(events)[0]!.tracks.map((track) => track.number)).toEqual(
      summary.tracks.map((track) => track.number),
    )
  })

  it('has, per fragment, as many blocks as ffprobe finds packet positions in its byte range', async ({
    expect,
  }) => {
    const got = fragments(chunk(file))
    const offsets = await ffprobeBlockOffsets(fixturePath(file))
    const inside = got.map(
      (fragment) =>
        offsets.filter((at) => at >= fragment.offset && at < fragment.offset + fragment.byteLength).length,
    )
    expect(inside).toEqual(got.map((fragment) => fragment.blockCount))
    expect(offsets.length).toBe(got.reduce((sum, fragment) => sum + fragment.blockCount, 0))
  })

  it('round-trips: header + fragments is Matroska that ffprobe and mkvinfo read with the same frames', async ({
    expect,
  }) => {
    const events = chunk(file)
    const output = join(directory, file.replace('/', '-'))
    await writeFile(output, reassemble(events))
    const [before, after] = await Promise.all([ffprobeCounts(fixturePath(file)), ffprobeCounts(output)])
    expect(after.streams).toEqual(before.streams)
    expect(after.packetsPerStream).toEqual(before.packetsPerStream)

    const mkvinfo = await run('mkvinfo', ['--ui-language', 'en_US', '-v', output])
    const documents = headers(events).length
    // One document reads without a warning; concatenated GetMedia documents read like the input, with one
    // resync per extra EBML header (exit status 1, warnings).
    expect(mkvinfo.code).toBe(documents === 1 ? 0 : 1)
    const [original, copy] = await Promise.all([summaryOf(fixturePath(file)), mkvinfoSummary(output)])
    expect(copy.resyncs).toBe(documents - 1)
    expect(copy.clusterTimecodes).toEqual(original.clusterTimecodes)
    expect(copy.perTrack).toEqual(original.perTrack)
    expect(copy.segmentSizes.every((size) => size === null)).toBe(true)
  })
})

describe.concurrent.each(headerOnly)('%s (no Cluster)', (file) => {
  it('gives a header that mkvinfo reads without error, with the same tracks', async ({ expect }) => {
    const events = chunk(file)
    expect(fragments(events)).toEqual([])
    const output = join(directory, file.replace('/', '-'))
    await writeFile(output, reassemble(events))
    const result = await run('mkvinfo', ['--ui-language', 'en_US', output])
    expect(result.code).toBe(0)
    const [original, copy] = await Promise.all([mkvinfoSummary(fixturePath(file)), mkvinfoSummary(output)])
    expect(copy.tracks).toEqual(original.tracks)
  })
})

describe('what the header leaves out', () => {
  it('drops the SeekHead and Void before the Clusters and the Cues after them, which no longer apply', async () => {
    const file = 'kvs-getmedia/clusters.mkv'
    const input = await run('mkvinfo', ['--ui-language', 'en_US', '-a', fixturePath(file)])
    expect(input.stdout).toMatch(/Seek head/)
    expect(input.stdout).toMatch(/EBML void/)
    expect(input.stdout).toMatch(/Cues/)
    const output = join(directory, 'clusters-header-check.mkv')
    await writeFile(output, reassemble(chunk(file)))
    const result = await run('mkvinfo', ['--ui-language', 'en_US', '-a', output])
    expect(result.code).toBe(0)
    expect(result.stdout).not.toMatch(/Seek head|EBML void|Cues/)
    expect(result.stdout).toMatch(/Segment information/)
    expect(result.stdout).toMatch(/Tracks/)
    expect(result.stdout).toMatch(/Tags/)
    expect(result.stdout).toMatch(/^\+ Segment: size unknown$/m)
  })
})
