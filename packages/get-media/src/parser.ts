import {
  ChunkStore,
  invalidOption,
  positiveIntegerOption,
  renamedOption,
  settledPush,
} from '@kvs-streams/core'
import {
  type BlockHeaderFields,
  createEbmlReader,
  type DataMode,
  type EbmlElement,
  EbmlError,
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
} from '@kvs-streams/ebml'
import { GetMediaParseError, type GetMediaParseErrorCode, GetMediaServiceError } from './errors.ts'
import type {
  FragmentEndInfo,
  FragmentMetadataTag,
  FragmentStartInfo,
  GetMediaEvent,
  TrackInfo,
} from './events.ts'
import { KVS_TAG_PREFIX, KvsTag } from './kvs-tags.ts'
import { tryParseKvsTimestamp } from './kvs-timestamp.ts'

/** `'frames'`: fragment-start, frame, fragment-end events. `'raw'`: one `fragment` event with the bytes. */
export type GetMediaParserMode = 'frames' | 'raw'

/** Options of `createGetMediaParser` and its adapters. */
export interface GetMediaParserOptions {
  /** What to emit per fragment. Default `'frames'`. */
  mode?: GetMediaParserMode
  /**
   * Frame mode: largest frame (SimpleBlock or Block payload). A larger one fails with
   * `ERR_KVS_GETMEDIA_FRAME_TOO_LARGE` as soon as its header is read, before any of it is buffered (and
   * also when it lies whole in one chunk, so the outcome does not depend on how the input is cut). In both
   * modes it also bounds every other element read whole (CodecPrivate, tag names and values), through the
   * EBML reader's `maxElementBytes`. Default 32 MiB.
   */
  maxFrameBytes?: number
  /**
   * Raw mode: largest fragment (document bytes) buffered; a larger one fails with
   * `ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE` as soon as that many bytes of it have arrived. Default 64 MiB.
   */
  maxBufferedFragmentBytes?: number
  /**
   * The former name of `maxBufferedFragmentBytes`. Giving both with different values throws a `TypeError`.
   * @deprecated Use `maxBufferedFragmentBytes`.
   */
  maxFragmentBytes?: number
  /** Most SimpleTags in one fragment's document (KVS and producer tags alike). Default 1024. */
  maxTags?: number
  /** Longest TagName or TagString, in bytes. Default 65,536. */
  maxTagValueLength?: number
  /** Most TrackEntries in one document. Default 64. */
  maxTracks?: number
}

/** An incremental GetMedia parser: body bytes in, fragment events out. */
export interface GetMediaParser {
  /**
   * Consumes a chunk of the GetMedia body and returns the events it completed. Frame `data` views point
   * into `chunk` (raw mode keeps the chunk until its fragment is emitted), so do not reuse its memory while
   * they are in use. Fails with `GetMediaParseError` or `EbmlError`: when the chunk completed events before
   * the problem, they are returned and the error is thrown by the next call (`push()` or `end()`); otherwise
   * it is thrown at once. After an error every call throws it again.
   */
  push(chunk: Uint8Array): GetMediaEvent[]
  /**
   * Ends the input: completes the last fragment (`complete: false` unless its continuation token was read).
   * When the input stops inside an element, it fails with `EbmlError` `ERR_KVS_EBML_TRUNCATED` after
   * returning the last, incomplete fragment: the error is then thrown by the next call (`end()` again).
   */
  end(): GetMediaEvent[]
  /** Bytes pushed so far. */
  readonly offset: number
  /** Bytes held for the fragment being assembled (raw mode; 0 in frame mode). */
  readonly bufferedBytes: number
}

/**
 * Creates a GetMedia parser. The GetMedia body is a concatenation of MKV documents, one per fragment,
 * each with `AWS_KINESISVIDEO_*` tags before and after its Cluster; the parser reports each fragment as
 * soon as its bytes are read: `fragment-start` at its Cluster, `frame` per block, `fragment-end` right after
 * the Tags that carries the continuation token (never waiting for the next document).
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 * @see https://www.rfc-editor.org/rfc/rfc9559 Matroska
 */
export function createGetMediaParser(options: GetMediaParserOptions = {}): GetMediaParser {
  return new Parser(options)
}

const EBML = ElementId.EBML as number
const SEGMENT = ElementId.Segment as number
const CLUSTER = ElementId.Cluster as number
const TIMECODE = ElementId.Timecode as number
const SIMPLE_BLOCK = ElementId.SimpleBlock as number
const BLOCK_GROUP = ElementId.BlockGroup as number
const BLOCK = ElementId.Block as number
const BLOCK_DURATION = ElementId.BlockDuration as number
const REFERENCE_BLOCK = ElementId.ReferenceBlock as number
const TAGS = ElementId.Tags as number
const SIMPLE_TAG = ElementId.SimpleTag as number
const TAG_NAME = ElementId.TagName as number
const TAG_STRING = ElementId.TagString as number
const TIMECODE_SCALE = ElementId.TimecodeScale as number
const TRACK_ENTRY = ElementId.TrackEntry as number
const INFO = ElementId.Info as number
const TRACKS = ElementId.Tracks as number

/** Leaves whose payload the parser reads; every other leaf (Void, CRC-32, SeekHead entries…) is skipped unread. */
const metadataIds = new Set<number>([
  TIMECODE,
  BLOCK_DURATION,
  TAG_NAME,
  TAG_STRING,
  TIMECODE_SCALE,
  ...TRACK_ENTRY_FIELD_IDS,
])
// Blocks are skipped by the reader too: the parser cuts each frame out of the pushed chunk itself, making
// one view per frame (the reader would make one for the block and the parser another for its frame).
// A module-level function, so the reader calls the same function for every leaf (no per-parser closure).
const dataMode = (id: number): DataMode => (metadataIds.has(id) ? 'data' : 'skip')

const lacings: readonly Lacing[] = ['none', 'xiph', 'fixed', 'ebml']
const EMPTY = new Uint8Array(0)

/** Where the current document's fragment is. */
enum FragmentState {
  /** No Cluster yet: fragment-start not emitted. */
  None,
  /** fragment-start emitted; frames flow. */
  Open,
  /** fragment-end emitted; the rest of the document (not seen in service output) is skipped. */
  Done,
}

class Parser implements GetMediaParser {
  readonly #raw: boolean
  readonly #maxFrameBytes: number
  readonly #maxBufferedFragmentBytes: number
  readonly #maxTags: number
  readonly #maxTagValueLength: number
  readonly #maxTracks: number
  readonly #reader: EbmlReader
  /**
   * Pushed chunks still needed: in raw mode from the open fragment's EBML header on (its bytes are cut out
   * as views); in frame mode only while a block spans pushes.
   */
  readonly #store = new ChunkStore()

  /** Bytes pushed so far. */
  #received = 0
  /** The chunk being pushed (as a plain Uint8Array) and its absolute offset: blocks in it become views of it. */
  #chunk: Uint8Array = EMPTY
  #chunkStart = 0
  /** Absolute offset one past the last element event: where the element still being read begins. */
  #consumed = 0
  /** Offset of the pending element last examined, and whether it is a block whose bytes must be kept. */
  #pendingAt = -1
  #pendingIsFrame = false
  /** The first error: every later call throws it again. */
  #failed: Error | undefined
  /** Set by end(): later pushes are a usage error. */
  #ended = false
  /** Whether the first element was seen (the body must start with an EBML header). */
  #started = false

  // The current document (one per fragment).
  /** Absolute offset of the document's first byte, or -1 between documents. */
  #documentOffset = -1
  /** A Segment was opened in this document: an EBML header alone is no fragment. */
  #segmentSeen = false
  #state = FragmentState.None
  /** The document carried an error chunk: without a Cluster, it is no fragment. */
  #errored = false
  #fragmentNumber: string | undefined
  #serverTimestampMs: number | undefined
  #producerTimestampMs: number | undefined
  #millisBehindNow: number | undefined
  #continuationToken: string | undefined
  /** Producer tags of the document (copied into the fragment-end event). */
  #tags: Record<string, string> = {}
  /** The producer's fragment metadata of the document, in order (copied into the fragment-end event). */
  #metadata: FragmentMetadataTag[] = []
  /** Info or Tracks was seen: Tags before the Cluster are now header Tags, not fragment metadata. */
  #headerSeen = false
  /** SimpleTags read in the document, against maxTags. */
  #tagCount = 0
  #timecodeScale = 1_000_000
  #tracks: TrackInfo[] = []
  /** Track number → DefaultDuration in ms, for frames without a BlockDuration. */
  #defaultDurationMs = new Map<number, number>()
  /** Cache of #durationOf: a track number (-1 for none) and its DefaultDuration in ms. */
  #durationTrack = -1
  #duration: number | undefined
  #frameCount = 0

  /** The TrackEntry being read. */
  #entry: TrackInfo | undefined

  /** Inside a Cluster of an open fragment: its blocks become frames. */
  #inCluster = false
  /** The Cluster's Timecode, or -1 before it is read. */
  #clusterTimecode = -1

  /** The header of the block read last (reused: reading a block allocates nothing but its frame event). */
  readonly #block: BlockHeaderFields = { track: 0, timecode: 0, flags: 0 }

  /** Inside a BlockGroup: its Block, duration and references are gathered until it closes. */
  #inGroup = false
  #groupBlock: Uint8Array | undefined
  #groupOffset = 0
  #groupDurationTicks = -1
  #groupReferenced = false

  /** Inside a Tags element: its SimpleTags are collected and acted on when it closes. */
  #inTags = false
  /** Name and value of the innermost open SimpleTag; the stack holds its open ancestors' (nested SimpleTags). */
  #tagName: string | undefined
  #tagValue: string | undefined
  #tagStack: (string | undefined)[] = []
  /** Depth of open SimpleTags. */
  #simpleTagDepth = 0
  /** KVS values read in the open Tags element, applied when it closes. */
  #tagsValues = new Map<string, string>()
  /** The open Tags element holds fragment metadata: it follows the Cluster, or precedes Info and Tracks. */
  #metadataTags = false

  constructor(options: GetMediaParserOptions) {
    const mode = options.mode ?? 'frames'
    if (mode !== 'frames' && mode !== 'raw') throw invalidOption('mode', "'frames' or 'raw'", mode)
    this.#raw = mode === 'raw'
    this.#maxFrameBytes = positiveIntegerOption('maxFrameBytes', options.maxFrameBytes, 32 * 1024 * 1024)
    this.#maxBufferedFragmentBytes = positiveIntegerOption(
      options.maxBufferedFragmentBytes === undefined && options.maxFragmentBytes !== undefined
        ? 'maxFragmentBytes'
        : 'maxBufferedFragmentBytes',
      renamedOption(
        'maxBufferedFragmentBytes',
        options.maxBufferedFragmentBytes,
        'maxFragmentBytes',
        options.maxFragmentBytes,
      ),
      64 * 1024 * 1024,
    )
    this.#maxTags = positiveIntegerOption('maxTags', options.maxTags, 1024)
    this.#maxTagValueLength = positiveIntegerOption('maxTagValueLength', options.maxTagValueLength, 65_536)
    this.#maxTracks = positiveIntegerOption('maxTracks', options.maxTracks, 64)
    this.#reader = createEbmlReader({ dataMode, maxElementBytes: this.#maxFrameBytes })
  }

  get offset(): number {
    return this.#received
  }

  get bufferedBytes(): number {
    return this.#store.retainedBytes
  }

  push(input: Uint8Array): GetMediaEvent[] {
    if (this.#failed) throw this.#failed
    if (this.#ended) throw new Error('push() after end()')
    const out: GetMediaEvent[] = []
    try {
      // Views of a plain Uint8Array are cheaper to make than views of a Node Buffer (same memory either way).
      const chunk =
        input.constructor === Uint8Array
          ? input
          : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      this.#store.append(chunk)
      this.#chunk = chunk
      this.#chunkStart = this.#received
      this.#received += chunk.length
      // A failure the reader holds back for its next call is surfaced now, with the chunk that held the broken
      // bytes.
      const { events, failed, error } = settledPush(this.#reader, chunk)
      if (failed) {
        this.#handleAll(events, out)
        throw this.#translate(error)
      }
      this.#handleAll(events, out)
      this.#retain()
    } catch (error) {
      return this.#failWith(error, out)
    }
    return out
  }

  end(): GetMediaEvent[] {
    if (this.#failed) throw this.#failed
    if (this.#ended) return []
    this.#ended = true
    const out: GetMediaEvent[] = []
    try {
      let events: EbmlEvent[]
      try {
        events = this.#reader.end()
      } catch (error) {
        // The input stopped inside an element: the last fragment is still delivered, as incomplete.
        this.#finishDocument(this.#received, out)
        throw this.#translate(error)
      }
      this.#handleAll(events, out)
      this.#finishDocument(this.#received, out)
    } catch (error) {
      return this.#failWith(error, out)
    }
    return out
  }

  /**
   * Records the first error (every later call throws it) and returns the events completed before it, for the
   * failing call to return; with none, throws it at once.
   */
  #failWith(error: unknown, out: GetMediaEvent[]): GetMediaEvent[] {
    this.#failed = error instanceof Error ? error : new Error(String(error), { cause: error })
    if (out.length === 0) throw this.#failed
    return out
  }

  /** Reports the reader's size limit on tags with this package's code; other EBML errors pass through. */
  #translate(error: unknown): unknown {
    if (!EbmlError.is(error) || error.code !== 'ERR_KVS_EBML_ELEMENT_TOO_LARGE') return error
    const id = error.elementId
    if (id === TAG_NAME || id === TAG_STRING) {
      return this.#error(
        'ERR_KVS_GETMEDIA_TAG_TOO_LARGE',
        `a tag larger than maxFrameBytes ${this.#maxFrameBytes}, the most read whole`,
        { offset: error.offset, elementId: id, cause: error },
      )
    }
    return error
  }

  #error(
    code: GetMediaParseErrorCode,
    message: string,
    options: { offset: number; elementId?: number | undefined; cause?: unknown },
  ): GetMediaParseError {
    return new GetMediaParseError(code, message, options)
  }

  /** Drops the chunks nothing needs any more, and bounds what is kept. */
  #retain(): void {
    if (this.#raw) {
      const open = this.#documentOffset >= 0 && this.#state !== FragmentState.Done
      // Between fragments only a header straddling chunks is pending; the reader's offset is where it starts.
      this.#store.release(open ? this.#documentOffset : this.#reader.offset)
      // The reader's offset leaves out a header still being read (it may be the next document's).
      if (open) this.#checkFragmentSize(this.#reader.offset)
      return
    }
    this.#store.release(this.#pendingFrameStart())
  }

  /**
   * Frame mode: where the bytes of a block still being read begin (they are kept until it completes), or
   * the end of input when the element being read is not a wanted block. A block declaring more than
   * maxFrameBytes fails here, as soon as its header is in, before any of it is kept.
   */
  #pendingFrameStart(): number {
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
      this.#pendingIsFrame = (id === SIMPLE_BLOCK && this.#inCluster) || (id === BLOCK && this.#inGroup)
      if (this.#pendingIsFrame) this.#checkFrameSize(start, size, id)
    }
    return this.#pendingIsFrame ? start : end
  }

  /** Raw mode: fails when the fragment reaches past maxBufferedFragmentBytes, whether it is complete or still arriving. */
  #checkFragmentSize(end: number): void {
    if (end - this.#documentOffset <= this.#maxBufferedFragmentBytes) return
    throw this.#error(
      'ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE',
      `fragment larger than maxBufferedFragmentBytes ${this.#maxBufferedFragmentBytes}`,
      { offset: this.#documentOffset },
    )
  }

  /** Frame mode: fails on a block over maxFrameBytes even when it lies in one chunk (same result however split). */
  #checkFrameSize(offset: number, size: number, id: number): void {
    if (size <= this.#maxFrameBytes) return
    throw this.#error(
      'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE',
      `a frame of ${size} bytes, more than maxFrameBytes ${this.#maxFrameBytes}`,
      { offset, elementId: id },
    )
  }

  /** The bytes of a block's payload: the pushed chunk when it lies in it, else joined once from the store. */
  #payload(start: number, size: number): Uint8Array {
    return start >= this.#chunkStart
      ? this.#chunk.subarray(start - this.#chunkStart, start - this.#chunkStart + size)
      : this.#store.copy(start, start + size)
  }

  #handleAll(events: readonly EbmlEvent[], out: GetMediaEvent[]): void {
    const count = events.length
    if (!this.#started && count > 0) this.#checkStart(events[0]!)
    for (let i = 0; i < count; i++) {
      const event = events[i]!
      // The hot path: one SimpleBlock per frame (a leaf id, so the event is an 'element').
      if (event.id === SIMPLE_BLOCK) {
        if (this.#inCluster) {
          const { offset } = event as EbmlElement
          this.#simpleBlock(
            offset,
            offset + (event as EbmlElement).headerSize,
            (event as EbmlElement).size,
            out,
          )
        }
      } else if (event.type === 'element') {
        this.#leaf(event.id, event.data, event.offset, event.headerSize, event.size)
      } else if (event.type === 'element-start') {
        this.#open(event.id, event.offset, event.depth, out)
      } else {
        this.#close(event.id, event.end, event.depth, out)
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

  /** The body must start with an EBML header (an HTML or JSON error body, say, must not read as nothing). */
  #checkStart(first: EbmlEvent): void {
    if (first.type !== 'element-start' || first.id !== EBML) {
      throw this.#error('ERR_KVS_GETMEDIA_NOT_MKV', 'the GetMedia body does not start with an EBML header', {
        offset: first.offset,
        elementId: first.id,
      })
    }
    this.#started = true
  }

  #open(id: number, offset: number, depth: number, out: GetMediaEvent[]): void {
    switch (id) {
      case EBML:
        if (depth !== 0) return
        this.#finishDocument(offset, out)
        this.#startDocument(offset)
        return
      case SEGMENT:
        if (depth !== 0) return
        // A Segment after a closed one, without its own EBML header, is read as a document of its own.
        if (this.#documentOffset < 0) this.#startDocument(offset)
        this.#segmentSeen = true
        return
      case CLUSTER:
        if (this.#documentOffset < 0) return
        if (this.#state === FragmentState.None) this.#startFragment(out)
        this.#inCluster = this.#state === FragmentState.Open
        this.#clusterTimecode = -1
        return
      case BLOCK_GROUP:
        if (!this.#inCluster) return
        this.#inGroup = true
        this.#groupBlock = undefined
        this.#groupDurationTicks = -1
        this.#groupReferenced = false
        return
      case TAGS:
        if (this.#documentOffset < 0) return
        this.#inTags = true
        this.#tagsValues.clear()
        this.#metadataTags = this.#state === FragmentState.Open || !this.#headerSeen
        return
      case INFO:
      case TRACKS:
        if (depth === 1) this.#headerSeen = true
        return
      case SIMPLE_TAG:
        if (!this.#inTags) return
        if (this.#simpleTagDepth > 0) this.#tagStack.push(this.#tagName, this.#tagValue)
        this.#simpleTagDepth++
        this.#tagName = undefined
        this.#tagValue = undefined
        return
      case TRACK_ENTRY:
        // Tracks are the document's header: once fragment-start has reported them they no longer change.
        if (this.#documentOffset < 0 || this.#state !== FragmentState.None) return
        if (this.#tracks.length >= this.#maxTracks) {
          throw this.#error(
            'ERR_KVS_GETMEDIA_TOO_MANY_TRACKS',
            `more than maxTracks ${this.#maxTracks} tracks`,
            {
              offset,
              elementId: id,
            },
          )
        }
        this.#entry = newTrackEntry()
        return
    }
  }

  #close(id: number, end: number, depth: number, out: GetMediaEvent[]): void {
    switch (id) {
      case SEGMENT:
        if (depth === 0) this.#finishDocument(end, out)
        return
      case CLUSTER:
        this.#inCluster = false
        return
      case BLOCK_GROUP:
        if (this.#inGroup) this.#blockGroup(out)
        return
      case TAGS:
        if (this.#inTags) this.#closeTags(end, out)
        return
      case SIMPLE_TAG:
        if (this.#inTags && this.#simpleTagDepth > 0) this.#closeSimpleTag(end)
        return
      case TRACK_ENTRY: {
        const entry = this.#entry
        this.#entry = undefined
        if (entry === undefined || entry.number === 0) return
        this.#tracks.push(entry)
        if (entry.defaultDurationNs !== undefined) {
          this.#defaultDurationMs.set(entry.number, entry.defaultDurationNs / 1e6)
        }
        return
      }
    }
  }

  #leaf(id: number, data: Uint8Array, offset: number, headerSize: number, size: number): void {
    switch (id) {
      case TIMECODE:
        if (this.#inCluster) this.#clusterTimecode = readUint(data, offset, id)
        return
      case BLOCK:
        // Taken now: the chunk it lies in may be gone by the time its BlockGroup closes.
        if (this.#inGroup) {
          if (!this.#raw) this.#checkFrameSize(offset, size, id)
          this.#groupBlock = this.#raw ? EMPTY : this.#payload(offset + headerSize, size)
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
      case TAG_STRING:
        if (this.#simpleTagDepth === 0) return
        if (size > this.#maxTagValueLength) {
          throw this.#error(
            'ERR_KVS_GETMEDIA_TAG_TOO_LARGE',
            `a tag of ${size} bytes, more than maxTagValueLength ${this.#maxTagValueLength}`,
            { offset, elementId: id },
          )
        }
        if (id === TAG_NAME) this.#tagName = readString(data)
        else this.#tagValue = readString(data)
        return
      case TIMECODE_SCALE:
        if (this.#documentOffset >= 0 && this.#state === FragmentState.None)
          this.#timecodeScale = readUint(data, offset, id) || 1_000_000
        return
    }
    const entry = this.#entry
    if (entry !== undefined) readTrackEntryField(entry, id, data, offset)
  }

  /** A SimpleBlock whose payload is `[start, start + size)`: header read in place, frame cut out as one view. */
  #simpleBlock(offset: number, start: number, size: number, out: GetMediaEvent[]): void {
    this.#frameCount++
    if (this.#raw) return
    if (size > this.#maxFrameBytes) this.#checkFrameSize(offset, size, SIMPLE_BLOCK)
    let data = this.#chunk
    let at = start - this.#chunkStart
    if (at < 0) {
      data = this.#store.copy(start, start + size)
      at = 0
    }
    const block = this.#block
    const headerSize = readBlockHeaderAt(data, at, size, block)
    if (headerSize <= 0) this.#invalidBlock(offset, SIMPLE_BLOCK)
    const clusterTimecode = this.#clusterTimecode
    if (clusterTimecode < 0) this.#noTimecode(offset, SIMPLE_BLOCK)
    const { track, flags } = block
    out.push({
      type: 'frame',
      track,
      timestampMs: ((clusterTimecode + block.timecode) * this.#timecodeScale) / 1e6,
      keyframe: (flags & 0x80) !== 0,
      data: data.subarray(at + headerSize, at + size),
      durationMs: this.#durationOf(track),
      lacing: lacings[(flags >> 1) & 3]!,
    })
  }

  #blockGroup(out: GetMediaEvent[]): void {
    this.#inGroup = false
    const data = this.#groupBlock
    if (data === undefined) return
    this.#groupBlock = undefined
    this.#frameCount++
    if (this.#raw) return
    const offset = this.#groupOffset
    const block = this.#block
    const headerSize = readBlockHeaderAt(data, 0, data.length, block)
    if (headerSize <= 0) this.#invalidBlock(offset, BLOCK)
    const clusterTimecode = this.#clusterTimecode
    if (clusterTimecode < 0) this.#noTimecode(offset, BLOCK)
    const ticks = this.#groupDurationTicks
    const { track, flags } = block
    out.push({
      type: 'frame',
      track,
      timestampMs: ((clusterTimecode + block.timecode) * this.#timecodeScale) / 1e6,
      keyframe: !this.#groupReferenced,
      data: data.subarray(headerSize),
      durationMs: ticks >= 0 ? (ticks * this.#timecodeScale) / 1e6 : this.#durationOf(track),
      lacing: lacings[(flags >> 1) & 3]!,
    })
  }

  /** The track's DefaultDuration in ms; the last track asked about is cached (one Map lookup per track change). */
  #durationOf(track: number): number | undefined {
    if (track !== this.#durationTrack) {
      this.#durationTrack = track
      this.#duration = this.#defaultDurationMs.get(track)
    }
    return this.#duration
  }

  #invalidBlock(offset: number, id: number): never {
    throw this.#error('ERR_KVS_GETMEDIA_INVALID_BLOCK', 'a block shorter than its header', {
      offset,
      elementId: id,
    })
  }

  #noTimecode(offset: number, id: number): never {
    throw this.#error('ERR_KVS_GETMEDIA_INVALID_BLOCK', 'a block before its Cluster Timecode', {
      offset,
      elementId: id,
    })
  }

  #closeSimpleTag(end: number): void {
    const name = this.#tagName
    const value = this.#tagValue
    this.#simpleTagDepth--
    if (this.#simpleTagDepth > 0) {
      this.#tagValue = this.#tagStack.pop()
      this.#tagName = this.#tagStack.pop()
    }
    if (name === undefined || value === undefined) return
    if (++this.#tagCount > this.#maxTags) {
      throw this.#error(
        'ERR_KVS_GETMEDIA_TOO_MANY_TAGS',
        `more than maxTags ${this.#maxTags} tags in a fragment`,
        {
          offset: end,
          elementId: SIMPLE_TAG,
        },
      )
    }
    if (name.startsWith(KVS_TAG_PREFIX)) {
      this.#tagsValues.set(name, value)
    } else if (this.#state === FragmentState.Done) {
      // fragment-end already reported the producer tags; tags after it (not seen in service output) are dropped.
    } else {
      if (name === '__proto__') {
        Object.defineProperty(this.#tags, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      } else {
        this.#tags[name] = value
      }
      if (this.#metadataTags) this.#metadata.push({ name, value })
    }
  }

  /** Acts on the KVS tags of a Tags element: error chunks, fragment metadata, the end of the fragment. */
  #closeTags(end: number, out: GetMediaEvent[]): void {
    this.#inTags = false
    this.#simpleTagDepth = 0
    this.#tagStack.length = 0
    const values = this.#tagsValues
    if (values.size === 0) return
    const fragmentNumber = values.get(KvsTag.FragmentNumber)
    const errorId = values.get(KvsTag.ErrorId)
    const errorCode = values.get(KvsTag.ErrorCode) ?? values.get(KvsTag.ExceptionErrorCode)
    const serviceMessage = values.get(KvsTag.ExceptionMessage)
    if (errorId !== undefined || errorCode !== undefined || serviceMessage !== undefined) {
      this.#errored = true
      const error = new GetMediaServiceError({
        errorId: errorId !== undefined && /^\d{1,15}$/.test(errorId) ? Number(errorId) : undefined,
        errorCode: errorCode ?? (errorId !== undefined && !/^\d{1,15}$/.test(errorId) ? errorId : undefined),
        serviceMessage,
        fragmentNumber: fragmentNumber ?? this.#fragmentNumber,
        offset: end,
      })
      out.push({ type: 'service-error', error })
      values.clear()
      return
    }
    if (fragmentNumber !== undefined) this.#fragmentNumber = fragmentNumber
    const server = values.get(KvsTag.ServerTimestamp) ?? values.get(KvsTag.ServerSideTimestamp)
    if (server !== undefined) this.#serverTimestampMs = tryParseKvsTimestamp(server)
    const producer = values.get(KvsTag.ProducerTimestamp) ?? values.get(KvsTag.ProducerSideTimestamp)
    if (producer !== undefined) this.#producerTimestampMs = tryParseKvsTimestamp(producer)
    const millis = values.get(KvsTag.MillisBehindNow)
    if (millis !== undefined) this.#millisBehindNow = /^\d{1,15}$/.test(millis) ? Number(millis) : undefined
    const token = values.get(KvsTag.ContinuationToken)
    values.clear()
    if (token === undefined) return
    this.#continuationToken = token
    // The continuation token is the last thing KVS writes for a fragment: end it now, not at the next document.
    if (this.#state !== FragmentState.Done && this.#segmentSeen) this.#endFragment(end, true, out)
  }

  #startDocument(offset: number): void {
    this.#documentOffset = offset
    this.#segmentSeen = false
    this.#state = FragmentState.None
    this.#errored = false
    this.#fragmentNumber = undefined
    this.#serverTimestampMs = undefined
    this.#producerTimestampMs = undefined
    this.#millisBehindNow = undefined
    this.#continuationToken = undefined
    this.#tags = {}
    this.#metadata = []
    this.#headerSeen = false
    this.#tagCount = 0
    this.#timecodeScale = 1_000_000
    this.#tracks = []
    this.#defaultDurationMs = new Map()
    this.#durationTrack = -1
    this.#frameCount = 0
    this.#entry = undefined
    this.#inCluster = false
    this.#inGroup = false
    this.#inTags = false
    this.#simpleTagDepth = 0
    this.#tagStack.length = 0
  }

  /** The document is over (next EBML header, end of its Segment, end of input): end its fragment if open. */
  #finishDocument(end: number, out: GetMediaEvent[]): void {
    if (this.#documentOffset < 0) return
    const state = this.#state
    if (
      this.#segmentSeen &&
      state !== FragmentState.Done &&
      !(state === FragmentState.None && this.#errored)
    ) {
      this.#endFragment(end, false, out)
    }
    this.#documentOffset = -1
    this.#inCluster = false
    this.#inGroup = false
    this.#inTags = false
  }

  #startFragment(out: GetMediaEvent[]): void {
    this.#state = FragmentState.Open
    if (!this.#raw) out.push({ type: 'fragment-start', ...this.#startInfo() })
  }

  #endFragment(end: number, complete: boolean, out: GetMediaEvent[]): void {
    if (this.#state === FragmentState.None) this.#startFragment(out)
    this.#state = FragmentState.Done
    this.#inCluster = false
    this.#inGroup = false
    if (this.#raw) {
      this.#checkFragmentSize(end)
      out.push({
        type: 'fragment',
        ...this.#startInfo(),
        ...this.#endInfo(end, complete),
        parts: this.#store.slice(this.#documentOffset, end),
      })
    } else {
      out.push({ type: 'fragment-end', ...this.#endInfo(end, complete) })
    }
  }

  #startInfo(): FragmentStartInfo {
    return {
      fragmentNumber: this.#fragmentNumber,
      serverTimestampMs: this.#serverTimestampMs,
      producerTimestampMs: this.#producerTimestampMs,
      timecodeScale: this.#timecodeScale,
      tracks: this.#tracks,
      documentOffset: this.#documentOffset,
    }
  }

  #endInfo(end: number, complete: boolean): FragmentEndInfo {
    return {
      fragmentNumber: this.#fragmentNumber,
      millisBehindNow: this.#millisBehindNow,
      continuationToken: this.#continuationToken,
      tags: this.#tags,
      metadata: this.#metadata,
      byteLength: end - this.#documentOffset,
      frameCount: this.#frameCount,
      complete,
      documentOffset: this.#documentOffset,
    }
  }
}
