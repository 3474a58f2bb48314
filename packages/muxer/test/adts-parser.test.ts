import { fcPartition, partitionLabel, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { expect, describe as group, it } from 'vitest'
import {
  ADTS_SAMPLE_RATES,
  type AudioConfigEvent,
  audioSpecificConfig,
  createAdtsParser,
  type FrameEvent,
  MuxerError,
} from '../src/index.ts'
import { AUDIO_FIXTURES, annexbFixture, describe, parseAdtsAll, views } from './helpers.ts'

/** An ADTS frame: AAC-LC (object type 2), the given rate index and channels, `payload` bytes, CRC optional. */
function adtsFrame(
  payload: Uint8Array,
  options: { rate?: number; channels?: number; crc?: boolean; blocks?: number } = {},
) {
  const { rate = 3, channels = 2, crc = false, blocks = 1 } = options
  const headerSize = crc ? 9 : 7
  const length = headerSize + payload.length
  const header = new Uint8Array(headerSize)
  header[0] = 0xff
  header[1] = 0xf0 | (crc ? 0 : 1)
  header[2] = (1 << 6) | (rate << 2) | (channels >> 2)
  header[3] = ((channels & 3) << 6) | (length >> 11)
  header[4] = (length >> 3) & 0xff
  header[5] = ((length & 7) << 5) | 0x1f
  header[6] = 0xfc | (blocks - 1)
  return Buffer.concat([header, payload])
}

const frames = (events: readonly { type: string }[]) =>
  events.filter((e) => e.type === 'frame') as FrameEvent[]

group('ADTS parser', () => {
  for (const fixture of AUDIO_FIXTURES) {
    it(`reads ${fixture.file}: ${fixture.frames} frames of 1024 samples, its AudioSpecificConfig`, () => {
      const bytes = annexbFixture(fixture.file)
      const run = parseAdtsAll([bytes])
      expect(run.error).toBeUndefined()
      const config = run.events[0] as AudioConfigEvent
      expect(config).toMatchObject({
        type: 'config',
        codec: 'aac',
        codecId: 'A_AAC',
        objectType: 2,
        sampleRate: fixture.sampleRate,
        channels: fixture.channels,
      })
      const rateIndex = ADTS_SAMPLE_RATES.indexOf(fixture.sampleRate)
      expect([...config.codecPrivate]).toEqual([...audioSpecificConfig(2, rateIndex, fixture.channels)])
      const list = frames(run.events)
      expect(list).toHaveLength(fixture.frames)
      const duration = (1024 * 1000) / fixture.sampleRate
      list.forEach((frame, i) => {
        expect(frame).toMatchObject({ index: i, keyframe: true, durationMs: duration })
        expect(frame.pts).toBeCloseTo(i * duration, 9)
        expect(frame.dts).toBe(frame.pts)
      })
      // Headers removed: the frames' data plus one 7-byte header each is the whole stream.
      expect(list.reduce((sum, frame) => sum + frame.byteLength, 0) + 7 * list.length).toBe(bytes.length)
    })
  }

  it('builds the AudioSpecificConfig as ffmpeg does (AAC-LC, 48 kHz, stereo: 11 90)', () => {
    expect([...audioSpecificConfig(2, 3, 2)]).toEqual([0x11, 0x90])
  })

  it('emits the same events however the input is chunked (every offset, one byte at a time)', () => {
    // The first frames of a fixture, whole frames only.
    const bytes = annexbFixture('ffmpeg-aac.adts')
    let end = 0
    while (end < 1500) end += ((bytes[end + 3]! & 3) << 11) | (bytes[end + 4]! << 3) | (bytes[end + 5]! >> 5)
    const cut = bytes.subarray(0, end)
    const expected = describe(parseAdtsAll([cut]))
    expect(expected.length).toBeGreaterThan(3)
    for (const chunks of splits(cut))
      expect(describe(parseAdtsAll(chunks)), partitionLabel(chunks)).toEqual(expected)
  })

  it('emits the same events for any partition of a fixture (fast-check)', () => {
    const bytes = annexbFixture('gst-voaac.adts')
    const expected = describe(parseAdtsAll([bytes]))
    fc.assert(
      fc.property(fcPartition(bytes, { maxChunks: 300, emptyChunks: true }), (chunks) => {
        expect(describe(parseAdtsAll(chunks))).toEqual(expected)
      }),
      { numRuns: 50 },
    )
  })

  it('reads headers with a CRC (9 bytes) and leaves the CRC out of the frame', () => {
    const payload = Uint8Array.of(1, 2, 3, 4)
    const run = parseAdtsAll(views(Buffer.concat([adtsFrame(payload, { crc: true }), adtsFrame(payload)]), 3))
    expect(run.error).toBeUndefined()
    expect(frames(run.events).map((frame) => Buffer.concat(frame.data).toString('hex'))).toEqual([
      '01020304',
      '01020304',
    ])
  })

  it('fails with ERR_KVS_ADTS_BAD_SYNC on bytes that are not an ADTS header, at their offset', () => {
    const good = adtsFrame(new Uint8Array(10))
    const run = parseAdtsAll([Buffer.concat([good, Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0)])])
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ADTS_BAD_SYNC', offset: good.length })
    expect(frames(run.events)).toHaveLength(1)
    // MPEG audio layer 3 (an MP3 frame header) is not ADTS either.
    expect(parseAdtsAll([Uint8Array.of(0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0, 0)]).error).toMatchObject({
      code: 'ERR_KVS_ADTS_BAD_SYNC',
      offset: 0,
    })
  })

  it('fails on a frame length that leaves no data, or a reserved sampling frequency', () => {
    const empty = adtsFrame(new Uint8Array(0))
    expect(parseAdtsAll([empty]).error).toMatchObject({ code: 'ERR_KVS_ADTS_INVALID_HEADER' })
    const reserved = adtsFrame(new Uint8Array(4), { rate: 13 })
    expect(parseAdtsAll([reserved]).error).toMatchObject({ code: 'ERR_KVS_ADTS_INVALID_HEADER' })
  })

  it('fails when the stream changes its configuration (or a header is corrupt)', () => {
    const run = parseAdtsAll([adtsFrame(new Uint8Array(4)), adtsFrame(new Uint8Array(4), { channels: 1 })])
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ADTS_CONFIG_CHANGED', offset: 11 })
    expect(frames(run.events)).toHaveLength(1)
  })

  it('refuses what it cannot turn into one Matroska frame: several raw data blocks, channel configuration 0', () => {
    expect(parseAdtsAll([adtsFrame(new Uint8Array(8), { blocks: 2 })]).error).toMatchObject({
      code: 'ERR_KVS_ADTS_UNSUPPORTED',
    })
    expect(parseAdtsAll([adtsFrame(new Uint8Array(8), { channels: 0 })]).error).toMatchObject({
      code: 'ERR_KVS_ADTS_UNSUPPORTED',
    })
  })

  it('fails with ERR_KVS_ADTS_TRUNCATED when the input ends inside a frame', () => {
    const frame = adtsFrame(new Uint8Array(20))
    for (const cut of [3, 7, 20]) {
      const run = parseAdtsAll([Buffer.concat([frame, frame.subarray(0, cut)])])
      expect(run.error).toMatchObject({ code: 'ERR_KVS_ADTS_TRUNCATED', offset: frame.length })
      expect(frames(run.events)).toHaveLength(1)
    }
  })

  it('fails at once, holding nothing, on megabytes of garbage', () => {
    const parser = createAdtsParser()
    expect(() => parser.push(new Uint8Array(4 * 1024 * 1024).fill(0x42))).toThrow(MuxerError)
    expect(parser.bufferedBytes).toBe(0)
  })

  it('gives events or a MuxerError for any bytes, never holding more than one frame (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 64 }), (bytes, size) => {
        const parser = createAdtsParser()
        try {
          for (const chunk of views(bytes, size)) {
            parser.push(chunk)
            expect(parser.bufferedBytes).toBeLessThanOrEqual(8191)
          }
          parser.end()
        } catch (error) {
          expect(MuxerError.is(error)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })
})
