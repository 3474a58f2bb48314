import { createHash } from 'node:crypto'
import { createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import {
  createEbmlReader,
  ElementId,
  encodeVint,
  readBlockHeader,
  readUint,
  type SimpleTagInput,
  writeEbmlHeader,
  writeElement,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { expect } from 'vitest'
import {
  createRepackager,
  type RepackagedFragmentEvent,
  type RepackagerEvent,
  type RepackagerOptions,
  type RepackagerStats,
  type RepackagerViolation,
} from '../src/index.ts'

// ---------------------------------------------------------------------------------------------------------
// Running the core

/** Everything a run gave: the events (also those carried by the error), the error, and the final stats. */
export interface Run {
  events: RepackagerEvent[]
  error: unknown
  stats: RepackagerStats
}

/**
 * Pushes `chunks` in order, then ends (calling `end()` again when it returned events, as the adapters do, to
 * get an error it held back); stops at the first error, with every event returned before it.
 */
export function repackageAll(chunks: Iterable<Uint8Array>, options: RepackagerOptions = {}): Run {
  const repackager = createRepackager(options)
  const events: RepackagerEvent[] = []
  try {
    for (const chunk of chunks) events.push(...repackager.push(chunk))
    const trailing = repackager.end()
    events.push(...trailing)
    if (trailing.length > 0) events.push(...repackager.end())
  } catch (error) {
    return { events, error, stats: repackager.stats }
  }
  return { events, error: undefined, stats: repackager.stats }
}

export const fragments = (events: readonly RepackagerEvent[]): RepackagedFragmentEvent[] =>
  events.filter((event) => event.type === 'fragment')
export const violations = (events: readonly RepackagerEvent[]): RepackagerViolation[] =>
  events.flatMap((event) => (event.type === 'violation' ? [event.violation] : []))

/** The output as one byte array: every header's bytes and every fragment's parts, in order. */
export function outputBytes(events: readonly RepackagerEvent[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const event of events) {
    if (event.type === 'header') parts.push(event.bytes)
    else if (event.type === 'fragment') parts.push(...event.parts)
  }
  return concatBytes(parts)
}

const sha = (parts: readonly Uint8Array[]): string => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest('hex').slice(0, 16)
}

/** A run as plain data for deep equality across partitions: bytes become digests, the error its code. */
export function describeRun(run: Run): unknown {
  const events = run.events.map((event) => {
    if (event.type === 'fragment') {
      const { parts, ...rest } = event
      return { ...rest, bytes: sha(parts) }
    }
    if (event.type === 'header') return { ...event, bytes: sha([event.bytes]) }
    return event
  })
  const error = run.error as { name?: string; code?: string; offset?: number } | undefined
  return {
    events,
    stats: run.stats,
    error: error === undefined ? undefined : { name: error.name, code: error.code, offset: error.offset },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading frames back

/** One block as a demuxer sees it. */
export interface ReadFrame {
  track: number
  /** Absolute time, TimecodeScale units. */
  time: number
  key: boolean
  /** Digest of the bytes after the block header (the frame data, lacing included). */
  data: string
  /** Index of the Cluster it is in (counted over the whole input). */
  cluster: number
  /** BlockDuration, when the block is in a BlockGroup that has one. */
  duration?: number
}

/** Every frame of a Matroska stream (all documents), in file order. */
export function readFrames(bytes: Uint8Array): ReadFrame[] {
  const reader = createEbmlReader()
  const frames: ReadFrame[] = []
  let clusterTimecode = 0
  let cluster = -1
  let group: ReadFrame | undefined
  const block = (data: Uint8Array, simple: boolean): ReadFrame => {
    const header = readBlockHeader(data, simple)!
    return {
      track: header.track,
      time: clusterTimecode + header.timecode,
      key: header.keyframe,
      data: sha([data.subarray(header.headerSize)]),
      cluster,
    }
  }
  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.type === 'element-start' && event.id === ElementId.Cluster) cluster++
    else if (event.type === 'element-start' && event.id === ElementId.BlockGroup) group = undefined
    else if (event.type === 'element') {
      if (event.id === ElementId.Timecode && event.depth === 2) clusterTimecode = readUint(event.data)
      else if (event.id === ElementId.SimpleBlock) frames.push(block(event.data, true))
      else if (event.id === ElementId.Block) {
        group = { ...block(event.data, false), key: true }
        frames.push(group)
      } else if (event.id === ElementId.ReferenceBlock && group) group.key = false
      else if (event.id === ElementId.BlockDuration && group) group.duration = readUint(event.data)
    }
  }
  return frames
}

/** Where each SimpleBlock or BlockGroup starts, and the index of its Cluster. */
export function blockOffsets(bytes: Uint8Array): { cluster: number; offset: number }[] {
  const reader = createEbmlReader()
  const blocks: { cluster: number; offset: number }[] = []
  let cluster = -1
  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.type === 'element-start' && event.id === ElementId.Cluster) cluster++
    else if (
      (event.type === 'element' && event.id === ElementId.SimpleBlock) ||
      (event.type === 'element-start' && event.id === ElementId.BlockGroup)
    )
      blocks.push({ cluster, offset: event.offset })
  }
  return blocks
}

/** Frames grouped by track, each list in file order, without the cluster index. */
export function framesByTrack(frames: readonly ReadFrame[]): Record<number, Omit<ReadFrame, 'cluster'>[]> {
  const byTrack: Record<number, Omit<ReadFrame, 'cluster'>[]> = {}
  for (const { cluster: _cluster, ...frame } of frames) (byTrack[frame.track] ??= []).push(frame)
  return byTrack
}

/**
 * Checks what repackaging promises on a complete run: the output passes the chunker's checks, each
 * fragment opens with a key frame of `cutTrack` and holds only frames after the previous fragment's last
 * one, and every track carries the input's frames (times shifted by `shift`), in order, bytes unchanged.
 */
export function expectKvsReady(
  input: Uint8Array,
  run: Run,
  options: {
    cutTrack: number
    shift?: (time: number, index: number) => number
    /** Indexes (in input order) of frames the repackager leaves out. */
    dropped?: readonly number[]
  } = { cutTrack: 1 },
): void {
  expect(run.error).toBeUndefined()
  expect(violations(run.events)).toEqual([])
  const output = outputBytes(run.events)
  const chunker = createClusterChunker()
  const chunked = [...chunker.push(output), ...chunker.end()]
  expect(chunked.filter((event) => event.type === 'violation')).toEqual([])
  expect(chunked.filter((event) => event.type === 'fragment').length).toBe(fragments(run.events).length)
  const out = readFrames(output)
  let previousMax = Number.NEGATIVE_INFINITY
  for (let cluster = 0; ; cluster++) {
    const frames = out.filter((frame) => frame.cluster === cluster)
    if (frames.length === 0) break
    expect(frames[0], `fragment ${cluster} starts with a key frame`).toMatchObject({
      track: options.cutTrack,
      key: true,
    })
    const min = Math.min(...frames.map((frame) => frame.time))
    expect(min, `fragment ${cluster} comes after the previous one`).toBeGreaterThan(previousMax)
    previousMax = Math.max(...frames.map((frame) => frame.time))
  }
  const shift = options.shift ?? ((time) => time)
  const expected = readFrames(input)
    .map((frame, index) => ({ ...frame, time: shift(frame.time, index) }))
    .filter((_frame, index) => !options.dropped?.includes(index))
  expect(framesByTrack(out)).toEqual(framesByTrack(expected))
}

// ---------------------------------------------------------------------------------------------------------
// Crafted Matroska, written with the @kvs-streams/ebml writer

export interface TrackSpec {
  number: number
  /** 1 video, 2 audio. */
  type: number
  codecId?: string
  defaultDurationNs?: number
  codecPrivate?: Uint8Array
}

export interface BlockSpec {
  track: number
  /** Relative to the cluster, in TimecodeScale units (int16). */
  timecode: number
  keyframe?: boolean
  /** Frame payload size. Default 8. */
  size?: number
  /** Write a BlockGroup instead of a SimpleBlock; `references` adds a ReferenceBlock (not a key frame). */
  group?: { duration?: number; references?: boolean }
  /** Set the lacing bits (Xiph) and write a lace header before the frames (passed through untouched). */
  laced?: boolean
}

export interface ClusterSpec {
  timecode: number
  blocks: BlockSpec[]
  /** Write the Cluster with the unknown size (as GStreamer's streamable mode does). */
  unknownSize?: boolean
  /** Level-1 Tags written right after the Cluster. */
  tagsAfter?: SimpleTagInput[]
}

export interface DocumentSpec {
  tracks?: TrackSpec[]
  timecodeScale?: number
  clusters: ClusterSpec[]
  /** Cues after the last Cluster. */
  trailer?: boolean
}

export const VIDEO: TrackSpec = { number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC' }
export const AUDIO: TrackSpec = { number: 2, type: 2, codecId: 'A_AAC' }

/** Counts blocks so every frame payload is different (frames are told apart by their bytes). */
let serial = 0

function trackEntry(track: TrackSpec): Uint8Array {
  const children = [
    writeUint(ElementId.TrackNumber, track.number),
    writeUint(ElementId.TrackUID, track.number),
    writeUint(ElementId.TrackType, track.type),
    writeString(ElementId.CodecID, track.codecId ?? (track.type === 1 ? 'V_MPEG4/ISO/AVC' : 'A_AAC')),
  ]
  if (track.defaultDurationNs !== undefined)
    children.push(writeUint(ElementId.DefaultDuration, track.defaultDurationNs))
  if (track.codecPrivate !== undefined)
    children.push(writeElement(ElementId.CodecPrivate, track.codecPrivate))
  return writeElement(ElementId.TrackEntry, children)
}

function block(spec: BlockSpec): Uint8Array {
  const size = spec.size ?? 8
  const data = new Uint8Array(size)
  const id = ++serial
  for (let i = 0; i < size; i++) data[i] = (id * 31 + i * 7) & 0xff
  if (spec.laced && size > 2) {
    data[0] = 1 // two frames, Xiph lacing: first frame's size
    data[1] = 1
  }
  const track = encodeVint(spec.track)
  const head = new Uint8Array(track.length + 3)
  head.set(track, 0)
  head[track.length] = (spec.timecode >> 8) & 0xff
  head[track.length + 1] = spec.timecode & 0xff
  const lacing = spec.laced ? 0x02 : 0
  if (spec.group === undefined) {
    head[track.length + 2] = (spec.keyframe ? 0x80 : 0) | lacing
    return writeElement(ElementId.SimpleBlock, [head, data])
  }
  head[track.length + 2] = lacing
  const children = [writeElement(ElementId.Block, [head, data])]
  if (spec.group.duration !== undefined)
    children.push(writeUint(ElementId.BlockDuration, spec.group.duration))
  if (spec.group.references) children.push(writeElement(ElementId.ReferenceBlock, Uint8Array.of(0xd8)))
  return writeElement(ElementId.BlockGroup, children)
}

function cluster(spec: ClusterSpec): Uint8Array {
  const children = [writeUint(ElementId.Timecode, spec.timecode), ...spec.blocks.map(block)]
  const element = spec.unknownSize
    ? concatBytes([writeUnknownSizeStart(ElementId.Cluster, 8), ...children])
    : writeElement(ElementId.Cluster, children)
  if (!spec.tagsAfter) return element
  return concatBytes([element, writeSimpleTags(spec.tagsAfter, { sizeWidth: 4 })])
}

/** One EBML document (header + unknown-size Segment) from `spec`. */
export function buildDocument(spec: DocumentSpec): Uint8Array {
  const tracks = spec.tracks ?? [VIDEO]
  const info = writeElement(ElementId.Info, [
    writeUint(ElementId.TimecodeScale, spec.timecodeScale ?? 1_000_000),
    writeString(ElementId.MuxingApp, 'kvs-streams-test'),
    writeString(ElementId.WritingApp, 'kvs-streams-test'),
  ])
  const body = [info, writeElement(ElementId.Tracks, tracks.map(trackEntry)), ...spec.clusters.map(cluster)]
  if (spec.trailer) {
    body.push(
      writeElement(ElementId.Cues, [
        writeElement(ElementId.CuePoint, [
          writeUint(ElementId.CueTime, 0),
          writeElement(ElementId.CueTrackPositions, [
            writeUint(ElementId.CueTrack, 1),
            writeUint(ElementId.CueClusterPosition, 0),
          ]),
        ]),
      ]),
    )
  }
  return concatBytes([writeEbmlHeader(), writeUnknownSizeStart(ElementId.Segment, 8), ...body])
}

/** Several documents one after the other (a source that restarted, GetMedia output). */
export function buildMkv(...documents: DocumentSpec[]): Uint8Array {
  return concatBytes(documents.map(buildDocument))
}

/**
 * Video GOPs (a key frame every `gop` frames, `frameMs` apart) with audio every `audioMs`, each in a
 * Cluster of its own. `audioLead` audio frames of each GOP's time are written after the key frame (as
 * ffmpeg does with B-frames), or, negative, that many of the next GOP's audio frames before its Cluster ends.
 */
export function gops(options: {
  count: number
  gop?: number
  frameMs?: number
  audioMs?: number
  start?: number
  /** Audio frames written at the head of the next Cluster, before its key frame (ffmpeg's pattern). */
  audioBeforeKey?: number
  /** Audio at the key frame's time written at the end of the Cluster before (GStreamer's pattern). */
  audioAtKeyInPrevious?: boolean
}): ClusterSpec[] {
  const { count, gop = 10, frameMs = 40, audioMs = 20, start = 0 } = options
  const gopMs = gop * frameMs
  // Every frame with its absolute time, then assigned to clusters by the muxer's pattern.
  const clusters: { timecode: number; blocks: { track: number; time: number; keyframe?: boolean }[] }[] = []
  for (let g = 0; g < count; g++) {
    const base = start + g * gopMs
    const video = Array.from({ length: gop }, (_, i) => ({
      track: 1,
      time: base + i * frameMs,
      keyframe: i === 0,
    }))
    const audio = Array.from({ length: gopMs / audioMs }, (_, i) => ({ track: 2, time: base + i * audioMs }))
    // Interleave by time, video first on ties.
    const blocks = [...video, ...audio].sort((a, b) => a.time - b.time || a.track - b.track)
    clusters.push({ timecode: base, blocks })
  }
  const moveBack = options.audioBeforeKey ?? 0
  for (let g = 1; g < clusters.length; g++) {
    const previous = clusters[g - 1]!
    const current = clusters[g]!
    if (moveBack > 0) {
      // The last `moveBack` audio frames of the previous GOP go to the head of this Cluster.
      const audio = previous.blocks.filter((b) => b.track === 2).slice(-moveBack)
      previous.blocks = previous.blocks.filter((b) => !audio.includes(b))
      current.blocks = [...audio, ...current.blocks]
      current.timecode = audio[0]!.time
    }
    if (options.audioAtKeyInPrevious) {
      const atKey = current.blocks.find((b) => b.track === 2 && b.time === current.timecode)!
      current.blocks = current.blocks.filter((b) => b !== atKey)
      previous.blocks.push(atKey)
    }
  }
  return clusters.map((c) => ({
    timecode: c.timecode,
    blocks: c.blocks.map((b) => ({
      track: b.track,
      timecode: b.time - c.timecode,
      keyframe: b.track === 2 || b.keyframe,
    })),
  }))
}
