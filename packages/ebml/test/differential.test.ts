import { Readable } from 'node:stream'
import { fixturePath, readFixture, run } from '@kvs-streams/test-utils'
import {
  EbmlElementType,
  EbmlStreamDecoder,
  type SimpleBlock as EbmlStreamSimpleBlock,
  type EbmlTag,
  EbmlTagFactory,
  EbmlTagPosition,
} from 'ebml-stream'
import { Decoder } from 'ts-ebml'
import { describe, expect, it } from 'vitest'
import { type EbmlEvent, ElementId, readBlockHeader } from '../src/index.ts'
import { fixtureName, fixtures } from './fixture-facts.ts'
import { readAll } from './helpers.ts'

// ts-ebml and ebml-stream both close an unknown-size master after its first complete child, so they are
// compared with this reader only on files whose Segment and Clusters have known sizes.
const knownSize = fixtures
  .filter((facts) => facts.knownSizes)
  .map((facts) => [fixtureName(facts), facts] as const)

/** ts-ebml's Decoder output (element starts and leaves; it emits master ends only for known sizes). */
function decodeWithTsEbml(bytes: Uint8Array) {
  const decoder = new Decoder()
  const elements = []
  // Several chunks, to exercise its incremental path as well.
  const chunkSize = 256 * 1024
  for (let at = 0; at < bytes.length; at += chunkSize) {
    const chunk = bytes.slice(at, at + chunkSize)
    elements.push(...decoder.decode(chunk.buffer))
  }
  return elements.filter((element) => !(element.type === 'm' && element.isEnd))
}

/** ebml-stream's EbmlStreamDecoder output: master starts and leaves, in order. */
async function decodeWithEbmlStream(bytes: Uint8Array, chunkSize = 64 * 1024): Promise<EbmlTag[]> {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += chunkSize)
    chunks.push(Buffer.from(bytes.subarray(at, at + chunkSize)))
  const tags: EbmlTag[] = []
  for await (const tag of Readable.from(chunks).pipe(new EbmlStreamDecoder())) tags.push(tag as EbmlTag)
  return tags
}

const isEbmlStreamMaster = (id: number) =>
  (EbmlTagFactory.create(id) as EbmlTag).type === EbmlElementType.Master

/**
 * Our events restricted to what ebml-stream exposes: masters it does not know as masters (Colour,
 * Projection, … from newer Matroska) are single binary elements there, so their children are dropped.
 */
function visibleToEbmlStream(events: readonly EbmlEvent[]) {
  const out: { id: number; size: number; master: boolean }[] = []
  let hiddenDepth = Number.POSITIVE_INFINITY
  for (const event of events) {
    if (event.depth > hiddenDepth) continue
    if (event.type === 'element-end') {
      if (event.depth === hiddenDepth) hiddenDepth = Number.POSITIVE_INFINITY
      continue
    }
    const master = event.type === 'element-start' && isEbmlStreamMaster(event.id)
    if (event.type === 'element-start' && !master) hiddenDepth = event.depth
    out.push({ id: event.id, size: event.size ?? -1, master })
  }
  return out
}

describe('ts-ebml Decoder on known-size files', () => {
  it.each(knownSize)(
    'sees the same elements at the same offsets, with the same payloads: %s',
    (_name, facts) => {
      const bytes = readFixture(...facts.path)
      const ours = readAll([bytes]).filter((event) => event.type !== 'element-end')
      const theirs = decodeWithTsEbml(bytes)
      expect(ours.map((event) => [event.id, event.offset, event.type === 'element-start'])).toEqual(
        theirs.map((element) => [
          Number.parseInt(element.EBML_ID, 16),
          element.tagStart,
          element.type === 'm',
        ]),
      )
      let sizesCompared = 0
      for (const [i, element] of theirs.entries()) {
        const event = ours[i]!
        expect(event.headerSize, `element ${i}`).toBe(element.dataStart - element.tagStart)
        // ts-ebml (through the ebml package's readVint) reads some 8-byte size fields as -1 (unknown);
        // compare sizes where it has one.
        if (element.dataSize >= 0) {
          expect(event.size, `element ${i}`).toBe(element.dataSize)
          sizesCompared++
        }
        if (event.type === 'element' && element.type !== 'm') {
          expect(Buffer.from(event.data).equals(element.data), `payload of element ${i}`).toBe(true)
        }
      }
      expect(sizesCompared).toBeGreaterThan(ours.length * 0.9)
    },
  )
})

describe('ebml-stream EbmlStreamDecoder on known-size files', () => {
  it.each(knownSize)(
    'sees the same elements with the same sizes and block headers: %s',
    async (_name, facts) => {
      const bytes = readFixture(...facts.path)
      const events = readAll([bytes])
      const theirs = (await decodeWithEbmlStream(bytes)).filter((tag) => tag.position !== EbmlTagPosition.End)
      expect(visibleToEbmlStream(events)).toEqual(
        theirs.map((tag) => ({ id: tag.id, size: tag.size, master: tag.position === EbmlTagPosition.Start })),
      )
      const ourBlocks = events.flatMap((event) =>
        event.type === 'element' && event.id === ElementId.SimpleBlock ? [readBlockHeader(event.data)!] : [],
      )
      const theirBlocks = theirs.filter((tag) => tag.id === ElementId.SimpleBlock) as EbmlStreamSimpleBlock[]
      expect(ourBlocks.map(({ track, timecode, keyframe }) => ({ track, timecode, keyframe }))).toEqual(
        theirBlocks.map(({ track, value, keyframe }) => ({ track, timecode: value, keyframe })),
      )
      expect(ourBlocks).toHaveLength(facts.simpleBlocks)
    },
  )
})

describe('unknown-size masters in clusters.mkv (PutMedia-style input)', () => {
  it('keep every Cluster inside the Segment, as mkvinfo does, where ebml-stream closes the Segment early', async () => {
    const file = fixturePath('kvs-getmedia', 'clusters.mkv')
    const bytes = readFixture('kvs-getmedia', 'clusters.mkv')

    // mkvinfo (mkvtoolnix) shows all 8 Clusters as children of the one Segment ("|+" is depth 1).
    const mkvinfo = await run('mkvinfo', ['--ui-language', 'en_US', '-v', file])
    expect(mkvinfo.code).toBe(0)
    expect(mkvinfo.stdout.match(/^\+ Segment: size unknown$/gm)).toHaveLength(1)
    expect(mkvinfo.stdout.match(/^\|\+ Cluster$/gm)).toHaveLength(8)

    // This reader: the Segment ends at the end of the input, after all 8 Clusters and the Cues.
    const ours = readAll([bytes])
    const segmentEnd = ours.findIndex(
      (event) => event.type === 'element-end' && event.id === ElementId.Segment,
    )
    expect(segmentEnd).toBe(ours.length - 1)
    expect(ours[segmentEnd]).toMatchObject({ end: bytes.length, unknownSize: true })
    const clusters = ours.filter((event) => event.type === 'element-start' && event.id === ElementId.Cluster)
    expect(clusters.map((cluster) => cluster.depth)).toEqual([1, 1, 1, 1, 1, 1, 1, 1])

    // ebml-stream: the unknown size (-1) makes the Segment "end" as soon as its first child is complete, so
    // every Cluster comes after the Segment's end.
    const theirs = await decodeWithEbmlStream(bytes)
    const segment = theirs.filter((tag) => tag.id === ElementId.Segment)
    expect(segment.map((tag) => [tag.position, tag.size])).toEqual([
      [EbmlTagPosition.Start, -1],
      [EbmlTagPosition.End, -1],
    ])
    const theirEnd = theirs.findIndex(
      (tag) => tag.id === ElementId.Segment && tag.position === EbmlTagPosition.End,
    )
    const theirClusters = theirs
      .map((tag, index) => ({ tag, index }))
      .filter(({ tag }) => tag.id === ElementId.Cluster && tag.position === EbmlTagPosition.Start)
    expect(theirClusters).toHaveLength(8)
    expect(theirClusters.every(({ index }) => index > theirEnd)).toBe(true)
    // …namely right after the end of the Segment's first child, the SeekHead.
    const segmentStart = ours.findIndex(
      (event) => event.type === 'element-start' && event.id === ElementId.Segment,
    )
    const firstChild = ours.slice(segmentStart).find((event) => event.depth === 1)
    expect(firstChild?.id).toBe(ElementId.SeekHead)
    expect(theirs[theirEnd - 1]).toMatchObject({ id: ElementId.SeekHead, position: EbmlTagPosition.End })
  })
})
