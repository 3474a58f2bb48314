import { ChunkStore } from '@kvs-streams/core'
import {
  type BlockHeaderFields,
  createEbmlReader,
  type DataMode,
  type EbmlEvent,
  type EbmlReader,
  ElementId,
  type Lacing,
  newTrackEntry,
  readBlockHeaderAt,
  readString,
  readTrackEntryField,
  readUint,
  TRACK_ENTRY_FIELD_IDS,
  type TrackEntryInfo,
} from '@kvs-streams/ebml'
import { Fmp4Error } from './errors.ts'

/** The `AWS_KINESISVIDEO_*` tags GetMedia writes before a fragment's Cluster. */
export interface KvsFragmentTags {
  /** `AWS_KINESISVIDEO_FRAGMENT_NUMBER`. */
  fragmentNumber: string | undefined
  /** `AWS_KINESISVIDEO_PRODUCER_TIMESTAMP` / `SERVER_TIMESTAMP`, epoch milliseconds. */
  producerTimestampMs: number | undefined
  serverTimestampMs: number | undefined
}

/** A Cluster begins: the document's tracks and TimecodeScale, and the KVS tags read before it. */
export interface ClusterStartEvent extends KvsFragmentTags {
  type: 'cluster-start'
  tracks: TrackEntryInfo[]
  /** Nanoseconds per timecode tick. */
  timecodeScale: number
}

/** One block: its frame(s), as a view of the pushed chunk (copied once when the block spans chunks). */
export interface BlockFrameEvent {
  type: 'frame'
  track: number
  /** Presentation time in ms on the Matroska timeline: (Cluster Timecode + block timecode) × TimecodeScale. */
  timestampMs: number
  keyframe: boolean
  /** Block payload after its header (a laced block's starts with its lacing header). */
  data: Uint8Array
  /** BlockDuration, else the track's DefaultDuration, in ms. */
  durationMs: number | undefined
  lacing: Lacing
}

/** The Cluster is over. */
export interface ClusterEndEvent {
  type: 'cluster-end'
}

/** What the reader reports: Clusters and the frames in them. */
export type MkvReaderEvent = ClusterStartEvent | BlockFrameEvent | ClusterEndEvent

const EBML = ElementId.EBML as number
const SEGMENT = ElementId.Segment as number
const TRACKS = ElementId.Tracks as number
const TRACK_ENTRY = ElementId.TrackEntry as number
const CLUSTER = ElementId.Cluster as number
const TIMECODE = ElementId.Timecode as number
const SIMPLE_BLOCK = ElementId.SimpleBlock as number
const BLOCK_GROUP = ElementId.BlockGroup as number
const BLOCK = ElementId.Block as number
const BLOCK_DURATION = ElementId.BlockDuration as number
const REFERENCE_BLOCK = ElementId.ReferenceBlock as number
const TIMECODE_SCALE = ElementId.TimecodeScale as number
const TAGS = ElementId.Tags as number
const SIMPLE_TAG = ElementId.SimpleTag as number
const TAG_NAME = ElementId.TagName as number
const TAG_STRING = ElementId.TagString as number

/** Leaves whose payload is read; everything else, blocks included (cut out of the chunk here), is skipped. */
const readIds = new Set<number>([
  TIMECODE,
  BLOCK_DURATION,
  TIMECODE_SCALE,
  TAG_NAME,
  TAG_STRING,
  ...TRACK_ENTRY_FIELD_IDS,
])
const dataMode = (id: number): DataMode => (readIds.has(id) ? 'data' : 'skip')
const lacings: readonly Lacing[] = ['none', 'xiph', 'fixed', 'ebml']
const EMPTY = new Uint8Array(0)

/**
 * A small incremental Matroska reader for the segmenter: Cluster boundaries, the frames in them (as views of
 * the pushed chunks) and, per document, the tracks and the KVS tags GetMedia writes before each Cluster.
 * Concatenated documents (GetMedia bodies) and plain files read alike. Bytes are kept only while a block
 * spans pushes; `maxBlockBytes` bounds that.
 */
export class MkvReader {
  readonly #reader: EbmlReader
  readonly #store = new ChunkStore()
  readonly #maxBlockBytes: number
  /** The chunk being pushed and its absolute offset: blocks inside it become views of it. */
  #chunk: Uint8Array = EMPTY
  #chunkStart = 0
  #received = 0
  /** Offset one past the last element event: where the element still being read starts. */
  #consumed = 0
  /** The pending element examined last, and whether it is a block whose bytes must be kept. */
  #pendingAt = -1
  #pendingIsBlock = false

  // Per document.
  #timecodeScale = 1_000_000
  #tracks: TrackEntryInfo[] = []
  /** Tracks being read (a Tracks element replaces the document's list when it closes). */
  #readingTracks: TrackEntryInfo[] | undefined
  #entry: TrackEntryInfo | undefined
  /** DefaultDuration in ms per track number. */
  #defaultDurations = new Map<number, number>()
  #tags: KvsFragmentTags = {
    fragmentNumber: undefined,
    producerTimestampMs: undefined,
    serverTimestampMs: undefined,
  }
  #inTags = false
  #tagName: string | undefined
  #tagValue: string | undefined

  // Per Cluster.
  #inCluster = false
  #clusterTimecode = -1
  readonly #block: BlockHeaderFields = { track: 0, timecode: 0, flags: 0 }
  #inGroup = false
  #groupBlock: Uint8Array | undefined
  #groupOffset = 0
  #groupDurationTicks = -1
  #groupReferenced = false

  constructor(options: { maxBlockBytes: number; maxElementBytes: number }) {
    this.#maxBlockBytes = options.maxBlockBytes
    this.#reader = createEbmlReader({ dataMode, maxElementBytes: options.maxElementBytes })
  }

  push(input: Uint8Array): MkvReaderEvent[] {
    const chunk =
      input.constructor === Uint8Array
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    this.#store.append(chunk)
    this.#chunk = chunk
    this.#chunkStart = this.#received
    this.#received += chunk.length
    const out: MkvReaderEvent[] = []
    // The EBML reader returns the events completed before a failure and throws it on its next call, as
    // this reader does (the segmenter holds the failure).
    this.#handleAll(this.#reader.push(chunk), out)
    this.#store.release(this.#pendingBlockStart())
    return out
  }

  end(): MkvReaderEvent[] {
    const out: MkvReaderEvent[] = []
    this.#handleAll(this.#reader.end(), out)
    if (this.#inCluster) this.#closeCluster(out)
    return out
  }

  /**
   * Where the bytes of a block still being read begin (kept until it completes), or the end of input when
   * the element being read is not a block. A block over `maxBlockBytes` fails as soon as its header is in.
   */
  #pendingBlockStart(): number {
    const start = this.#consumed
    const end = this.#received
    if (start >= end) return end
    if (start !== this.#pendingAt) {
      const header = this.#store.copy(start, Math.min(start + 12, end))
      const first = header[0]!
      const idLength = Math.clz32(first) - 23
      const sizeFirst = header[idLength]
      if (sizeFirst === undefined) return start
      const sizeLength = Math.clz32(sizeFirst) - 23
      if (header.length < idLength + sizeLength) return start
      let id = first
      for (let i = 1; i < idLength; i++) id = id * 256 + header[i]!
      let size = sizeFirst & (0xff >> sizeLength)
      for (let i = 1; i < sizeLength; i++) size = size * 256 + header[idLength + i]!
      this.#pendingAt = start
      this.#pendingIsBlock = (id === SIMPLE_BLOCK && this.#inCluster) || (id === BLOCK && this.#inGroup)
      if (this.#pendingIsBlock) this.#checkBlockSize(size)
    }
    return this.#pendingIsBlock ? start : end
  }

  #checkBlockSize(size: number): void {
    if (size > this.#maxBlockBytes) {
      throw new Fmp4Error(
        'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
        `a block of ${size} bytes, more than maxBufferedFragmentBytes (${this.#maxBlockBytes})`,
      )
    }
  }

  #handleAll(events: readonly EbmlEvent[], out: MkvReaderEvent[]): void {
    const count = events.length
    for (let i = 0; i < count; i++) {
      const event = events[i]!
      if (event.id === SIMPLE_BLOCK) {
        if (this.#inCluster && event.type === 'element') {
          this.#simpleBlock(event.offset + event.headerSize, event.size, out)
        }
      } else if (event.type === 'element') {
        this.#leaf(event.id, event.data, event.offset, event.headerSize, event.size)
      } else if (event.type === 'element-start') {
        this.#open(event.id, event.depth, out)
      } else {
        this.#close(event.id, out)
      }
    }
    const last = events[count - 1]
    if (last !== undefined) {
      this.#consumed =
        last.type === 'element-end'
          ? last.end
          : last.type === 'element'
            ? last.offset + last.headerSize + last.size
            : last.offset + last.headerSize
    }
  }

  #open(id: number, depth: number, out: MkvReaderEvent[]): void {
    switch (id) {
      case EBML:
        if (depth === 0) this.#startDocument(out)
        return
      case SEGMENT:
        return
      case TRACKS:
        this.#readingTracks = []
        return
      case TRACK_ENTRY:
        if (this.#readingTracks !== undefined) this.#entry = newTrackEntry()
        return
      case CLUSTER:
        if (this.#inCluster) this.#closeCluster(out)
        this.#inCluster = true
        this.#clusterTimecode = -1
        out.push({
          type: 'cluster-start',
          tracks: this.#tracks,
          timecodeScale: this.#timecodeScale,
          ...this.#tags,
        })
        return
      case BLOCK_GROUP:
        if (!this.#inCluster) return
        this.#inGroup = true
        this.#groupBlock = undefined
        this.#groupDurationTicks = -1
        this.#groupReferenced = false
        return
      case TAGS:
        this.#inTags = true
        return
      case SIMPLE_TAG:
        this.#tagName = undefined
        this.#tagValue = undefined
        return
    }
  }

  #close(id: number, out: MkvReaderEvent[]): void {
    switch (id) {
      case CLUSTER:
        if (this.#inCluster) this.#closeCluster(out)
        return
      case BLOCK_GROUP:
        if (this.#inGroup) this.#blockGroup(out)
        return
      case TRACK_ENTRY: {
        const entry = this.#entry
        this.#entry = undefined
        if (entry !== undefined && entry.number !== 0) this.#readingTracks?.push(entry)
        return
      }
      case TRACKS:
        if (this.#readingTracks !== undefined) {
          this.#tracks = this.#readingTracks
          this.#readingTracks = undefined
          this.#defaultDurations = new Map()
          for (const track of this.#tracks) {
            if (track.defaultDurationNs !== undefined)
              this.#defaultDurations.set(track.number, track.defaultDurationNs / 1e6)
          }
        }
        return
      case TAGS:
        this.#inTags = false
        return
      case SIMPLE_TAG:
        if (this.#inTags && this.#tagName !== undefined && this.#tagValue !== undefined)
          this.#kvsTag(this.#tagName, this.#tagValue)
        return
    }
  }

  #leaf(id: number, data: Uint8Array, offset: number, headerSize: number, size: number): void {
    switch (id) {
      case TIMECODE:
        if (this.#inCluster) this.#clusterTimecode = readUint(data, offset, id)
        return
      case TIMECODE_SCALE:
        this.#timecodeScale = readUint(data, offset, id) || 1_000_000
        return
      case BLOCK:
        // Taken now: the chunk it lies in may be gone when its BlockGroup closes.
        if (this.#inGroup) {
          this.#checkBlockSize(size)
          const start = offset + headerSize
          this.#groupBlock =
            start >= this.#chunkStart
              ? this.#chunk.subarray(start - this.#chunkStart, start - this.#chunkStart + size)
              : this.#store.copy(start, start + size)
          this.#groupOffset = offset
        }
        return
      case BLOCK_DURATION:
        if (this.#inGroup) this.#groupDurationTicks = readUint(data, offset, id)
        return
      case REFERENCE_BLOCK:
        if (this.#inGroup) this.#groupReferenced = true
        return
      case TAG_NAME:
        if (this.#inTags) this.#tagName = readString(data)
        return
      case TAG_STRING:
        if (this.#inTags) this.#tagValue = readString(data)
        return
    }
    const entry = this.#entry
    if (entry !== undefined) readTrackEntryField(entry, id, data, offset)
  }

  #kvsTag(name: string, value: string): void {
    switch (name) {
      case 'AWS_KINESISVIDEO_FRAGMENT_NUMBER':
        this.#tags.fragmentNumber = value
        return
      case 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP':
        this.#tags.producerTimestampMs = kvsTimestampMs(value)
        return
      case 'AWS_KINESISVIDEO_SERVER_TIMESTAMP':
        this.#tags.serverTimestampMs = kvsTimestampMs(value)
        return
    }
  }

  #startDocument(out: MkvReaderEvent[]): void {
    if (this.#inCluster) this.#closeCluster(out)
    this.#timecodeScale = 1_000_000
    this.#tracks = []
    this.#defaultDurations = new Map()
    this.#tags = { fragmentNumber: undefined, producerTimestampMs: undefined, serverTimestampMs: undefined }
    this.#inTags = false
  }

  #closeCluster(out: MkvReaderEvent[]): void {
    this.#inCluster = false
    this.#inGroup = false
    out.push({ type: 'cluster-end' })
  }

  #simpleBlock(start: number, size: number, out: MkvReaderEvent[]): void {
    this.#checkBlockSize(size)
    let data = this.#chunk
    let at = start - this.#chunkStart
    if (at < 0) {
      data = this.#store.copy(start, start + size)
      at = 0
    }
    const block = this.#block
    const headerSize = readBlockHeaderAt(data, at, size, block)
    if (headerSize <= 0 || this.#clusterTimecode < 0) this.#invalidBlock(start)
    const { track, flags } = block
    out.push({
      type: 'frame',
      track,
      timestampMs: ((this.#clusterTimecode + block.timecode) * this.#timecodeScale) / 1e6,
      keyframe: (flags & 0x80) !== 0,
      data: data.subarray(at + headerSize, at + size),
      durationMs: this.#defaultDurations.get(track),
      lacing: lacings[(flags >> 1) & 3]!,
    })
  }

  #blockGroup(out: MkvReaderEvent[]): void {
    this.#inGroup = false
    const data = this.#groupBlock
    if (data === undefined) return
    this.#groupBlock = undefined
    const block = this.#block
    const headerSize = readBlockHeaderAt(data, 0, data.length, block)
    if (headerSize <= 0 || this.#clusterTimecode < 0) this.#invalidBlock(this.#groupOffset)
    const ticks = this.#groupDurationTicks
    const { track, flags } = block
    out.push({
      type: 'frame',
      track,
      timestampMs: ((this.#clusterTimecode + block.timecode) * this.#timecodeScale) / 1e6,
      keyframe: !this.#groupReferenced,
      data: data.subarray(headerSize),
      durationMs: ticks >= 0 ? (ticks * this.#timecodeScale) / 1e6 : this.#defaultDurations.get(track),
      lacing: lacings[(flags >> 1) & 3]!,
    })
  }

  #invalidBlock(offset: number): never {
    throw new Fmp4Error(
      'ERR_KVS_FMP4_INVALID_MKV',
      `a block at byte ${offset} is shorter than its header or comes before its Cluster's Timecode`,
    )
  }
}

/** A KVS tag timestamp (`1700000000.123`, epoch seconds with up to 3 decimals) as epoch ms, exactly. */
function kvsTimestampMs(value: string): number | undefined {
  const match = /^(\d{1,13})(?:\.(\d{1,9}))?$/.exec(value)
  if (match === null) return undefined
  const fraction = (match[2] ?? '').padEnd(3, '0')
  return Number(match[1]) * 1000 + Number(fraction.slice(0, 3)) + Number(`0.${fraction.slice(3) || '0'}`)
}
