import { createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import {
  EbmlError,
  ElementId,
  encodeId,
  writeEbmlHeader,
  writeElement,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { readFixture } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRepackager, RepackagerError, type RepackagerEvent } from '../src/index.ts'
import { AUDIO, buildMkv, fragments, gops, outputBytes, repackageAll, VIDEO, violations } from './helpers.ts'

/** An element header declaring `size` bytes, with an 8-byte size field (no payload follows). */
function declare(id: number, size: number): Uint8Array {
  const head = encodeId(id)
  const sizeField = new Uint8Array(8)
  sizeField[0] = 0x01
  let rest = size
  for (let i = 7; i >= 1; i--) {
    sizeField[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return concatBytes([head, sizeField])
}

/** A complete element that is not an EBML header, then garbage. */
const NOT_MKV = concatBytes([writeString(ElementId.Title, 'not mkv'), Uint8Array.of(0x47, 0x40, 0x11, 0x10)])

const isTyped = (error: unknown) => error === undefined || EbmlError.is(error) || RepackagerError.is(error)

/** What the chunker says about the output delivered before an error: it must still be sendable. */
function sendable(events: readonly RepackagerEvent[]): boolean {
  const output = outputBytes(events)
  if (output.length === 0) return true
  const chunker = createClusterChunker({ onViolation: 'emit' })
  const chunked = [...chunker.push(output), ...chunker.end()]
  return chunked.every((event) => event.type !== 'violation')
}

/** Feeds `chunks` one by one, recording the largest `bufferedBytes` seen; returns the error. */
function feed(chunks: Iterable<Uint8Array>, options = {}): { error: unknown; peak: number } {
  const repackager = createRepackager({ onViolation: 'emit', ...options })
  let peak = 0
  try {
    for (const chunk of chunks) {
      repackager.push(chunk)
      peak = Math.max(peak, repackager.bufferedBytes)
    }
    repackager.end()
  } catch (error) {
    return { error, peak }
  }
  return { error: undefined, peak }
}

function* repeat(chunk: Uint8Array, times: number, first?: Uint8Array): Generator<Uint8Array> {
  if (first) yield first
  for (let i = 0; i < times; i++) yield chunk
}

const documentStart = concatBytes([writeEbmlHeader(), writeUnknownSizeStart(ElementId.Segment, 8)])
const tracks = writeElement(ElementId.Tracks, [
  writeElement(ElementId.TrackEntry, [
    writeUint(ElementId.TrackNumber, 1),
    writeUint(ElementId.TrackType, 1),
    writeString(ElementId.CodecID, 'V_MPEG4/ISO/AVC'),
  ]),
])
const clusterStart = concatBytes([
  writeUnknownSizeStart(ElementId.Cluster, 8),
  writeUint(ElementId.Timecode, 0),
])

describe('hostile input', () => {
  it('a truncated recording gives ERR_KVS_EBML_TRUNCATED after the complete frames before the cut', () => {
    const input = readFixture('generated', 'ffmpeg-h264-aac.mkv')
    for (let cut = 1; cut < input.length; cut += 1_999) {
      const run = repackageAll([input.subarray(0, cut)], { onViolation: 'emit' })
      expect(run.error, `cut at ${cut}`).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_TRUNCATED' })
      // Every fragment but the last (cut short: a track may be missing) is as KVS wants it.
      const last = fragments(run.events).at(-1)?.index
      const others = violations(run.events).filter((violation) => violation.fragmentIndex !== last)
      expect(others, `cut at ${cut}`).toEqual([])
      const before = run.events.filter(
        (event) => event.type === 'header' || (event.type === 'fragment' && event.index !== last),
      )
      expect(sendable(before), `cut at ${cut}`).toBe(true)
    }
  })

  it('corrupt bytes anywhere give a typed error or KVS-ready output, never anything else (fast-check)', () => {
    const input = buildMkv({ tracks: [VIDEO, AUDIO], clusters: gops({ count: 3, audioBeforeKey: 2 }) })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(input.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(input.length),
        (edits, split) => {
          const corrupt = input.slice()
          for (const [at, value] of edits) corrupt[at] = value
          const run = repackageAll([corrupt.subarray(0, split), corrupt.subarray(split)], {
            onViolation: 'emit',
          })
          expect(isTyped(run.error)).toBe(true)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('garbage, and a Segment without an EBML header, are not Matroska', () => {
    expect(repackageAll([NOT_MKV]).error).toMatchObject({
      code: 'ERR_KVS_REPACKAGER_NOT_MKV',
      errorId: 4006,
    })
    expect(repackageAll([writeUnknownSizeStart(ElementId.Segment, 8)]).error).toMatchObject({
      code: 'ERR_KVS_REPACKAGER_NOT_MKV',
    })
  })

  it.each([
    [
      'a block before the Cluster Timecode',
      concatBytes([
        writeUnknownSizeStart(ElementId.Cluster, 8),
        writeElement(ElementId.SimpleBlock, Uint8Array.of(0x81, 0, 0, 0x80, 1)),
      ]),
    ],
    [
      'a SimpleBlock shorter than its header',
      concatBytes([clusterStart, writeElement(ElementId.SimpleBlock, Uint8Array.of(0x81, 0))]),
    ],
    [
      'a BlockGroup with the unknown size',
      concatBytes([clusterStart, writeUnknownSizeStart(ElementId.BlockGroup, 8)]),
    ],
  ])('%s is invalid Matroska (ERR_KVS_REPACKAGER_INVALID_MKV)', (_name, cluster) => {
    const run = repackageAll([concatBytes([documentStart, tracks, cluster])])
    expect(run.error).toMatchObject({
      name: 'RepackagerError',
      code: 'ERR_KVS_REPACKAGER_INVALID_MKV',
      errorId: 4006,
    })
  })

  it('a frame declared 1 TB long stops at maxBufferedBytes, holding about that much', () => {
    const chunk = new Uint8Array(64 * 1024)
    const head = concatBytes([documentStart, tracks, clusterStart, declare(ElementId.SimpleBlock, 2 ** 40)])
    const { error, peak } = feed(repeat(chunk, 200, head), { maxBufferedBytes: 4 * 1024 * 1024 })
    expect(error).toMatchObject({
      name: 'RepackagerError',
      code: 'ERR_KVS_REPACKAGER_FRAGMENT_TOO_LARGE',
      errorId: 4001,
    })
    expect(peak).toBeLessThan(4 * 1024 * 1024 + 2 * chunk.length)
  })

  it('a GOP that never ends (no second key frame) stops at maxBufferedBytes', () => {
    const block = (i: number) =>
      writeElement(
        ElementId.SimpleBlock,
        concatBytes([Uint8Array.of(0x81, 0, i % 100, i === 0 ? 0x80 : 0), new Uint8Array(4000)]),
      )
    function* frames(): Generator<Uint8Array> {
      yield concatBytes([documentStart, tracks, clusterStart])
      for (let i = 0; i < 2000; i++) yield block(i)
    }
    const { error, peak } = feed(frames(), { maxBufferedBytes: 1024 * 1024 })
    expect(error).toMatchObject({ code: 'ERR_KVS_REPACKAGER_FRAGMENT_TOO_LARGE' })
    expect(peak).toBeLessThan(1024 * 1024 + 8000)
  })

  it('audio with a declared video track that never comes is held for one fragment duration at most', () => {
    const av = writeElement(ElementId.Tracks, [
      writeElement(ElementId.TrackEntry, [
        writeUint(ElementId.TrackNumber, 1),
        writeUint(ElementId.TrackType, 1),
        writeString(ElementId.CodecID, 'V_MPEG4/ISO/AVC'),
      ]),
      writeElement(ElementId.TrackEntry, [
        writeUint(ElementId.TrackNumber, 2),
        writeUint(ElementId.TrackType, 2),
        writeString(ElementId.CodecID, 'A_AAC'),
      ]),
    ])
    function* audio(): Generator<Uint8Array> {
      yield concatBytes([documentStart, av])
      for (let c = 0; c < 300; c++) {
        const blocks = Array.from({ length: 50 }, (_, i) =>
          writeElement(
            ElementId.SimpleBlock,
            concatBytes([Uint8Array.of(0x82, 0, i * 20, 0x80), new Uint8Array(400)]),
          ),
        )
        yield writeElement(ElementId.Cluster, [writeUint(ElementId.Timecode, c * 1000), ...blocks])
      }
    }
    const repackager = createRepackager()
    const events: RepackagerEvent[] = []
    let peak = 0
    for (const chunk of audio()) {
      events.push(...repackager.push(chunk))
      peak = Math.max(peak, repackager.bufferedBytes)
    }
    events.push(...repackager.end())
    // No fragment can start without a key frame of the video track.
    expect(events.map((event) => event.type)).toEqual(['header'])
    // Ten seconds of 20 KB/s audio, plus the Cluster being read.
    expect(peak).toBeLessThan(300_000)
    expect(repackager.stats.framesDropped).toBe(300 * 50)
  })

  it('a header over maxHeaderBytes stops with ERR_KVS_REPACKAGER_HEADER_TOO_LARGE', () => {
    const tags = writeSimpleTags(
      Array.from({ length: 2000 }, (_, i) => ({ name: `T${i}`, value: 'x'.repeat(100) })),
    )
    const run = repackageAll([concatBytes([documentStart, tracks, tags])], { maxHeaderBytes: 64 * 1024 })
    expect(run.error).toMatchObject({ code: 'ERR_KVS_REPACKAGER_HEADER_TOO_LARGE' })
  })

  it('after an error every call throws it again', () => {
    const repackager = createRepackager()
    let first: unknown
    try {
      repackager.push(NOT_MKV)
    } catch (error) {
      first = error
    }
    expect(RepackagerError.is(first)).toBe(true)
    expect(() => repackager.push(new Uint8Array(4))).toThrow(first as Error)
    expect(() => repackager.end()).toThrow(first as Error)
    expect(first).not.toHaveProperty('events')
  })

  it('delivers the fragments completed before a corrupt element, in the error and through the adapters alike', () => {
    const input = buildMkv({ tracks: [VIDEO, AUDIO], clusters: gops({ count: 4, audioBeforeKey: 2 }) })
    const corrupt = concatBytes([input, Uint8Array.of(0x00, 0x00, 0x00, 0x00)])
    const run = repackageAll([corrupt])
    expect(run.error).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(fragments(run.events)).toHaveLength(4)
    expect(sendable(run.events)).toBe(true)
    // The push that met the corrupt bytes returns those fragments; the error comes from the next call.
    const repackager = createRepackager()
    expect(fragments(repackager.push(corrupt))).toHaveLength(4)
    expect(() => repackager.push(new Uint8Array(1))).toThrow(run.error as Error)
    expect(() => repackager.end()).toThrow(run.error as Error)
  })
})
