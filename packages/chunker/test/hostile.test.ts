import { concatBytes } from '@kvs-streams/core'
import {
  EbmlError,
  ElementId,
  encodeId,
  writeEbmlHeader,
  writeElement,
  writeString,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { readFixture } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkerError, createClusterChunker } from '../src/index.ts'
import { buildMkv, chunkAll, describeRun, fragments, twoClusters } from './helpers.ts'

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

const documentStart = concatBytes([writeEbmlHeader(), writeUnknownSizeStart(ElementId.Segment, 8)])
const header = twoClusters().bytes.subarray(0, twoClusters().clusters[0]!.start)

function isTyped(error: unknown): boolean {
  return error === undefined || EbmlError.is(error) || ChunkerError.is(error)
}

/** Feeds `chunks` one by one, recording the largest `bufferedBytes` seen; returns the error. */
function feed(chunks: Iterable<Uint8Array>, options = {}): { error: unknown; peak: number; pushed: number } {
  const chunker = createClusterChunker({ onViolation: 'emit', ...options })
  let peak = 0
  let pushed = 0
  try {
    for (const chunk of chunks) {
      pushed += chunk.length
      chunker.push(chunk)
      peak = Math.max(peak, chunker.bufferedBytes)
    }
    chunker.end()
  } catch (error) {
    return { error, peak, pushed }
  }
  return { error: undefined, peak, pushed }
}

function* repeat(chunk: Uint8Array, times: number, first?: Uint8Array): Generator<Uint8Array> {
  if (first) yield first
  for (let i = 0; i < times; i++) yield chunk
}

describe('huge declared sizes', () => {
  it('a SimpleBlock declaring 1 PiB is neither allocated nor buffered past maxBufferedBytes', () => {
    const start = concatBytes([
      header,
      writeUnknownSizeStart(ElementId.Cluster, 8),
      declare(ElementId.SimpleBlock, 2 ** 50),
    ])
    const chunk = new Uint8Array(64 * 1024)
    // The first payload bytes are a valid block header: track 1, time 0, key frame.
    const { error, peak, pushed } = feed(
      repeat(chunk, 100, concatBytes([start, Uint8Array.of(0x81, 0, 0, 0x80)])),
      {
        maxBufferedBytes: 1024 * 1024,
      },
    )
    expect(error).toMatchObject({ code: 'ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE', errorId: 4001 })
    expect(pushed).toBeLessThan(1024 * 1024 + 2 * chunk.length)
    expect(peak).toBeLessThanOrEqual(1024 * 1024 + chunk.length)
  })

  it('a Cluster larger than its known-size Segment fails with ERR_KVS_EBML_OVERRUN', () => {
    const bytes = concatBytes([
      writeEbmlHeader(),
      declare(ElementId.Segment, 100),
      declare(ElementId.Cluster, 1000),
      new Uint8Array(100),
    ])
    expect(chunkAll([bytes]).error).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_OVERRUN' })
  })

  it('an Info declaring 10 GB fails with ERR_KVS_CHUNKER_HEADER_TOO_LARGE at maxHeaderBytes', () => {
    const voids = writeElement(ElementId.Void, new Uint8Array(4096 - 3))
    const { error, peak } = feed(
      repeat(voids, 1000, concatBytes([documentStart, declare(ElementId.Info, 1e10)])),
      {
        maxHeaderBytes: 256 * 1024,
      },
    )
    expect(error).toMatchObject({ code: 'ERR_KVS_CHUNKER_HEADER_TOO_LARGE' })
    expect(peak).toBeLessThanOrEqual(256 * 1024 + 8192)
  })

  it('a leaf declaring 1 TB (CodecPrivate, Void, Tags) fails at once with ERR_KVS_EBML_ELEMENT_TOO_LARGE', () => {
    for (const id of [ElementId.CodecPrivate, ElementId.Void, ElementId.TagString]) {
      const { error, pushed } = feed([documentStart, declare(id, 2 ** 40), new Uint8Array(1024)])
      expect(error, `0x${id.toString(16)}`).toMatchObject({ code: 'ERR_KVS_EBML_ELEMENT_TOO_LARGE' })
      expect(pushed).toBeLessThan(2048)
    }
  })

  it('a size above 2^53 fails with ERR_KVS_EBML_ELEMENT_TOO_LARGE', () => {
    const bytes = concatBytes([
      documentStart,
      encodeId(ElementId.Cluster),
      Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe),
    ])
    expect(chunkAll([bytes]).error).toMatchObject({ code: 'ERR_KVS_EBML_ELEMENT_TOO_LARGE' })
  })
})

describe('deep nesting', () => {
  it('SimpleTags nested 100 deep fail with ERR_KVS_EBML_TOO_DEEP, without recursion trouble', () => {
    let simpleTag = writeElement(ElementId.SimpleTag, [writeString(ElementId.TagName, 'LEAF')])
    for (let i = 0; i < 100; i++) simpleTag = writeElement(ElementId.SimpleTag, [simpleTag])
    const tags = writeElement(ElementId.Tags, [writeElement(ElementId.Tag, [simpleTag])])
    const bytes = concatBytes([documentStart, tags])
    const { events, error } = chunkAll([bytes])
    expect(error).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_TOO_DEEP' })
    expect(events).toEqual([])
  })

  it('unknown-size masters opened forever (no payload) fail with ERR_KVS_EBML_TOO_DEEP', () => {
    const open = writeUnknownSizeStart(ElementId.SimpleTag, 1)
    const bytes = concatBytes([
      documentStart,
      writeUnknownSizeStart(ElementId.Tags),
      writeUnknownSizeStart(ElementId.Tag),
      ...Array.from({ length: 64 }, () => open),
    ])
    expect(chunkAll([bytes]).error).toMatchObject({ code: 'ERR_KVS_EBML_TOO_DEEP' })
  })
})

describe('corrupt element values', () => {
  const inCluster = (child: Uint8Array) =>
    concatBytes([documentStart, writeUnknownSizeStart(ElementId.Cluster, 8), child])

  it('a 9-byte Cluster Timecode fails with ERR_KVS_EBML_INVALID_DATA at that element', () => {
    const bytes = inCluster(writeElement(ElementId.Timecode, new Uint8Array(9)))
    const { error } = chunkAll([bytes])
    expect(error).toMatchObject({
      name: 'EbmlError',
      code: 'ERR_KVS_EBML_INVALID_DATA',
      offset: bytes.length - 11,
      elementId: ElementId.Timecode,
      message: 'unsigned integer of 9 bytes (at byte 64)',
    })
  })

  it('a SimpleBlock whose track number is wider than 8 bytes fails with ERR_KVS_EBML_INVALID_DATA at that block', () => {
    const block = writeElement(ElementId.SimpleBlock, Uint8Array.of(0x00, 0, 0, 0x80))
    const bytes = concatBytes([inCluster(writeElement(ElementId.Timecode, Uint8Array.of(0))), block])
    expect(chunkAll([bytes]).error).toMatchObject({
      code: 'ERR_KVS_EBML_INVALID_DATA',
      offset: bytes.length - block.length,
      elementId: ElementId.SimpleBlock,
    })
  })

  it('a SimpleBlock shorter than its header fails with ERR_KVS_CHUNKER_INVALID_MKV (4006)', () => {
    const block = writeElement(ElementId.SimpleBlock, Uint8Array.of(0x81, 0))
    const bytes = concatBytes([inCluster(writeElement(ElementId.Timecode, Uint8Array.of(0))), block])
    expect(chunkAll([bytes]).error).toMatchObject({
      name: 'ChunkerError',
      code: 'ERR_KVS_CHUNKER_INVALID_MKV',
      errorId: 4006,
      offset: bytes.length - block.length,
    })
  })

  it('a SimpleBlock before the Cluster Timecode fails with ERR_KVS_CHUNKER_INVALID_MKV (4006)', () => {
    const block = writeElement(ElementId.SimpleBlock, Uint8Array.of(0x81, 0, 0, 0x80, 1))
    expect(chunkAll([inCluster(block)]).error).toMatchObject({
      code: 'ERR_KVS_CHUNKER_INVALID_MKV',
      errorId: 4006,
    })
  })
})

describe('random and corrupted input', () => {
  it('random bytes give events or a typed error (EbmlError or ChunkerError), nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const { error } = chunkAll([bytes], { onViolation: 'emit' })
        expect(isTyped(error), String(error)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('random bytes after a valid EBML header and Segment start give events or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, emit) => {
        const { error } = chunkAll([documentStart, bytes], { onViolation: emit ? 'emit' : 'throw' })
        expect(isTyped(error), String(error)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('a valid document with bytes overwritten anywhere gives the same typed outcome however it is chunked', () => {
    const { bytes } = buildMkv({
      tagsBefore: [{ name: 'A', value: 'b' }],
      clusters: [
        {
          timecode: 0,
          blocks: [{ track: 1, timecode: 0, keyframe: true }],
          tagsAfter: [{ name: 'C', value: 'd' }],
        },
        {
          timecode: 40,
          unknownSize: true,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 20, group: {} },
          ],
        },
      ],
    })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 64 }),
        (edits, chunkSize) => {
          const corrupt = bytes.slice()
          for (const [at, value] of edits) corrupt[at] = value
          const whole = chunkAll([corrupt], { onViolation: 'emit' })
          expect(isTyped(whole.error), String(whole.error)).toBe(true)
          const chunks: Uint8Array[] = []
          for (let at = 0; at < corrupt.length; at += chunkSize)
            chunks.push(corrupt.subarray(at, at + chunkSize))
          expect(describeRun(chunkAll(chunks, { onViolation: 'emit' }))).toEqual(describeRun(whole))
        },
      ),
      { numRuns: 400 },
    )
  })
})

describe('truncation', () => {
  it('anywhere in a known-size document: ERR_KVS_EBML_TRUNCATED, after the complete fragments before the cut', () => {
    const layout = twoClusters({ segmentSize: 'known' })
    const full = describeRun(chunkAll([layout.bytes])) as { events: unknown[] }
    for (let cut = 1; cut < layout.bytes.length; cut++) {
      const { events, error } = chunkAll([layout.bytes.subarray(0, cut)])
      if (cut === writeEbmlHeader().length) {
        // A complete EBML header and nothing else: no Segment, nothing to send, nothing broken.
        expect({ events, error }).toEqual({ events: [], error: undefined })
        continue
      }
      expect(error, `cut at ${cut}`).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_TRUNCATED' })
      const complete = layout.clusters.filter((cluster) => cluster.end <= cut).length
      // The second Cluster ends the Segment, so a cut anywhere leaves it incomplete.
      expect(fragments(events), `cut at ${cut}`).toHaveLength(complete)
      const got = describeRun({ events, error: undefined }) as { events: unknown[] }
      expect(got.events, `cut at ${cut}`).toEqual(full.events.slice(0, got.events.length))
    }
  })

  it('anywhere in an unknown-size document: a typed error, or (at an element boundary) a shorter last fragment', () => {
    const layout = buildMkv({
      clusters: [0, 100, 200].map((timecode) => ({
        timecode,
        unknownSize: true,
        blocks: [
          { track: 1, timecode: 0, keyframe: true },
          { track: 1, timecode: 40 },
        ],
      })),
    })
    for (let cut = 1; cut < layout.bytes.length; cut++) {
      const { events, error } = chunkAll([layout.bytes.subarray(0, cut)], { onViolation: 'emit' })
      if (error !== undefined) {
        expect(error, `cut at ${cut}`).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
      }
      for (const fragment of fragments(events)) {
        expect(fragment.offset + fragment.byteLength, `cut at ${cut}`).toBeLessThanOrEqual(cut)
      }
    }
  })

  it('anywhere in clusters.mkv (sampled): ERR_KVS_EBML_TRUNCATED after the fragments before the cut', () => {
    const bytes = readFixture('kvs-getmedia', 'clusters.mkv')
    const full = fragments(chunkAll([bytes]).events)
    for (let i = 1; i < 60; i++) {
      const cut = Math.round((i * bytes.length) / 61)
      const { events, error } = chunkAll([bytes.subarray(0, cut)])
      expect(error, `cut at ${cut}`).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
      const got = fragments(events)
      expect(got.map((fragment) => fragment.offset)).toEqual(
        full
          .filter((fragment) => fragment.offset + fragment.byteLength < cut)
          .map((fragment) => fragment.offset),
      )
    }
  })
})
