import {
  EbmlError,
  ElementId,
  writeEbmlHeader,
  writeSimpleTags,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { partitionLabel, readFixture, splits } from '@kvs-streams/test-utils'
import { describe, expect, test } from 'vitest'
import {
  createGetMediaParser,
  type FrameEvent,
  type GetMediaEvent,
  GetMediaParseError,
  GetMediaServiceError,
} from '../src/index.ts'
import { buildCluster, buildDocument, elementHeader, kvsEndTags, kvsStartTags } from './build.ts'
import { expectedCaptures } from './expected-captures.ts'
import { fingerprint, join, parseAll, parseOk, summarize } from './helpers.ts'

const NUMBER_1 = '91343852333181432392682062609776234230823574155'
const NUMBER_2 = '91343852333181432397633822766917755336254238380'

function errorChunk(tags: { name: string; value: string }[]): Uint8Array {
  return join([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment, 8),
    writeSimpleTags(tags, { sizeWidth: 4 }),
  ])
}

/** Runs `check` on the events of `bytes` parsed whole and at every split offset (they must all agree). */
function everySplit(bytes: Uint8Array): GetMediaEvent[] {
  const whole = parseOk([bytes])
  const expected = fingerprint(whole)
  for (const chunks of splits(bytes, { maxOffsets: 400 })) {
    expect(fingerprint(parseOk(chunks)), partitionLabel(chunks)).toBe(expected)
  }
  return whole
}

describe('error chunks', () => {
  test('a GetMedia error chunk (ERROR_ID 4000) after two fragments gives a typed error event, not a throw', () => {
    const renderer = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
    const [first, second] = expectedCaptures['kinesis_video_renderer_example_output.mkv']!
    const twoFragments = renderer.subarray(0, first!.byteLength + second!.byteLength)
    const chunk = errorChunk([
      { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: NUMBER_2 },
      { name: 'AWS_KINESISVIDEO_ERROR_ID', value: '4000' },
      { name: 'AWS_KINESISVIDEO_ERROR_CODE', value: 'Requested fragment not found' },
    ])
    const events = parseOk([join([twoFragments, chunk])])
    expect(summarize(events)).toHaveLength(2)
    const last = events.at(-1)!
    expect(last.type).toBe('service-error')
    const { error } = last as { error: GetMediaServiceError }
    expect(GetMediaServiceError.is(error)).toBe(true)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({
      name: 'GetMediaServiceError',
      code: 'ERR_KVS_GETMEDIA_SERVICE_ERROR',
      errorId: 4000,
      errorCode: 'Requested fragment not found',
      fragmentNumber: NUMBER_2,
      offset: twoFragments.length + chunk.length,
    })
    // No fragment events for the error chunk itself.
    expect(events.filter((event) => event.type === 'fragment-start')).toHaveLength(2)
  })

  test('the error event is the same however the error chunk is split', () => {
    const chunk = errorChunk([
      { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: NUMBER_1 },
      { name: 'AWS_KINESISVIDEO_ERROR_ID', value: '5000' },
      { name: 'AWS_KINESISVIDEO_ERROR_CODE', value: 'Internal error' },
    ])
    const events = everySplit(chunk)
    expect(events).toMatchObject([
      { type: 'service-error', error: { errorId: 5000, fragmentNumber: NUMBER_1 } },
    ])
  })

  test('a GetMediaForFragmentList exception chunk gives an error event with its code and message', () => {
    const events = parseOk([
      errorChunk([
        { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: NUMBER_1 },
        { name: 'AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE', value: 'FRAGMENT_NOT_FOUND' },
        { name: 'AWS_KINESISVIDEO_EXCEPTION_MESSAGE', value: 'Fragment not found' },
      ]),
    ])
    expect(events).toHaveLength(1)
    expect((events[0] as { error: GetMediaServiceError }).error).toMatchObject({
      errorId: undefined,
      errorCode: 'FRAGMENT_NOT_FOUND',
      serviceMessage: 'Fragment not found',
      fragmentNumber: NUMBER_1,
    })
  })

  test('an error after a fragment’s cluster is reported, and the fragment still ends (incomplete)', () => {
    const document = buildDocument({
      before: [kvsStartTags(NUMBER_1)],
      clusters: [{ timecode: 0, blocks: [{ timecode: 0, keyframe: true }] }],
      after: [[{ name: 'AWS_KINESISVIDEO_ERROR_ID', value: '3002' }]],
    })
    expect(parseOk([document]).map((event) => event.type)).toEqual([
      'fragment-start',
      'frame',
      'service-error',
      'fragment-end',
    ])
  })
})

describe('fragments built with the writer', () => {
  test('documents without a continuation token end at the next EBML header (GetMediaForFragmentList)', () => {
    const documents = [NUMBER_1, NUMBER_2].map((number, index) =>
      buildDocument({
        before: [
          [
            { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: number },
            { name: 'AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP', value: `1519423069.${index}00` },
            { name: 'AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP', value: '1519423067.5' },
          ],
        ],
        clusters: [{ timecode: index * 2000, blocks: [{ timecode: 0, keyframe: true }] }],
      }),
    )
    const parser = createGetMediaParser()
    const first = parser.push(documents[0]!)
    expect(first.map((event) => event.type)).toEqual(['fragment-start', 'frame'])
    expect(first[0]).toMatchObject({ serverTimestampMs: 1519423069000, producerTimestampMs: 1519423067500 })
    // The next document's EBML header ends the first fragment, before any of its own events.
    const second = parser.push(documents[1]!)
    expect(second.map((event) => event.type)).toEqual(['fragment-end', 'fragment-start', 'frame'])
    expect(second[0]).toMatchObject({
      fragmentNumber: NUMBER_1,
      complete: false,
      byteLength: documents[0]!.length,
    })
    expect(parser.end()).toMatchObject([{ type: 'fragment-end', fragmentNumber: NUMBER_2, complete: false }])
  })

  test('a known-size Segment ends its fragment at its last byte', () => {
    const document = buildDocument({
      knownSizeSegment: true,
      clusters: [{ timecode: 0, blocks: [{ timecode: 0 }] }],
    })
    const events = createGetMediaParser().push(document)
    expect(events.map((event) => event.type)).toEqual(['fragment-start', 'frame', 'fragment-end'])
  })

  test('BlockGroups: BlockDuration, ReferenceBlock and DefaultDuration give durations and key frames', () => {
    const document = buildDocument({
      timecodeScale: 100_000,
      tracks: [
        { number: 1, defaultDurationNs: 40_000_000 },
        { number: 2, type: 2, codecId: 'A_OPUS', channels: 2 },
      ],
      clusters: [
        {
          timecode: 1000,
          blocks: [
            { track: 1, timecode: 0, group: { duration: 400 } },
            { track: 1, timecode: 400, group: { reference: -4 } },
            { track: 2, timecode: 5, keyframe: true },
            { track: 1, timecode: -10, keyframe: false },
          ],
        },
      ],
    })
    const frames = everySplit(document).filter((event): event is FrameEvent => event.type === 'frame')
    expect(frames.map(({ data, ...rest }) => rest)).toEqual([
      { type: 'frame', track: 1, timestampMs: 100, keyframe: true, durationMs: 40, lacing: 'none' },
      { type: 'frame', track: 1, timestampMs: 140, keyframe: false, durationMs: 40, lacing: 'none' },
      { type: 'frame', track: 2, timestampMs: 100.5, keyframe: true, durationMs: undefined, lacing: 'none' },
      { type: 'frame', track: 1, timestampMs: 99, keyframe: false, durationMs: 40, lacing: 'none' },
    ])
    expect(frames.every((frame) => frame.data.join() === '1,2,3')).toBe(true)
  })

  test('a laced block is delivered whole, lacing header included, with its lacing', () => {
    const laced = Uint8Array.of(1, 2, 0xaa, 0xbb, 0xcc, 0xdd) // Xiph: 2 frames, sizes 2 and the rest
    const document = buildDocument({
      clusters: [{ timecode: 0, blocks: [{ timecode: 0, data: laced, flags: 0x80 | 0x02 }] }],
    })
    const frame = parseOk([document]).find((event) => event.type === 'frame')
    expect(frame).toMatchObject({ keyframe: true, lacing: 'xiph', data: laced })
  })

  test('several clusters in one document are one fragment; frames carry each cluster’s timecode', () => {
    const document = buildDocument({
      before: [kvsStartTags(NUMBER_1)],
      clusters: [
        { timecode: 0, blocks: [{ timecode: 0, keyframe: true }, { timecode: 33 }] },
        { timecode: 5000, unknownSize: true, blocks: [{ timecode: 0, keyframe: true }] },
      ],
      after: [kvsEndTags(NUMBER_1)],
    })
    const events = everySplit(document)
    expect(events.flatMap((event) => (event.type === 'frame' ? [event.timestampMs] : []))).toEqual([
      0, 33, 5000,
    ])
    expect(events.at(-1)).toMatchObject({ type: 'fragment-end', frameCount: 3, complete: true })
  })

  test('producer tags: nested SimpleTags, odd names and KVS names are handled', () => {
    const nested = buildDocument({
      before: [
        [
          { name: '__proto__', value: 'polluted?' },
          { name: 'AWS_KINESISVIDEO_FUTURE_TAG', value: 'x' },
        ],
      ],
      clusters: [{ timecode: 0, blocks: [{ timecode: 0 }] }],
      after: [[{ name: 'constructor', value: 'c' }]],
    })
    const end = parseOk([nested]).at(-1) as { tags: Record<string, string> }
    expect(Object.keys(end.tags)).toEqual(['__proto__', 'constructor'])
    expect(Object.getOwnPropertyDescriptor(end.tags, '__proto__')?.value).toBe('polluted?')
    expect(Object.getPrototypeOf(end.tags)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('anything after the continuation token in the same document is not part of the fragment', () => {
    const document = buildDocument({
      before: [kvsStartTags(NUMBER_1)],
      clusters: [{ timecode: 0, blocks: [{ timecode: 0 }] }],
      after: [kvsEndTags(NUMBER_1), [{ name: 'late', value: 'tag' }]],
    })
    const late = join([document, buildCluster({ timecode: 9000, blocks: [{ timecode: 0 }] })])
    const events = parseOk([late])
    expect(events.map((event) => event.type)).toEqual(['fragment-start', 'frame', 'fragment-end'])
    expect(events.at(-1)).toMatchObject({ tags: {}, frameCount: 1 })
  })

  test('5s.webm: VP9 + Opus with one BlockGroup parses to 401 frames', () => {
    const events = parseOk([readFixture('webm', '5s.webm')])
    const frames = events.filter((event): event is FrameEvent => event.type === 'frame')
    expect(frames).toHaveLength(401)
    expect(frames.at(-1)).toMatchObject({ track: 2, timestampMs: 5000, keyframe: true })
    expect(frames.at(-1)!.data).toHaveLength(375)
    expect(events[0]).toMatchObject({
      tracks: [
        { number: 1, codecId: 'V_VP9', width: 1920, height: 1080 },
        { number: 2, codecId: 'A_OPUS', samplingFrequency: 48000, channels: 2 },
      ],
    })
  })
})

describe('limits and bad input', () => {
  const clusterStart = join([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment, 8),
    writeUnknownSizeStart(ElementId.Cluster),
    Uint8Array.of(0xe7, 0x81, 0x00), // Timecode 0
  ])

  test('a frame declaring 2 GB fails at its header with ERR_KVS_GETMEDIA_FRAME_TOO_LARGE, holding nothing', () => {
    const parser = createGetMediaParser()
    const input = join([clusterStart, elementHeader(ElementId.SimpleBlock, 2 ** 31), new Uint8Array(1000)])
    // The push returns the events completed before the failure; the error comes from the next call.
    expect(parser.push(input)).toMatchObject([{ type: 'fragment-start' }])
    let error: unknown
    try {
      parser.push(new Uint8Array(1))
    } catch (caught) {
      error = caught
    }
    expect(GetMediaParseError.is(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE',
      offset: clusterStart.length,
      elementId: ElementId.SimpleBlock,
    })
    expect(error).not.toHaveProperty('events')
    // Sticky: later calls throw the same error.
    expect(() => parser.push(new Uint8Array(1))).toThrow(error as Error)
    expect(() => parser.end()).toThrow(error as Error)
  })

  test('maxFrameBytes applies to a frame still being read across pushes', () => {
    const parser = createGetMediaParser({ maxFrameBytes: 1000 })
    // Block header (track 1, timecode 0, key frame) and the first of its 900 bytes, then the rest in two pushes.
    parser.push(
      join([clusterStart, elementHeader(ElementId.SimpleBlock, 900), Uint8Array.of(0x81, 0, 0, 0x80)]),
    )
    parser.push(new Uint8Array(796))
    expect(parser.bufferedBytes).toBeLessThan(2000)
    expect(parser.push(new Uint8Array(100))).toMatchObject([{ type: 'frame' }])
    expect(() => parser.push(elementHeader(ElementId.SimpleBlock, 1001))).toThrow(
      expect.objectContaining({ code: 'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE' }),
    )
  })

  test.each([
    ['frames', { maxFrameBytes: 2000 }, 'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE'],
    ['raw', { mode: 'raw', maxBufferedFragmentBytes: 1500 }, 'ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE'],
  ] as const)(
    'limit errors (%s mode) are the same, after the same events, however the input is split',
    (_mode, options, code) => {
      const small = buildDocument({
        before: [kvsStartTags(NUMBER_1)],
        clusters: [{ timecode: 0, blocks: [{ timecode: 0, data: new Uint8Array(500) }] }],
        after: [kvsEndTags(NUMBER_1)],
      })
      const large = buildDocument({
        before: [kvsStartTags(NUMBER_2)],
        clusters: [
          { timecode: 0, blocks: [{ timecode: 0, keyframe: true, data: new Uint8Array(3000).fill(7) }] },
        ],
        after: [kvsEndTags(NUMBER_2)],
      })
      const input = join([small, large])
      const whole = parseAll([input], options)
      expect(whole.error).toMatchObject({ code, offset: expect.any(Number) })
      const expected = fingerprint(whole.events)
      for (const chunks of splits(input, { maxOffsets: 300 })) {
        const split = parseAll(chunks, options)
        expect(split.error, partitionLabel(chunks)).toMatchObject({
          code,
          offset: (whole.error as { offset: number }).offset,
        })
        expect(fingerprint(split.events), partitionLabel(chunks)).toBe(expected)
      }
    },
  )

  test('a size beyond 2^53 is an EbmlError, passed through', () => {
    const { error } = parseAll([join([clusterStart, elementHeader(ElementId.SimpleBlock, 2n ** 55n)])])
    expect(EbmlError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_ELEMENT_TOO_LARGE' })
  })

  test('more SimpleTags than maxTags fails with ERR_KVS_GETMEDIA_TOO_MANY_TAGS', () => {
    const tags = Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, value: 'v' }))
    const { error, events } = parseAll([buildDocument({ before: [tags] })], { maxTags: 4 })
    expect(error).toMatchObject({ name: 'GetMediaParseError', code: 'ERR_KVS_GETMEDIA_TOO_MANY_TAGS' })
    expect(events).toEqual([])
  })

  test('a tag longer than maxTagValueLength fails with ERR_KVS_GETMEDIA_TAG_TOO_LARGE', () => {
    const document = buildDocument({ before: [[{ name: 'big', value: 'x'.repeat(200) }]] })
    expect(parseAll([document], { maxTagValueLength: 100 }).error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_TAG_TOO_LARGE',
      elementId: ElementId.TagString,
    })
    // A value over maxFrameBytes is refused by the reader's own limit, reported with the same code.
    expect(parseAll([document], { maxFrameBytes: 100 }).error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_TAG_TOO_LARGE',
      cause: expect.objectContaining({ code: 'ERR_KVS_EBML_ELEMENT_TOO_LARGE' }),
    })
  })

  test('more TrackEntries than maxTracks fails with ERR_KVS_GETMEDIA_TOO_MANY_TRACKS', () => {
    const document = buildDocument({ tracks: [{ number: 1 }, { number: 2 }, { number: 3 }] })
    expect(parseAll([document], { maxTracks: 2 }).error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_TOO_MANY_TRACKS',
    })
  })

  test('a body that does not start with an EBML header fails with ERR_KVS_GETMEDIA_NOT_MKV', () => {
    const { error } = parseAll([writeSimpleTags([{ name: 'a', value: 'b' }])])
    expect(error).toMatchObject({ code: 'ERR_KVS_GETMEDIA_NOT_MKV', offset: 0, elementId: ElementId.Tags })
    // A leaf first (here a Void) is refused too.
    expect(parseAll([Uint8Array.of(0xec, 0x81, 0x00)]).error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_NOT_MKV',
    })
  })

  test('a block before its Cluster Timecode, or shorter than its header, fails with ERR_KVS_GETMEDIA_INVALID_BLOCK', () => {
    const start = join([
      writeEbmlHeader(),
      writeUnknownSizeStart(ElementId.Segment, 8),
      writeUnknownSizeStart(ElementId.Cluster),
    ])
    const block = Uint8Array.of(0xa3, 0x84, 0x81, 0x00, 0x00, 0x80)
    expect(parseAll([join([start, block])]).error).toMatchObject({ code: 'ERR_KVS_GETMEDIA_INVALID_BLOCK' })
    const short = Uint8Array.of(0xa3, 0x82, 0x81, 0x00)
    expect(parseAll([join([clusterStart, short])]).error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_INVALID_BLOCK',
    })
  })

  test('bad options throw TypeError with the house message pattern', () => {
    expect(() => createGetMediaParser({ mode: 'frame' as 'frames' })).toThrow(
      new TypeError(`mode must be 'frames' or 'raw', got "frame"`),
    )
    expect(() => createGetMediaParser({ maxFrameBytes: 0 })).toThrow(
      new TypeError('maxFrameBytes must be a positive integer, got 0'),
    )
    expect(() => createGetMediaParser({ maxTags: 1.5 })).toThrow(TypeError)
  })

  test('push() after end() is a usage error; end() twice returns nothing', () => {
    const parser = createGetMediaParser()
    parser.end()
    expect(parser.end()).toEqual([])
    expect(() => parser.push(new Uint8Array(1))).toThrow('push() after end()')
  })

  test('an empty body gives no events', () => {
    expect(parseOk([])).toEqual([])
    expect(parseOk([new Uint8Array(0), new Uint8Array(0)])).toEqual([])
  })
})
