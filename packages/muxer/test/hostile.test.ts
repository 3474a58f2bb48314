// Input nobody should send: megabytes without a start code, a 100 MB NAL unit, garbage. Each gives a typed
// error while the bytes held stay within the configured limit.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAnnexBMuxer, createAnnexBParser, type FrameEvent, MuxerError } from '../src/index.ts'
import { annexbFixture, joinNalUnits, splitNalUnits, views } from './helpers.ts'

const MiB = 1024 * 1024

/** Pushes `chunk` up to `times` times; returns how many bytes went in before the error, and the error. */
function pushRepeatedly(
  core: { push(chunk: Uint8Array): unknown[]; readonly bufferedBytes: number },
  chunk: Uint8Array,
  times: number,
  limit: number,
) {
  let pushed = 0
  let largest = 0
  try {
    for (let i = 0; i < times; i++) {
      core.push(chunk)
      pushed += chunk.length
      largest = Math.max(largest, core.bufferedBytes)
    }
  } catch (error) {
    expect(largest).toBeLessThanOrEqual(limit)
    return { pushed, error }
  }
  return { pushed, error: undefined }
}

describe('hostile Annex-B input', () => {
  it('fails with ERR_KVS_ANNEXB_NO_START_CODE after maxAccessUnitBytes of bytes without a start code, holding none', () => {
    const parser = createAnnexBParser({ maxAccessUnitBytes: 4 * MiB })
    const garbage = new Uint8Array(MiB).fill(0xa5)
    const before = process.memoryUsage().heapUsed
    const { pushed, error } = pushRepeatedly(parser, garbage, 64, 0)
    expect(error).toMatchObject({ code: 'ERR_KVS_ANNEXB_NO_START_CODE', offset: 0 })
    expect(pushed).toBe(4 * MiB)
    expect(parser.bufferedBytes).toBe(0)
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * MiB)
  })

  it('fails with ERR_KVS_ANNEXB_ACCESS_UNIT_TOO_LARGE on a 100 MB NAL unit, holding at most the limit', () => {
    for (const limit of [8 * MiB, undefined]) {
      const parser = createAnnexBParser(limit === undefined ? {} : { maxAccessUnitBytes: limit })
      parser.push(Uint8Array.of(0, 0, 0, 1, 0x65, 0x88))
      const body = new Uint8Array(MiB).fill(0x5a)
      const { pushed, error } = pushRepeatedly(parser, body, 100, limit ?? 16 * MiB)
      expect(error).toMatchObject({ code: 'ERR_KVS_ANNEXB_ACCESS_UNIT_TOO_LARGE', offset: 4 })
      expect(pushed).toBeLessThan((limit ?? 16 * MiB) + MiB)
    }
  })

  it('takes a 100 MB access unit as one frame when the limit allows it', () => {
    const nals = splitNalUnits(annexbFixture('ffmpeg-h264-baseline.h264'))
    const [sps, pps] = nals.filter((nal) => [7, 8].includes(nal[0]! & 0x1f))
    const idr = nals.find((nal) => (nal[0]! & 0x1f) === 5)!
    const parser = createAnnexBParser({ maxAccessUnitBytes: 128 * MiB })
    const body = new Uint8Array(MiB).fill(0x5a)
    const events = [...parser.push(joinNalUnits([sps!, pps!, idr.subarray(0, 64)]))]
    for (let i = 0; i < 100; i++) events.push(...parser.push(body))
    events.push(...parser.end())
    const frames = events.filter((event) => event.type === 'frame') as FrameEvent[]
    expect(frames).toHaveLength(1)
    expect(frames[0]).toMatchObject({
      keyframe: true,
      byteLength: 4 + sps!.length + 4 + pps!.length + 4 + 64 + 100 * MiB,
    })
    // The megabyte chunks are referenced, not copied.
    expect(frames[0]!.data.filter((part) => part === body)).toHaveLength(100)
  })

  it('gives frames or a MuxerError for any bytes, within the limit (fast-check)', () => {
    const limit = 64 * 1024
    const pieces = fc.oneof(
      fc.constantFrom(
        [0, 0, 1],
        [0, 0, 0, 1],
        [0, 0, 1, 0x67],
        [0, 0, 1, 0x68],
        [0, 0, 1, 0x65, 0x88],
        [0, 0, 1, 0x09],
      ),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => [...bytes]),
    )
    fc.assert(
      fc.property(
        fc.array(pieces, { maxLength: 60 }),
        fc.constantFrom('h264', 'h265'),
        fc.integer({ min: 1, max: 97 }),
        (list, codec, size) => {
          const bytes = Uint8Array.from(list.flat())
          const parser = createAnnexBParser({ codec, maxAccessUnitBytes: limit })
          try {
            for (const chunk of views(bytes, size)) {
              parser.push(chunk)
              expect(parser.bufferedBytes).toBeLessThanOrEqual(limit * 18)
            }
            parser.end()
          } catch (error) {
            if (!MuxerError.is(error)) throw error
          }
        },
      ),
      { numRuns: 400 },
    )
  })

  it('gives MKV or a MuxerError for a real stream with bytes flipped (fast-check)', () => {
    const bytes = annexbFixture('gst-x264.h264').subarray(0, 40_000)
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
        (flips) => {
          const damaged = new Uint8Array(bytes)
          for (const [at, value] of flips) damaged[at] = value
          const muxer = createAnnexBMuxer()
          try {
            for (const chunk of views(damaged, 4096)) muxer.push(chunk)
            muxer.end()
          } catch (error) {
            if (!MuxerError.is(error)) throw error
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
