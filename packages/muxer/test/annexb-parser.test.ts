import { fcPartition, oneByteAtATime, partitionLabel, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { expect, describe as group, it } from 'vitest'
import { createAnnexBParser, type FrameEvent, MuxerError, type VideoConfigEvent } from '../src/index.ts'
import {
  annexbFixture,
  describe,
  joinNalUnits,
  parseAll,
  splitNalUnits,
  VIDEO_FIXTURES,
  views,
} from './helpers.ts'

const frames = (events: readonly { type: string }[]) =>
  events.filter((e) => e.type === 'frame') as FrameEvent[]
const configs = (events: readonly { type: string }[]) =>
  events.filter((e) => e.type === 'config') as VideoConfigEvent[]

/** NAL unit types of a length-prefixed frame. */
function nalTypes(frame: FrameEvent, codec: 'h264' | 'h265'): number[] {
  const bytes = Buffer.concat(frame.data)
  const types: number[] = []
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at)
    types.push(codec === 'h264' ? bytes[at + 4]! & 0x1f : (bytes[at + 4]! >> 1) & 0x3f)
    at += 4 + length
  }
  return types
}

/** The NAL units of a fixture and the ones making its first `pictures` pictures (with what precedes them). */
function firstPictures(file: string, pictures: number): Uint8Array[] {
  const nals = splitNalUnits(annexbFixture(file))
  const out: Uint8Array[] = []
  let seen = 0
  for (const nal of nals) {
    const type = nal[0]! & 0x1f
    if ((type === 1 || type === 5) && (nal[1]! & 0x80) !== 0 && ++seen > pictures) break
    out.push(nal)
  }
  return out
}

group('Annex-B parser on the fixtures', () => {
  for (const fixture of VIDEO_FIXTURES) {
    it(`reads ${fixture.file}: ${fixture.frames} frames, ${fixture.keys} key frames, size, reorder depth`, () => {
      const run = parseAll([annexbFixture(fixture.file)], { codec: fixture.codec })
      expect(run.error).toBeUndefined()
      const [config, ...more] = configs(run.events)
      expect(more).toEqual([])
      expect(config).toMatchObject({
        codec: fixture.codec,
        codecId: fixture.codec === 'h264' ? 'V_MPEG4/ISO/AVC' : 'V_MPEGH/ISO/HEVC',
        width: fixture.width,
        height: fixture.height,
        fps: 25,
        frameDurationMs: 40,
        reorderFrames: fixture.reorder,
      })
      expect(run.events[0]).toBe(config)
      const list = frames(run.events)
      expect(list).toHaveLength(fixture.frames)
      expect(list.filter((frame) => frame.keyframe).map((frame) => frame.pts)).toEqual([0, 1000, 2000, 3000])
      expect(list.map((frame) => frame.index)).toEqual(list.map((_, i) => i))
      // Every presentation time once, on the frame grid; decoding times in order, never after presentation.
      expect(list.map((frame) => frame.pts).sort((a, b) => a - b)).toEqual(list.map((_, i) => i * 40))
      expect(list.map((frame) => frame.dts)).toEqual(list.map((_, i) => (i - fixture.reorder) * 40))
      for (const frame of list) expect(frame.dts).toBeLessThanOrEqual(frame.pts)
      expect(list.some((frame, i) => frame.pts !== i * 40)).toBe(fixture.reorder > 0)
    })

    it(`writes ${fixture.file}'s NAL units length-prefixed, without delimiters or filler`, () => {
      const bytes = annexbFixture(fixture.file)
      const list = frames(parseAll([bytes], { codec: fixture.codec }).events)
      const kept = splitNalUnits(bytes).filter((nal) => {
        const type = fixture.codec === 'h264' ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f
        return fixture.codec === 'h264' ? type !== 9 && type !== 12 : type !== 35 && type !== 38
      })
      const joined = Buffer.concat(list.flatMap((frame) => frame.data))
      const expected = Buffer.concat(
        kept.flatMap((nal) => {
          const length = Buffer.alloc(4)
          length.writeUInt32BE(nal.length)
          return [length, nal]
        }),
      )
      expect(joined.equals(expected)).toBe(true)
      for (const frame of list) {
        expect(frame.byteLength).toBe(frame.data.reduce((sum, part) => sum + part.length, 0))
        const types = nalTypes(frame, fixture.codec)
        if (fixture.codec === 'h264') expect(types.includes(5)).toBe(frame.keyframe)
        else expect(types.some((type) => type >= 16 && type <= 23)).toBe(frame.keyframe)
      }
    })
  }

  it('emits the same events however the input is chunked (every offset of a short stream, one byte at a time)', () => {
    const bytes = joinNalUnits(firstPictures('ffmpeg-h264-high-bframes.h264', 8))
    expect(bytes.length).toBeLessThan(20_000)
    const expected = describe(parseAll([bytes]))
    expect(frames(parseAll([bytes]).events)).toHaveLength(8)
    for (const chunks of splits(bytes)) {
      expect(describe(parseAll(chunks)), partitionLabel(chunks)).toEqual(expected)
    }
  })

  for (const fixture of VIDEO_FIXTURES) {
    it(`emits the same events for ${fixture.file} split anywhere (sampled offsets, random partitions)`, () => {
      const bytes = annexbFixture(fixture.file)
      const options = { codec: fixture.codec }
      const expected = describe(parseAll([bytes], options))
      for (const chunks of splits(bytes, { maxOffsets: 40, oneByteAtATime: false })) {
        expect(describe(parseAll(chunks, options)), partitionLabel(chunks)).toEqual(expected)
      }
    })
  }

  it('emits the same events for a whole fixture pushed one byte at a time', () => {
    const bytes = annexbFixture('gst-x264.h264')
    expect(describe(parseAll(oneByteAtATime(bytes)))).toEqual(describe(parseAll([bytes])))
  })

  it('emits the same events for any partition of a fixture (fast-check)', () => {
    const bytes = annexbFixture('ffmpeg-h265.h265')
    const expected = describe(parseAll([bytes], { codec: 'h265' }))
    fc.assert(
      fc.property(fcPartition(bytes, { maxChunks: 200, emptyChunks: true }), (chunks) => {
        expect(describe(parseAll(chunks, { codec: 'h265' }))).toEqual(expected)
      }),
      { numRuns: 25 },
    )
  })
})

group('Annex-B byte stream forms', () => {
  const nals = firstPictures('ffmpeg-h264-high-bframes.h264', 30)
  /** The events without input offsets, which differ between the forms. */
  const withoutOffsets = (bytes: Uint8Array | Uint8Array[]) =>
    describe(parseAll(bytes instanceof Uint8Array ? [bytes] : bytes)).map((event) => ({
      ...(event as object),
      offset: undefined,
    }))
  const expected = withoutOffsets(joinNalUnits(nals))

  const variants: [string, Uint8Array][] = [
    ['3-byte start codes', joinNalUnits(nals, [0, 0, 1])],
    [
      'mixed start codes and trailing zero bytes',
      Buffer.concat(
        nals.flatMap((nal, i) => [
          Uint8Array.from(i % 3 === 0 ? [0, 0, 0, 0, 0, 1] : i % 3 === 1 ? [0, 0, 1] : [0, 0, 0, 1]),
          nal,
        ]),
      ),
    ],
    ['leading zero bytes', Buffer.concat([new Uint8Array(1000), joinNalUnits(nals)])],
    ['trailing zero bytes at the end', Buffer.concat([joinNalUnits(nals), new Uint8Array(7)])],
    [
      'garbage before the first start code',
      Buffer.concat([Uint8Array.of(0x47, 0x11, 0x01, 0x00, 0xff), joinNalUnits(nals)]),
    ],
    [
      'an access unit delimiter before every picture, filler data after it',
      joinNalUnits(
        nals.flatMap((nal) => {
          const type = nal[0]! & 0x1f
          const first = (type === 1 || type === 5) && (nal[1]! & 0x80) !== 0
          return first
            ? [nal, Uint8Array.of(0x0c, 0xff, 0xff, 0x80)]
            : type === 7
              ? [Uint8Array.of(0x09, 0xf0), nal]
              : [nal]
        }),
      ),
    ],
  ]
  for (const [name, bytes] of variants) {
    it(`gives the same frames with ${name}`, () => {
      expect(withoutOffsets(bytes)).toEqual(expected)
      expect(withoutOffsets(views(bytes, 7))).toEqual(expected)
    })
  }

  it('drops the access units before the first key frame (a stream joined mid-GOP)', () => {
    const all = splitNalUnits(annexbFixture('ffmpeg-h264-baseline.h264'))
    // Parameter sets, then the pictures from the 3rd of the first GOP: 23 of them are not decodable.
    const sets = all.filter((nal) => [7, 8].includes(nal[0]! & 0x1f)).slice(0, 2)
    let pictures = 0
    const rest = all.filter((nal) => {
      const type = nal[0]! & 0x1f
      if ((type === 1 || type === 5) && (nal[1]! & 0x80) !== 0) pictures++
      return pictures > 2 && type !== 7 && type !== 8 && type !== 6
    })
    const parser = createAnnexBParser()
    const events = [...parser.push(joinNalUnits([...sets, ...rest])), ...parser.end()]
    expect(parser.droppedFrames).toBe(23)
    expect(frames(events)).toHaveLength(75)
    expect(frames(events)[0]).toMatchObject({ keyframe: true, pts: 0, index: 0 })
    expect(events[0]?.type).toBe('config')
  })

  it('goes on across a second stream with other parameter sets: a new config event, continuous times', () => {
    const baseline = annexbFixture('ffmpeg-h264-baseline.h264')
    const high = annexbFixture('ffmpeg-h264-high-bframes.h264')
    const events = parseAll([baseline, high]).events
    const list = frames(events)
    expect(list).toHaveLength(200)
    expect(configs(events).map((config) => [config.width, config.height, config.profile])).toEqual([
      [320, 240, 66],
      [320, 180, 100],
    ])
    // The timing stays that of the first configuration; the second stream's pictures follow the first's.
    expect(list.map((frame) => frame.pts).sort((a, b) => a - b)).toEqual(list.map((_, i) => i * 40))
    expect(list[100]).toMatchObject({ keyframe: true, pts: 4000 })
    expect(events.indexOf(configs(events)[1]!)).toBe(events.indexOf(list[100]!) - 1)
  })

  it('repeats no config event for repeated identical parameter sets', () => {
    const bytes = annexbFixture('ffmpeg-h264-baseline.h264')
    expect(splitNalUnits(bytes).filter((nal) => (nal[0]! & 0x1f) === 7).length).toBe(4)
    expect(configs(parseAll([bytes]).events)).toHaveLength(1)
  })

  it('takes the frame rate from the fps option, then the stream, then 25', () => {
    const bytes = annexbFixture('ffmpeg-h264-baseline.h264')
    const [optioned] = configs(parseAll([bytes], { fps: 30000 / 1001 }).events)
    expect(optioned).toMatchObject({ fps: 30000 / 1001, fpsSource: 'option', frameDurationMs: 1001 / 30 })
    expect(frames(parseAll([bytes], { fps: 50 }).events)[99]?.pts).toBe(99 * 20)
    expect(configs(parseAll([bytes]).events)[0]).toMatchObject({ fps: 25, fpsSource: 'stream' })
    expect(configs(parseAll([annexbFixture('gst-openh264.h264')]).events)[0]).toMatchObject({
      fps: 25,
      fpsSource: 'default',
    })
  })
})

group('Annex-B parser errors', () => {
  it('fails on input without a start code, at the end or past maxAccessUnitBytes', () => {
    expect(parseAll([Uint8Array.of(1, 2, 3)]).error).toMatchObject({ code: 'ERR_KVS_ANNEXB_NO_START_CODE' })
    const run = parseAll(views(new Uint8Array(3 * 1024 * 1024).fill(0xff), 64 * 1024), {
      maxAccessUnitBytes: 1024 * 1024,
    })
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ANNEXB_NO_START_CODE', offset: 0 })
    expect(MuxerError.is(run.error)).toBe(true)
  })

  it('gives nothing for empty input', () => {
    expect(parseAll([])).toEqual({ events: [], error: undefined })
    expect(parseAll([new Uint8Array(0), new Uint8Array(0)])).toEqual({ events: [], error: undefined })
  })

  it('fails on a NAL unit with the forbidden bit set', () => {
    const run = parseAll([Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0xe5, 0x88)])
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ANNEXB_INVALID_NAL_UNIT', offset: 10 })
  })

  it('fails on a malformed SPS, naming it', () => {
    const run = parseAll([Uint8Array.of(0, 0, 1, 0x67, 0x64, 0x00)])
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ANNEXB_INVALID_PARAMETER_SET' })
    expect((run.error as Error).message).toMatch(/invalid SPS/)
  })

  it('fails on a slice that refers to a PPS never sent, after the first key frame', () => {
    // A P slice (nal_unit_type 1): first_mb_in_slice ue(0) = 1, slice_type ue(0) = 1, pic_parameter_set_id
    // ue(5) = 00110, then a bit of data: 1100 1101.
    const forged = Uint8Array.of(0x41, 0b1100_1101, 0x80)
    const run = parseAll([joinNalUnits([...firstPictures('ffmpeg-h264-baseline.h264', 3), forged])])
    expect(run.error).toMatchObject({ code: 'ERR_KVS_ANNEXB_MISSING_PARAMETER_SET' })
    expect(frames(run.events)).toHaveLength(3)
  })

  it('fails at the end of a stream that never has a key frame', () => {
    const nals = splitNalUnits(annexbFixture('ffmpeg-h264-baseline.h264')).filter(
      (nal) => (nal[0]! & 0x1f) !== 5,
    )
    expect(parseAll([joinNalUnits(nals)]).error).toMatchObject({ code: 'ERR_KVS_ANNEXB_NO_KEY_FRAME' })
  })

  it('throws the first error again on every later call, with no events', () => {
    const parser = createAnnexBParser()
    expect(() => parser.push(Uint8Array.of(0, 0, 1, 0x80))).not.toThrow()
    const first = (() => {
      try {
        parser.push(Uint8Array.of(0, 0, 1))
      } catch (error) {
        return error
      }
    })()
    expect(first).toMatchObject({ code: 'ERR_KVS_ANNEXB_INVALID_NAL_UNIT' })
    expect(() => parser.push(new Uint8Array(1))).toThrow(first as Error)
    expect(() => parser.end()).toThrow(first as Error)
  })

  it('checks its options', () => {
    expect(() => createAnnexBParser({ codec: 'vp9' as 'h264' })).toThrow(
      "codec must be 'h264' or 'h265', got \"vp9\"",
    )
    expect(() => createAnnexBParser({ fps: 0 })).toThrow('fps must be a positive number, got 0')
    expect(() => createAnnexBParser({ maxAccessUnitBytes: 1.5 })).toThrow(TypeError)
  })
})
