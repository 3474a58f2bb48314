import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGetMediaParser, type FrameEvent } from '@kvs-streams/get-media/parser'
import { fcPartition, partitionLabel, readFixture, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createFmp4Segmenter,
  Fmp4Error,
  type Fmp4Event,
  type Fmp4SegmenterOptions,
  Fmp4SegmenterStream,
  type MediaSegmentEvent,
  readMkvFragment,
  readMkvFragments,
  segmentFmp4,
} from '../src/index.ts'
import { createFmp4SegmenterTransform } from '../src/node.ts'
import {
  type Box,
  find,
  findAll,
  join,
  readBoxes,
  readTfdt,
  readTfhd,
  readTimescale,
  readTrun,
} from './support/boxes.ts'

/** Pushes every chunk, then ends; returns the events. */
function segmentAll(chunks: readonly Uint8Array[], options?: Fmp4SegmenterOptions): Fmp4Event[] {
  const segmenter = createFmp4Segmenter(options)
  const events: Fmp4Event[] = []
  for (const chunk of chunks) events.push(...segmenter.push(chunk))
  events.push(...segmenter.end())
  return events
}

/** Events with their bytes joined, for comparing outputs of different chunkings. */
function comparable(events: readonly Fmp4Event[]) {
  return events.map((event) =>
    event.type === 'media-segment'
      ? { ...event, parts: undefined, bytes: Buffer.from(join(event.parts)).toString('base64') }
      : event.type === 'init-segment'
        ? { ...event, data: Buffer.from(event.data).toString('base64') }
        : event,
  )
}

function mediaSegments(events: readonly Fmp4Event[]): MediaSegmentEvent[] {
  return events.filter((event): event is MediaSegmentEvent => event.type === 'media-segment')
}

/** The frames the GetMedia parser reads (the Matroska side of every comparison), per document. */
function framesPerDocument(bytes: Uint8Array): FrameEvent[][] {
  const documents: FrameEvent[][] = []
  const parser = createGetMediaParser()
  for (const event of [...parser.push(bytes), ...parser.end()]) {
    if (event.type === 'fragment-start') documents.push([])
    else if (event.type === 'frame') documents[documents.length - 1]!.push(event)
  }
  return documents
}

/** The trafs of a media segment, checked: sizes nest, data offsets point into mdat, mdat holds the samples. */
function checkMediaSegment(
  bytes: Uint8Array,
): { traf: Box; trackId: number; tfdt: number; trun: ReturnType<typeof readTrun> }[] {
  const boxes = readBoxes(bytes)
  expect(boxes.map((box) => box.type)).toEqual(['moof', 'mdat'])
  const [moof, mdat] = boxes as [Box, Box]
  expect(find(moof.children, 'mfhd').size).toBe(16)
  let expectedOffset = moof.size + 8
  let payload = 0
  const trafs = findAll(moof.children, 'traf').map((traf) => {
    const trun = readTrun(find(traf.children, 'trun'))
    expect(trun.dataOffset).toBe(expectedOffset)
    const bytes = trun.samples.reduce((sum, sample) => sum + sample.size, 0)
    expectedOffset += bytes
    payload += bytes
    expect(readTfhd(find(traf.children, 'tfhd')).flags & 0x020000).toBe(0x020000) // default-base-is-moof
    return {
      traf,
      trackId: readTfhd(find(traf.children, 'tfhd')).trackId,
      tfdt: readTfdt(find(traf.children, 'tfdt')),
      trun,
    }
  })
  expect(mdat.size).toBe(8 + payload)
  return trafs
}

describe('GetMedia bodies: one moof + mdat per KVS fragment', () => {
  const body = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')

  it('writes an init segment, then one media segment per fragment with its fragment number and timestamps', () => {
    const events = segmentAll([body])
    expect(events[0]?.type).toBe('init-segment')
    expect(events.filter((event) => event.type === 'init-segment')).toHaveLength(1)
    const documents = framesPerDocument(body)
    const segments = mediaSegments(events)
    expect(segments).toHaveLength(documents.length)
    const starts = createGetMediaParser()
      .push(body)
      .filter((event) => event.type === 'fragment-start')
    segments.forEach((segment, i) => {
      expect(segment.sequenceNumber).toBe(i + 1)
      expect(segment.fragmentNumber).toBe(starts[i]!.fragmentNumber)
      expect(segment.producerTimestampMs).toBe(starts[i]!.producerTimestampMs)
      expect(segment.keyframe).toBe(true)
      const [traf] = checkMediaSegment(join(segment.parts))
      // Every frame, in block order, with its size and key-frame flag.
      expect(traf!.trun.samples.map((sample) => sample.size)).toEqual(
        documents[i]!.map((frame) => frame.data.length),
      )
      expect(traf!.trun.samples.map((sample) => sample.flags)).toEqual(
        documents[i]!.map((frame) => (frame.keyframe ? 0x0200_0000 : 0x0101_0000)),
      )
      expect(segment.byteLength).toBe(join(segment.parts).length)
    })
  })

  it('places decode times at the frames timestamps from the first frame, in 90 kHz ticks', () => {
    const documents = framesPerDocument(body)
    const origin = documents[0]![0]!.timestampMs
    for (const [i, segment] of mediaSegments(segmentAll([body])).entries()) {
      const [traf] = checkMediaSegment(join(segment.parts))
      expect(traf!.tfdt).toBe(Math.round((documents[i]![0]!.timestampMs - origin) * 90))
      let at = traf!.tfdt
      for (const [j, sample] of traf!.trun.samples.entries()) {
        expect(at).toBe(Math.round((documents[i]![j]!.timestampMs - origin) * 90))
        at += sample.duration
      }
    }
  })

  it('gives the same bytes however the body is chunked (split points, one byte at a time, random)', () => {
    const small = readFixture('generated', 'h264-only.mkv')
    const expected = comparable(segmentAll([small]))
    for (const chunks of splits(small, { maxOffsets: 60 })) {
      expect(comparable(segmentAll(chunks)), partitionLabel(chunks)).toEqual(expected)
    }
  })

  it('gives the same bytes for any partition of a two-track GetMedia body (property)', () => {
    const bytes = readFixture('generated', 'ffmpeg-h264-aac.mkv')
    const expected = comparable(segmentAll([bytes]))
    fc.assert(
      fc.property(fcPartition(bytes, { maxChunks: 40 }), (chunks) => {
        expect(comparable(segmentAll(chunks))).toEqual(expected)
      }),
      { numRuns: 25 },
    )
  })
})

describe('the init segment', () => {
  it('has ftyp and moov with a trak per track (timescale 90 kHz video, sample rate audio) and mvex/trex', () => {
    const [init] = segmentAll([readFixture('generated', 'ffmpeg-h264-aac.mkv')])
    if (init?.type !== 'init-segment') throw new Error('no init segment')
    const boxes = readBoxes(init.data)
    expect(boxes.map((box) => box.type)).toEqual(['ftyp', 'moov'])
    const traks = findAll(boxes, 'moov/trak')
    expect(traks).toHaveLength(2)
    expect(traks.map((trak) => readTimescale(find(trak.children, 'mdia/mdhd')))).toEqual([90_000, 48_000])
    const entries = traks.map((trak) => find(trak.children, 'mdia/minf/stbl/stsd').children[0]!.type)
    expect(entries).toEqual(['avc1', 'mp4a'])
    expect(findAll(boxes, 'moov/mvex/trex')).toHaveLength(2)
    // Empty sample tables: nothing in moov refers to a fragment.
    for (const trak of traks) {
      expect(find(trak.children, 'mdia/minf/stbl/stsz').payload.subarray(4)).toEqual(new Uint8Array(8))
    }
  })
})

describe('decode times across fragments', () => {
  it('continue one another: each tfdt is the previous tfdt plus the previous run (25 fps, key frame per second)', () => {
    const events = segmentAll([readFixture('generated', 'h264-only.mkv')])
    const trafs = mediaSegments(events).map((segment) => checkMediaSegment(join(segment.parts))[0]!)
    expect(trafs).toHaveLength(3)
    expect(trafs[0]!.tfdt).toBe(0)
    for (let i = 1; i < trafs.length; i++) {
      const previous = trafs[i - 1]!
      expect(trafs[i]!.tfdt).toBe(
        previous.tfdt + previous.trun.samples.reduce((sum, s) => sum + s.duration, 0),
      )
    }
    // 40 ms frames, the last one of the stream included (its DefaultDuration).
    expect(trafs.flatMap((traf) => traf.trun.samples.map((sample) => sample.duration))).toEqual(
      new Array(75).fill(3600),
    )
    // A key frame opens each segment, and only there.
    for (const traf of trafs) {
      expect(traf.trun.samples.map((sample) => sample.flags === 0x0200_0000)).toEqual([
        true,
        ...new Array(24).fill(false),
      ])
    }
  })

  it('count from a given time origin', () => {
    const [, first] = segmentAll([readFixture('generated', 'h264-only.mkv')], { timeOriginMs: -1000 })
    if (first?.type !== 'media-segment') throw new Error('no media segment')
    expect(checkMediaSegment(join(first.parts))[0]!.tfdt).toBe(90_000)
  })

  it('turn B-frame reordering into composition offsets (trun version 1 when negative), decode times sorted', () => {
    const bytes = readFixture('generated', 'gst-streamable.mkv')
    const frames = framesPerDocument(bytes)[0]!.filter((frame) => frame.track === 1)
    const [, segment] = segmentAll([bytes], { tracks: [1] })
    if (segment?.type !== 'media-segment') throw new Error('no media segment')
    const [traf] = checkMediaSegment(join(segment.parts))
    expect(traf!.trun.version).toBe(1)
    const sorted = frames.map((frame) => frame.timestampMs).sort((a, b) => a - b)
    let dts = traf!.tfdt
    traf!.trun.samples.forEach((sample, i) => {
      expect(dts).toBe(sorted[i]! * 90)
      expect(dts + sample.compositionOffset).toBe(frames[i]!.timestampMs * 90)
      dts += sample.duration
    })
  })
})

/** The code of the `Fmp4Error` that `run` throws (another error as a string), or undefined when it returns. */
function codeOf(run: () => unknown): string | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    return Fmp4Error.is(error) ? error.code : String(error)
  }
}

describe('options and errors', () => {
  const twoTracks = readFixture('generated', 'ffmpeg-h264-aac.mkv')

  it('writes only the tracks asked for, in that order', () => {
    const events = segmentAll([twoTracks], { tracks: [2] })
    if (events[0]?.type !== 'init-segment') throw new Error('no init segment')
    expect(events[0].tracks.map((track) => track.id)).toEqual([2])
    expect(events[0].mimeType).toBe('audio/mp4; codecs="mp4a.40.2"')
    const trafs = mediaSegments(events).flatMap((segment) => checkMediaSegment(join(segment.parts)))
    expect(trafs.map((traf) => traf.trackId)).toEqual([2, 2, 2, 2])
    expect(trafs.reduce((sum, traf) => sum + traf.trun.samples.length, 0)).toBe(189)
  })

  it('takes maxFragmentBytes as a deprecated alias of maxBufferedFragmentBytes, and refuses both when they differ', () => {
    expect(codeOf(() => segmentAll([twoTracks], { maxFragmentBytes: 10_000 }))).toBe(
      'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
    )
    // readMkvFragment(s) hold nothing more than the bytes given: there the option bounds the largest block.
    expect(codeOf(() => readMkvFragments([twoTracks], { maxFragmentBytes: 100 }))).toBe(
      'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
    )
    expect(codeOf(() => readMkvFragments([twoTracks], { maxBufferedFragmentBytes: 100 }))).toBe(
      'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
    )
    expect(readMkvFragments([twoTracks], { maxBufferedFragmentBytes: 64 << 20 }).length).toBeGreaterThan(0)
    expect(
      codeOf(() =>
        segmentAll([twoTracks], { maxFragmentBytes: 64 << 20, maxBufferedFragmentBytes: 64 << 20 }),
      ),
    ).toBe(undefined)
    expect(() => createFmp4Segmenter({ maxFragmentBytes: 0 })).toThrow(
      'maxFragmentBytes must be a positive integer, got 0',
    )
    expect(() => createFmp4Segmenter({ maxFragmentBytes: 1_000, maxBufferedFragmentBytes: 2_000 })).toThrow(
      'maxFragmentBytes must be absent or equal to maxBufferedFragmentBytes (it is a deprecated alias of maxBufferedFragmentBytes), got 1000',
    )
    expect(() => readMkvFragment([twoTracks], { maxBufferedFragmentBytes: -1 })).toThrow(
      'maxBufferedFragmentBytes must be a positive integer, got -1',
    )
  })

  it('fails on a track the input lacks, on an unsupported codec, and past maxBufferedFragmentBytes', () => {
    expect(codeOf(() => segmentAll([twoTracks], { tracks: [3] }))).toBe('ERR_KVS_FMP4_NO_TRACK')
    expect(codeOf(() => segmentAll([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')]))).toBe(
      'ERR_KVS_FMP4_UNSUPPORTED_CODEC',
    )
    expect(codeOf(() => segmentAll([twoTracks], { maxBufferedFragmentBytes: 10_000 }))).toBe(
      'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
    )
    expect(() => createFmp4Segmenter({ tracks: [] })).toThrow(
      'tracks must be a non-empty array of track numbers, got an array',
    )
    expect(() => createFmp4Segmenter({ maxBufferedFragmentBytes: 0 })).toThrow(
      'maxBufferedFragmentBytes must be a positive integer, got 0',
    )
    expect(() => createFmp4Segmenter({ timeOriginMs: Number.POSITIVE_INFINITY })).toThrow(
      'timeOriginMs must be a finite number, got Infinity',
    )
    expect(() => createFmp4Segmenter({ timeOriginMs: '5' as unknown as number })).toThrow(
      'timeOriginMs must be a finite number, got "5"',
    )
  })

  it('emits a new init segment when the tracks change, or fails with onTracksChange: error', () => {
    // Two GetMedia documents of different streams: the H.264 Main file, then the High + AAC one.
    const body = join([readFixture('generated', 'h264-only.mkv'), twoTracks])
    const events = segmentAll([body])
    // One media segment per Cluster: three in the first file, four in the second.
    expect(events.map((event) => event.type)).toEqual([
      'init-segment',
      ...new Array(3).fill('media-segment'),
      'init-segment',
      ...new Array(4).fill('media-segment'),
    ])
    let failure: unknown
    const segmenter = createFmp4Segmenter({ onTracksChange: 'error' })
    // What was completed before the error is returned by the call that found it; the error comes next.
    expect(segmenter.push(body).map((event) => event.type)).toEqual([
      'init-segment',
      ...new Array(3).fill('media-segment'),
    ])
    try {
      segmenter.push(new Uint8Array(0))
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({ code: 'ERR_KVS_FMP4_TRACKS_CHANGED' })
    expect(failure).not.toHaveProperty('events')
    expect(() => segmenter.push(body)).toThrow(failure as Error)
    expect(() => segmenter.end()).toThrow(failure as Error)
  })
})

describe('adapters', () => {
  const bytes = readFixture('generated', 'h264-only.mkv')
  const expected = comparable(segmentAll([bytes]))

  it('Fmp4SegmenterStream and segmentFmp4 give the core events', async () => {
    const streamed: Fmp4Event[] = []
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 4096) controller.enqueue(bytes.subarray(at, at + 4096))
        controller.close()
      },
    }).pipeThrough(new Fmp4SegmenterStream())
    const reader = readable.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) streamed.push(read.value)
    expect(comparable(streamed)).toEqual(expected)
    const iterated: Fmp4Event[] = []
    for await (const event of segmentFmp4(Readable.from([bytes.subarray(0, 777), bytes.subarray(777)])))
      iterated.push(event)
    expect(comparable(iterated)).toEqual(expected)
  })

  it('createFmp4SegmenterTransform works as a pipeline() stage and passes errors on', async () => {
    const collected: Fmp4Event[] = []
    await pipeline(
      Readable.from([bytes]),
      createFmp4SegmenterTransform(),
      new Transform({
        objectMode: true,
        transform(event: Fmp4Event, _encoding, callback) {
          collected.push(event)
          callback()
        },
      }),
    )
    expect(comparable(collected)).toEqual(expected)
    await expect(
      pipeline(
        Readable.from([bytes]),
        createFmp4SegmenterTransform({ tracks: [9] }),
        async function* (source) {
          for await (const _ of source) yield _
        },
      ),
    ).rejects.toMatchObject({ code: 'ERR_KVS_FMP4_NO_TRACK' })
  })
})
