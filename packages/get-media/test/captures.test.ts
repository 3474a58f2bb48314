import {
  fcPartition,
  partitionLabel,
  readFixture,
  type SplitsOptions,
  splitAt,
  splits,
} from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createGetMediaParser, type GetMediaEvent, type MediaFragmentStartEvent } from '../src/index.ts'
import { expectedCaptures } from './expected-captures.ts'
import { expectedSummary, fingerprint, parseOk, summarize } from './helpers.ts'

const captures = Object.keys(expectedCaptures)
/**
 * How each capture is split: the two small edge cases at every offset and one byte at a time; test_mixed_tags
 * at 1,000 spread offsets and one byte at a time (plus every offset of its first two documents, below); the
 * MB-sized captures at 200 spread offsets. All also get seeded random partitions.
 */
function splitOptions(name: string): SplitsOptions {
  if (name === 'test_tags_empty_cluster.mkv' || name === 'empty-mkv-with-tags.mkv') return {}
  if (name === 'test_mixed_tags.mkv') return { maxOffsets: 1000 }
  return { maxOffsets: 200, oneByteAtATime: false }
}

describe('real GetMedia captures', () => {
  test.each(captures)(
    '%s gives one fragment per document with the tags, timestamps and frames mkvinfo reads',
    (name) => {
      const bytes = readFixture('kvs-getmedia', name)
      expect(summarize(parseOk([bytes]))).toEqual(expectedSummary(expectedCaptures[name]!))
    },
  )

  test('the renderer capture reports fragment 1 as the protocol notes quote it', () => {
    const events = parseOk([readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')])
    const start = events.find((event) => event.type === 'fragment-start')
    const end = events.find((event) => event.type === 'fragment-end')
    expect(start).toEqual({
      type: 'fragment-start',
      fragmentNumber: '91343852333181432392682062609776234230823574155',
      serverTimestampMs: 1519423069070,
      producerTimestampMs: 1519423067997,
      timecodeScale: 1_000_000,
      tracks: [
        {
          number: 1,
          type: 1,
          codecId: 'V_MPEG4/ISO/AVC',
          name: 'kinesis_video',
          defaultDurationNs: 33_333_333,
          width: 640,
          height: 480,
          codecPrivate: expect.any(Uint8Array),
        },
      ],
      documentOffset: 0,
    })
    expect((start as MediaFragmentStartEvent).tracks[0]!.codecPrivate).toHaveLength(29)
    expect(end).toEqual({
      type: 'fragment-end',
      fragmentNumber: '91343852333181432392682062609776234230823574155',
      millisBehindNow: 7336747,
      continuationToken: '91343852333181432392682062609776234230823574155',
      tags: {},
      metadata: [],
      byteLength: 150022,
      frameCount: 59,
      complete: true,
      documentOffset: 0,
    })
    const frames = events.filter((event) => event.type === 'frame')
    expect(frames[0]).toMatchObject({ track: 1, timestampMs: 0, keyframe: true, lacing: 'none' })
    expect(frames[0]!.durationMs).toBeCloseTo(33.333333, 6)
    expect(frames[0]!.data).toHaveLength(58270)
  })

  test('test_mixed_tags.mkv: the unknown-size cluster ends at the producer tags after its blocks', () => {
    const events = parseOk([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')])
    const first = events.slice(0, 12)
    expect(first[0]).toMatchObject({
      type: 'fragment-start',
      fragmentNumber: '91343852333713038908964877623801423530396737899',
      producerTimestampMs: 0,
      tracks: [
        { number: 1, type: 1, codecId: 'V_MS/VFW/FOURCC', name: 'test track', width: 640, height: 480 },
      ],
    })
    expect(first.slice(1, 11).map((event) => event.type === 'frame' && event.timestampMs)).toEqual([
      0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500,
    ])
    expect(first[11]).toMatchObject({
      type: 'fragment-end',
      frameCount: 10,
      complete: true,
      millisBehindNow: 910,
    })
  })

  test('test_mixed_tags.mkv: fragment metadata is the Tags before Info and after the Cluster, in order, repeats kept (10, then 5 per fragment)', () => {
    // mkvinfo -v of each document: document 1 has testTag_0…4 before Info and again after the Cluster; the
    // others only after it. The parser library's FragmentMetadataVisitorTest counts 10, then 5.
    const five = [0, 1, 2, 3, 4].map((i) => ({ name: `testTag_${i}`, value: `testTag_${i}_Value` }))
    const ends = parseOk([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')]).filter(
      (event) => event.type === 'fragment-end',
    )
    expect(ends.map((event) => event.metadata)).toEqual([[...five, ...five], ...Array(9).fill(five)])
    // The record keeps one value per name.
    expect(ends.every((event) => Object.keys(event.tags).length === 5)).toBe(true)
  })

  test("output_get_media.mkv: the producer's header Tags after Tracks are in tags, not in fragment metadata", () => {
    const ends = parseOk([readFixture('kvs-getmedia', 'output_get_media.mkv')]).filter(
      (event) => event.type === 'fragment-end',
    )
    expect(ends).toHaveLength(expectedCaptures['output_get_media.mkv']!.length)
    for (const end of ends) {
      expect(end.tags).toMatchObject({ COMPATIBLE_BRANDS: expect.any(String) })
      expect(end.metadata).toEqual([])
    }
  })

  test('cluster timecodes that go backwards between fragments are reported as written', () => {
    const renderer = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
    const twice = new Uint8Array(renderer.length * 2)
    twice.set(renderer, 0)
    twice.set(renderer, renderer.length)
    const starts = parseOk([twice]).flatMap((event, index, all) =>
      event.type === 'fragment-start' && all[index + 1]?.type === 'frame'
        ? [(all[index + 1] as { timestampMs: number }).timestampMs]
        : [],
    )
    expect(starts).toEqual([
      0, 1999, 3999, 5998, 7998, 9998, 11997, 13997, 0, 1999, 3999, 5998, 7998, 9998, 11997, 13997,
    ])
  })

  test.each(captures)('%s gives the same events however it is split', (name) => {
    const bytes = readFixture('kvs-getmedia', name)
    const whole = fingerprint(parseOk([bytes]))
    for (const chunks of splits(bytes, splitOptions(name))) {
      const split = fingerprint(parseOk(chunks))
      if (split !== whole) expect(split.split('\n'), partitionLabel(chunks)).toEqual(whole.split('\n'))
    }
  })

  test('test_mixed_tags.mkv gives the same events split at every offset of its first two documents', () => {
    // The other eight documents repeat the second byte for byte but for tag values; every offset of the whole
    // file (22,768 parses of an element-dense file) would take most of the suite's time budget, so they get
    // the evenly spread offsets of the test above.
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const [first, second] = expectedCaptures['test_mixed_tags.mkv']!
    const whole = fingerprint(parseOk([bytes]))
    for (let offset = 1; offset <= first!.byteLength + second!.byteLength; offset++) {
      const chunks = splitAt(bytes, [offset])
      const split = fingerprint(parseOk(chunks))
      if (split !== whole) expect(split.split('\n'), partitionLabel(chunks)).toEqual(whole.split('\n'))
    }
  })

  test('any partition of a capture gives the same events (fast-check)', () => {
    for (const name of ['test_mixed_tags.mkv', 'kinesis_video_renderer_example_output.mkv']) {
      const bytes = readFixture('kvs-getmedia', name)
      const whole = fingerprint(parseOk([bytes]))
      fc.assert(
        fc.property(fcPartition(bytes, { maxChunks: 200, emptyChunks: true }), (chunks) => {
          expect(fingerprint(parseOk(chunks))).toBe(whole)
        }),
        { numRuns: name === 'test_mixed_tags.mkv' ? 100 : 25 },
      )
    }
  })

  test.each(['kinesis_video_renderer_example_output.mkv', 'output_get_media.mkv', 'test_mixed_tags.mkv'])(
    '%s: each fragment-end arrives in the push of its continuation-token Tags, before the next document',
    (name) => {
      const bytes = readFixture('kvs-getmedia', name)
      const parser = createGetMediaParser()
      let offset = 0
      for (const expected of expectedCaptures[name]!) {
        const document = bytes.subarray(offset, offset + expected.byteLength)
        offset += expected.byteLength
        const events = parser.push(document)
        expect(events[0]?.type).toBe('fragment-start')
        expect(events.at(-1)).toMatchObject({
          type: 'fragment-end',
          fragmentNumber: expected.fragmentNumber,
          continuationToken: expected.continuationToken,
          complete: true,
        })
      }
      expect(parser.end()).toEqual([])
    },
  )

  test('the continuation token ends the fragment even when its Tags is the last byte pushed so far', () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const firstLength = expectedCaptures['test_mixed_tags.mkv']![0]!.byteLength
    const parser = createGetMediaParser()
    // Everything of document 1 except its last byte: no fragment-end yet; the last byte completes the Tags.
    const before = parser.push(bytes.subarray(0, firstLength - 1))
    expect(before.some((event) => event.type === 'fragment-end')).toBe(false)
    expect(parser.push(bytes.subarray(firstLength - 1, firstLength))).toMatchObject([
      { type: 'fragment-end', complete: true },
    ])
  })

  test('frame data are views of the pushed chunk when the block lies in it, copies when it spans chunks', () => {
    const bytes = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
    const whole = parseOk([bytes]).filter((event) => event.type === 'frame')
    expect(whole.every((frame) => frame.data.buffer === bytes.buffer)).toBe(true)

    const cut = 100_000
    const left = bytes.slice(0, cut)
    const right = bytes.slice(cut)
    const parser = createGetMediaParser()
    const events: GetMediaEvent[] = [...parser.push(left), ...parser.push(right), ...parser.end()]
    const buffers = new Set(events.flatMap((event) => (event.type === 'frame' ? [event.data.buffer] : [])))
    expect(buffers.has(left.buffer)).toBe(true)
    expect(buffers.has(right.buffer)).toBe(true)
    // Exactly one frame spans the cut: it alone is a copy.
    expect(buffers.size).toBe(3)
  })

  test('a Node Buffer input gives views of the same memory', () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const buffer = Buffer.from(bytes)
    const frames = parseOk([buffer]).filter((event) => event.type === 'frame')
    expect(frames).toHaveLength(100)
    expect(frames.every((frame) => frame.data.buffer === buffer.buffer)).toBe(true)
  })

  test('empty-mkv-with-tags.mkv (pre-cluster tags, then end of input) gives an empty, incomplete fragment', () => {
    expect(parseOk([readFixture('kvs-getmedia', 'empty-mkv-with-tags.mkv')])).toMatchObject([
      {
        type: 'fragment-start',
        fragmentNumber: '91343852338378294813695855977007281634605393997',
        serverTimestampMs: 1516124526822,
        producerTimestampMs: 1515865326543,
        tracks: [{ number: 1, codecId: 'V_MPEG4/ISO/AVC', width: 960, height: 720 }],
      },
      { type: 'fragment-end', frameCount: 0, complete: false, byteLength: 5729 },
    ])
  })

  test('test_tags_empty_cluster.mkv (a Tags-only segment) gives a fragment with the producer tags and no frames', () => {
    expect(parseOk([readFixture('kvs-getmedia', 'test_tags_empty_cluster.mkv')])).toEqual([
      {
        type: 'fragment-start',
        fragmentNumber: undefined,
        serverTimestampMs: undefined,
        producerTimestampMs: undefined,
        timecodeScale: 1_000_000,
        tracks: [],
        documentOffset: 0,
      },
      {
        type: 'fragment-end',
        fragmentNumber: undefined,
        millisBehindNow: undefined,
        continuationToken: undefined,
        tags: {
          testTag_0: 'testTag_0_Value',
          testTag_1: 'testTag_1_Value',
          testTag_2: 'testTag_2_Value',
          testTag_3: 'testTag_3_Value',
          testTag_4: 'testTag_4_Value',
        },
        metadata: [0, 1, 2, 3, 4].map((i) => ({ name: `testTag_${i}`, value: `testTag_${i}_Value` })),
        byteLength: 426,
        frameCount: 0,
        complete: false,
        documentOffset: 0,
      },
    ])
  })

  test('a capture whose last fragment lacks its trailing tags ends that fragment incomplete at end()', () => {
    const bytes = readFixture('kvs-getmedia', 'output_get_media.mkv')
    const fragments = expectedCaptures['output_get_media.mkv']!
    // Drop the last document's trailing Tags (MILLIS_BEHIND_NOW + CONTINUATION_TOKEN): cut before its id.
    const lastStart = bytes.length - fragments.at(-1)!.byteLength
    const tagsAt = lastIndexOf(bytes, Uint8Array.of(0x12, 0x54, 0xc3, 0x67))
    expect(tagsAt).toBeGreaterThan(lastStart)
    const summary = summarize(parseOk([bytes.subarray(0, tagsAt)]))
    expect(summary).toHaveLength(5)
    expect(summary[4]).toMatchObject({
      fragmentNumber: fragments[4]!.fragmentNumber,
      frameCount: 60,
      complete: false,
      continuationToken: undefined,
      byteLength: tagsAt - lastStart,
    })
  })
})

function lastIndexOf(bytes: Uint8Array, pattern: Uint8Array): number {
  for (let i = bytes.length - pattern.length; i >= 0; i--) {
    let match = true
    for (let j = 0; j < pattern.length && match; j++) match = bytes[i + j] === pattern[j]
    if (match) return i
  }
  return -1
}
