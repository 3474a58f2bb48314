import { createHash } from 'node:crypto'
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { writeEbmlHeader } from '@kvs-streams/ebml'
import {
  ffprobeCounts,
  hasTool,
  mkvinfoSummary,
  readFixture,
  run,
  splitEbmlDocuments,
} from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createFragmentMerger,
  createGetMediaParser,
  FragmentMergeError,
  type FragmentMergerOptions,
  FragmentMergerStream,
  type MediaFragmentEvent,
  type MergeEvent,
  mergeFragments,
} from '../src/index.ts'
import { createFragmentMergerTransform } from '../src/node.ts'

let directory: string
beforeAll(async () => {
  for (const tool of ['ffprobe', 'mkvmerge', 'mkvinfo', 'gst-launch-1.0']) {
    if (!hasTool(tool)) throw new Error(`${tool} is missing: run scripts/setup.sh`)
  }
  directory = await mkdtemp(joinPath(tmpdir(), 'kvs-merge-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

function fragmentsOf(name: string): MediaFragmentEvent[] {
  const parser = createGetMediaParser({ mode: 'raw' })
  const bytes = readFixture('kvs-getmedia', name)
  return [...parser.push(bytes), ...parser.end()].filter(
    (event): event is MediaFragmentEvent => event.type === 'fragment',
  )
}

function merge(fragments: readonly MediaFragmentEvent[], options?: FragmentMergerOptions): MergeEvent[] {
  const merger = createFragmentMerger(options)
  return [...fragments.flatMap((fragment) => merger.push(fragment)), ...merger.end()]
}

/** Applies merge events to a file as a seekable writer does: data in order, patches at their offsets. */
function writeEvents(path: string, events: readonly MergeEvent[]): Uint8Array {
  const fd = openSync(path, 'w')
  let position = 0
  for (const event of events) {
    if (event.type === 'data') {
      writeSync(fd, event.bytes, 0, event.bytes.length, position)
      position += event.bytes.length
    } else {
      expect(event.offset + event.bytes.length).toBeLessThanOrEqual(position)
      writeSync(fd, event.bytes, 0, event.bytes.length, event.offset)
    }
  }
  closeSync(fd)
  return readFileSync(path)
}

/** Packets per stream type a GetMedia capture holds, summed over its fragments as ffprobe counts each. */
async function packetsOfFragments(fragments: readonly MediaFragmentEvent[]): Promise<number[]> {
  const totals: number[] = []
  for (const [index, fragment] of fragments.entries()) {
    const path = joinPath(directory, `fragment-${index}.mkv`)
    writeEvents(path, [{ type: 'data', bytes: Buffer.concat(fragment.parts) }])
    const counts = await ffprobeCounts(path)
    counts.packetsPerStream.forEach((count, stream) => {
      totals[stream] = (totals[stream] ?? 0) + count
    })
  }
  return totals
}

/** Events with their bytes as a SHA-256 (deep equality of megabytes of views is slow). */
function digest(events: readonly MergeEvent[]): object[] {
  return events.map((event) => ({
    ...event,
    bytes: createHash('sha256').update(event.bytes).digest('hex'),
  }))
}

describe('fragment merger', () => {
  const captures = [
    'output_get_media.mkv',
    'kinesis_video_renderer_example_output.mkv',
    'test_mixed_tags.mkv',
  ]

  test.each(captures)(
    '%s: one EBML document whose clusters, packets and duration are the fragments’, read by mkvmerge, mkvinfo, ffprobe and GStreamer',
    async (name) => {
      const fragments = fragmentsOf(name)
      expect(fragments.length).toBeGreaterThan(1)
      const path = joinPath(directory, `merged-${name}`)
      const bytes = writeEvents(path, merge(fragments, { seekable: true }))
      expect(splitEbmlDocuments(bytes)).toHaveLength(1)

      const info = await mkvinfoSummary(path)
      expect(info.segments).toBe(1)
      expect(info.resyncs).toBe(0)
      // Known Segment size: everything after the EBML header and the Segment's id and 8-byte size.
      expect(info.segmentSizes).toEqual([bytes.length - writeEbmlHeader().length - 12])
      const perFragment = await Promise.all(
        fragments.map(async (fragment, index) => {
          const fragmentPath = joinPath(directory, `info-${index}.mkv`)
          writeEvents(fragmentPath, [{ type: 'data', bytes: Buffer.concat(fragment.parts) }])
          return mkvinfoSummary(fragmentPath)
        }),
      )
      expect(info.clusterTimecodes).toEqual(perFragment.flatMap((summary) => summary.clusterTimecodes))
      expect(info.simpleBlocks + info.blockGroups).toBe(
        perFragment.reduce((sum, summary) => sum + summary.simpleBlocks + summary.blockGroups, 0),
      )

      const mkvmerge = await run('mkvmerge', ['-J', path])
      expect(mkvmerge.code).toBe(0)
      const identified = JSON.parse(mkvmerge.stdout) as {
        container: { properties: { duration?: number } }
        errors: string[]
      }
      expect(identified.errors).toEqual([])

      const probe = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'format=duration',
        '-of',
        'json',
        path,
      ])
      const duration = Number((JSON.parse(probe.stdout) as { format: { duration: string } }).format.duration)
      // Known duration: from the first frame to the end of the last one, over all fragments.
      const parser = createGetMediaParser()
      const frames = [...parser.push(readFixture('kvs-getmedia', name)), ...parser.end()].filter(
        (event) => event.type === 'frame',
      )
      const start = Math.min(...frames.map((frame) => frame.timestampMs))
      const end = Math.max(...frames.map((frame) => frame.timestampMs + (frame.durationMs ?? 0)))
      expect(duration).toBeCloseTo((end - start) / 1000, 3)

      expect((await ffprobeCounts(path)).packetsPerStream).toEqual(await packetsOfFragments(fragments))

      const gst = await run('gst-launch-1.0', [
        '-q',
        'filesrc',
        `location=${path}`,
        '!',
        'matroskademux',
        '!',
        'fakesink',
        'sync=false',
      ])
      expect({ code: gst.code, stderr: gst.stderr }).toEqual({ code: 0, stderr: '' })
    },
  )

  test('seeking works: the SeekHead leads to Cues with one CuePoint per cluster', async () => {
    const fragments = fragmentsOf('output_get_media.mkv')
    const path = joinPath(directory, 'cues.mkv')
    writeEvents(path, merge(fragments, { seekable: true }))
    const result = await run('mkvinfo', ['--ui-language', 'en_US', '-a', path])
    const cuePoints = result.stdout.split('\n').filter((line) => /\+ Cue point$/.test(line))
    const clusters = result.stdout.split('\n').filter((line) => /\+ Cluster$/.test(line))
    expect(clusters.length).toBe(fragments.length)
    expect(cuePoints).toHaveLength(clusters.length)
    expect(result.stdout).toMatch(/\+ Seek head/)
    expect(result.stdout).toMatch(/Duration: /)
  })

  test('a pipe gets no patch events, and its output is still one readable document with every packet', async () => {
    const fragments = fragmentsOf('output_get_media.mkv')
    const events = merge(fragments)
    expect(events.every((event) => event.type === 'data')).toBe(true)
    const path = joinPath(directory, 'pipe.mkv')
    const bytes = writeEvents(path, events)
    expect(splitEbmlDocuments(bytes)).toHaveLength(1)
    expect((await ffprobeCounts(path)).packetsPerStream).toEqual(await packetsOfFragments(fragments))
  })

  test('fragments split across any chunks give the same merged bytes as whole ones', () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const merged = (chunks: readonly Uint8Array[]): string => {
      const parser = createGetMediaParser({ mode: 'raw' })
      const fragments = [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()].filter(
        (event): event is MediaFragmentEvent => event.type === 'fragment',
      )
      // The file a seekable writer ends with: data in order, then the patches over it.
      const events = merge(fragments, { seekable: true })
      const file = Buffer.concat(events.flatMap((event) => (event.type === 'data' ? [event.bytes] : [])))
      for (const event of events) if (event.type === 'patch') file.set(event.bytes, event.offset)
      return createHash('sha256').update(file).digest('hex')
    }
    const whole = merged([bytes])
    for (const size of [1000, 4093, 65_536]) {
      const chunks: Uint8Array[] = []
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size))
      expect({ size, merged: merged(chunks) }).toEqual({ size, merged: whole })
    }
  })

  test('clusters are passed through as views of the fragments’ bytes, not copies', () => {
    const fragments = fragmentsOf('output_get_media.mkv')
    const source = fragments[0]!.parts[0]!.buffer
    const merger = createFragmentMerger()
    const events = fragments.flatMap((fragment) => merger.push(fragment))
    const views = events.filter((event) => event.type === 'data' && event.bytes.buffer === source)
    const viewBytes = views.reduce((sum, event) => sum + (event as { bytes: Uint8Array }).bytes.length, 0)
    const clusterBytes = fragments.length // at least one view per fragment's cluster
    expect(views.length).toBeGreaterThanOrEqual(clusterBytes)
    // Every byte of the fragments except their headers, Info and repeated Tracks comes through as a view.
    expect(viewBytes).toBeGreaterThan(
      0.95 * fragments.reduce((sum, fragment) => sum + fragment.byteLength, 0),
    )
  })

  test('the service’s tags are kept by default and dropped with keepTags: false', () => {
    const fragments = fragmentsOf('output_get_media.mkv')
    const text = (options?: FragmentMergerOptions) =>
      Buffer.concat(
        merge(fragments, options).flatMap((event) => (event.type === 'data' ? [event.bytes] : [])),
      ).toString('latin1')
    const kept = text()
    for (const fragment of fragments) expect(kept).toContain(fragment.fragmentNumber!)
    expect(kept.split('AWS_KINESISVIDEO_FRAGMENT_NUMBER').length - 1).toBe(fragments.length)
    const dropped = text({ keepTags: false })
    expect(dropped).not.toContain('AWS_KINESISVIDEO_')
    expect(dropped.length).toBeLessThan(kept.length)
  })

  test('when the tracks change, a new segment starts by default, or a FragmentMergeError is thrown', async () => {
    const video = fragmentsOf('output_get_media.mkv')
    const withAudio = fragmentsOf('vogels_330.mkv')
    const mixed = [video[0]!, video[1]!, withAudio[0]!]
    const path = joinPath(directory, 'two-segments.mkv')
    const bytes = writeEvents(path, merge(mixed, { seekable: true }))
    const documents = splitEbmlDocuments(bytes)
    expect(documents).toHaveLength(2)
    const secondPath = joinPath(directory, 'second-segment.mkv')
    writeEvents(secondPath, [{ type: 'data', bytes: documents[1]! }])
    expect((await ffprobeCounts(secondPath)).packetsPerStream).toEqual(
      await packetsOfFragments([withAudio[0]!]),
    )

    const merger = createFragmentMerger({ onTracksChange: 'error' })
    merger.push(video[0]!)
    let error: unknown
    try {
      merger.push(withAudio[0]!)
    } catch (caught) {
      error = caught
    }
    expect(FragmentMergeError.is(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'ERR_KVS_MERGE_TRACKS_CHANGED',
      fragmentNumber: withAudio[0]!.fragmentNumber,
    })
    // What was merged before the error stands: the first fragment's document, ended.
    expect(merger.end().some((event) => event.type === 'data')).toBe(true)
  })

  test('rejects a bad onTracksChange with a TypeError', () => {
    expect(() => createFragmentMerger({ onTracksChange: 'ignore' as 'error' })).toThrow(
      new TypeError(`onTracksChange must be 'new-segment' or 'error', got ignore`),
    )
  })

  test('the three adapters give the core’s events', async () => {
    const fragments = fragmentsOf('output_get_media.mkv')
    const expected = digest(merge(fragments, { seekable: true }))
    const generated: MergeEvent[] = []
    for await (const event of mergeFragments(Readable.from(fragments), { seekable: true }))
      generated.push(event)
    expect(digest(generated)).toEqual(expected)
    const web: MergeEvent[] = []
    await new ReadableStream<MediaFragmentEvent>({
      start(controller) {
        for (const fragment of fragments) controller.enqueue(fragment)
        controller.close()
      },
    })
      .pipeThrough(new FragmentMergerStream({ seekable: true }))
      .pipeTo(new WritableStream({ write: (event) => void web.push(event) }))
    expect(digest(web)).toEqual(expected)
    const node: MergeEvent[] = []
    await pipeline(
      Readable.from(fragments),
      createFragmentMergerTransform({ seekable: true }),
      async (source) => {
        for await (const event of source) node.push(event as MergeEvent)
      },
    )
    expect(digest(node)).toEqual(expected)
  })
})
