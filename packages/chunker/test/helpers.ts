import { createHash } from 'node:crypto'
import { concatBytes } from '@kvs-streams/core'
import {
  ElementId,
  encodeVint,
  type SimpleTagInput,
  writeEbmlHeader,
  writeElement,
  writeSimpleBlock,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { type ChunkerEvent, type ClusterChunkerOptions, createClusterChunker } from '../src/index.ts'

/** What a whole run of the chunker gave: every event delivered, and the error. */
export interface Run {
  events: ChunkerEvent[]
  error: unknown
}

/**
 * Pushes `chunks` in order, then ends (calling `end()` again when it returned events, as the adapters do, to
 * get an error it held back); stops at the first error.
 */
export function chunkAll(chunks: Iterable<Uint8Array>, options: ClusterChunkerOptions = {}): Run {
  const chunker = createClusterChunker(options)
  const events: ChunkerEvent[] = []
  try {
    for (const chunk of chunks) events.push(...chunker.push(chunk))
    const trailing = chunker.end()
    events.push(...trailing)
    if (trailing.length > 0) events.push(...chunker.end())
  } catch (error) {
    return { events, error }
  }
  return { events, error: undefined }
}

/** The bytes of a fragment, joined. */
export function fragmentBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts)
}

/** Byte-wise equality of two arrays (vitest's deep equality is slow on MB-sized arrays). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  )
}

const sha = (parts: readonly Uint8Array[]): string => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest('hex').slice(0, 16)
}

/** Bytes as hex: strings compare far faster than typed arrays under vitest's deep equality. */
export function hex(parts: Uint8Array | readonly Uint8Array[]): string {
  const list = parts instanceof Uint8Array ? [parts] : parts
  return list
    .map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('hex'))
    .join('')
}

/**
 * A run as plain data for deep equality across partitions: header bytes and fragment `parts` become hex
 * (or, with `hash`, a digest, for MB-sized fixtures), and the error becomes its name, code and offset.
 */
export function describeRun(run: Run, options: { hash?: boolean } = {}): unknown {
  const bytes = options.hash ? sha : hex
  const events = run.events.map((event) => {
    if (event.type === 'fragment') {
      const { parts, ...rest } = event
      return { ...rest, bytes: bytes(parts) }
    }
    if (event.type === 'header') return { ...event, bytes: bytes([event.bytes]) }
    return event
  })
  const error = run.error as
    | { name?: string; code?: string; offset?: number; violation?: unknown }
    | undefined
  return {
    events,
    error: error === undefined ? undefined : { name: error.name, code: error.code, offset: error.offset },
  }
}

export const fragments = (events: readonly ChunkerEvent[]) =>
  events.filter((event) => event.type === 'fragment')
export const violations = (events: readonly ChunkerEvent[]) =>
  events.flatMap((event) => (event.type === 'violation' ? [event.violation] : []))
export const headers = (events: readonly ChunkerEvent[]) => events.filter((event) => event.type === 'header')

// ---------------------------------------------------------------------------------------------------------
// Crafted Matroska documents, written with the @kvs-streams/ebml writer.

export interface TrackSpec {
  number: number
  /** 1 video, 2 audio. */
  type: number
  codecId?: string
  defaultDurationNs?: number
}

export interface BlockSpec {
  track: number
  /** Relative to the cluster, in TimecodeScale units. */
  timecode: number
  keyframe?: boolean
  /** Frame payload size. Default 8. */
  size?: number
  /** Write a BlockGroup instead of a SimpleBlock; `references` adds a ReferenceBlock (not a key frame). */
  group?: { duration?: number; references?: boolean }
}

export interface ClusterSpec {
  timecode: number
  blocks: BlockSpec[]
  /** Write the Cluster with the unknown size (as GStreamer's streamable mode and KVS do). */
  unknownSize?: boolean
  /** Level-1 Tags written right after the Cluster. */
  tagsAfter?: SimpleTagInput[]
}

export interface MkvSpec {
  tracks?: TrackSpec[]
  timecodeScale?: number
  /** Default `'unknown'`. */
  segmentSize?: 'known' | 'unknown'
  /** A SeekHead before Info, and a Void after Tracks (as muxers write them). */
  seekHead?: boolean
  /** Level-1 Tags between Tracks and the first Cluster. */
  tagsBefore?: SimpleTagInput[]
  clusters: ClusterSpec[]
  /** Cues, then a second SeekHead, after the last Cluster. */
  trailer?: boolean
}

/** Byte ranges of a crafted document, to check fragment bytes against. */
export interface MkvLayout {
  bytes: Uint8Array
  /** EBML header + unknown-size Segment start + the level-1 header elements a session resends. */
  expectedHeader: Uint8Array
  /** EBML header + unknown-size Segment start + every level-1 element before the first Cluster, as written. */
  sentHeader: Uint8Array
  /** Per cluster: where it starts, where it ends, and where the Tags after it end. */
  clusters: { start: number; end: number; tagsEnd: number }[]
}

export const VIDEO: TrackSpec = { number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC' }
export const AUDIO: TrackSpec = { number: 2, type: 2, codecId: 'A_AAC' }

export function trackEntry(track: TrackSpec): Uint8Array {
  const children = [
    writeUint(ElementId.TrackNumber, track.number),
    writeUint(ElementId.TrackUID, track.number),
    writeUint(ElementId.TrackType, track.type),
    writeString(ElementId.CodecID, track.codecId ?? (track.type === 1 ? 'V_MPEG4/ISO/AVC' : 'A_AAC')),
  ]
  if (track.defaultDurationNs !== undefined)
    children.push(writeUint(ElementId.DefaultDuration, track.defaultDurationNs))
  return writeElement(ElementId.TrackEntry, children)
}

export function block(spec: BlockSpec): Uint8Array {
  const data = new Uint8Array(spec.size ?? 8).fill(0xab)
  if (spec.group === undefined) {
    return writeSimpleBlock({
      track: spec.track,
      timecode: spec.timecode,
      keyframe: spec.keyframe ?? false,
      data,
    })
  }
  const track = encodeVint(spec.track)
  const head = new Uint8Array(track.length + 3)
  head.set(track, 0)
  head[track.length] = (spec.timecode >> 8) & 0xff
  head[track.length + 1] = spec.timecode & 0xff
  const children = [writeElement(ElementId.Block, [head, data])]
  if (spec.group.duration !== undefined)
    children.push(writeUint(ElementId.BlockDuration, spec.group.duration))
  if (spec.group.references) children.push(writeElement(ElementId.ReferenceBlock, Uint8Array.of(0xff)))
  return writeElement(ElementId.BlockGroup, children)
}

export function cluster(spec: ClusterSpec): Uint8Array {
  const children = [writeUint(ElementId.Timecode, spec.timecode), ...spec.blocks.map(block)]
  if (!spec.unknownSize) return writeElement(ElementId.Cluster, children)
  return concatBytes([writeUnknownSizeStart(ElementId.Cluster, 8), ...children])
}

/** Writes a Matroska document from `spec`, and where its parts are. */
export function buildMkv(spec: MkvSpec): MkvLayout {
  const tracks = spec.tracks ?? [VIDEO]
  const ebml = writeEbmlHeader()
  const info = writeElement(ElementId.Info, [
    writeUint(ElementId.TimecodeScale, spec.timecodeScale ?? 1_000_000),
    writeString(ElementId.MuxingApp, 'kvs-streams-test'),
    writeString(ElementId.WritingApp, 'kvs-streams-test'),
  ])
  const tracksElement = writeElement(ElementId.Tracks, tracks.map(trackEntry))
  const resent = [info, tracksElement]
  const before: Uint8Array[] = []
  if (spec.seekHead) before.push(seekHead(0x1549a966, 0))
  before.push(info, tracksElement)
  if (spec.seekHead) before.push(writeElement(ElementId.Void, new Uint8Array(20)))
  if (spec.tagsBefore) {
    const tags = writeSimpleTags(spec.tagsBefore)
    before.push(tags)
    resent.push(tags)
  }
  const body: Uint8Array[] = [...before]
  let at = before.reduce((sum, part) => sum + part.length, 0)
  const layout: { start: number; end: number; tagsEnd: number }[] = []
  for (const clusterSpec of spec.clusters) {
    const bytes = cluster(clusterSpec)
    body.push(bytes)
    const start = at
    at += bytes.length
    const end = at
    if (clusterSpec.tagsAfter) {
      const tags = writeSimpleTags(clusterSpec.tagsAfter, { sizeWidth: 4 })
      body.push(tags)
      at += tags.length
    }
    layout.push({ start, end, tagsEnd: at })
  }
  if (spec.trailer) body.push(cues(), seekHead(0x1c53bb6b, 100))
  const segment =
    spec.segmentSize === 'known'
      ? writeElement(ElementId.Segment, body)
      : concatBytes([writeUnknownSizeStart(ElementId.Segment, 8), ...body])
  const bodyLength = body.reduce((sum, part) => sum + part.length, 0)
  const bodyStart = ebml.length + segment.length - bodyLength
  return {
    bytes: concatBytes([ebml, segment]),
    expectedHeader: concatBytes([ebml, writeUnknownSizeStart(ElementId.Segment, 8), ...resent]),
    sentHeader: concatBytes([ebml, writeUnknownSizeStart(ElementId.Segment, 8), ...before]),
    clusters: layout.map(({ start, end, tagsEnd }) => ({
      start: start + bodyStart,
      end: end + bodyStart,
      tagsEnd: tagsEnd + bodyStart,
    })),
  }
}

function seekHead(id: number, position: number): Uint8Array {
  return writeElement(ElementId.SeekHead, [
    writeElement(ElementId.Seek, [
      writeElement(
        ElementId.SeekID,
        Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff),
      ),
      writeUint(ElementId.SeekPosition, position),
    ]),
  ])
}

function cues(): Uint8Array {
  return writeElement(ElementId.Cues, [
    writeElement(ElementId.CuePoint, [
      writeUint(ElementId.CueTime, 0),
      writeElement(ElementId.CueTrackPositions, [
        writeUint(ElementId.CueTrack, 1),
        writeUint(ElementId.CueClusterPosition, 0),
      ]),
    ]),
  ])
}

/** A valid two-cluster video document: the base most crafted cases vary. */
export function twoClusters(overrides: Partial<MkvSpec> = {}): MkvLayout {
  return buildMkv({
    clusters: [
      {
        timecode: 0,
        blocks: [
          { track: 1, timecode: 0, keyframe: true },
          { track: 1, timecode: 40 },
        ],
      },
      {
        timecode: 80,
        blocks: [
          { track: 1, timecode: 0, keyframe: true },
          { track: 1, timecode: 40 },
        ],
      },
    ],
    ...overrides,
  })
}
