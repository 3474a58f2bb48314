import { ChunkStore, concatBytes, invalidOption, numberOption, settledPush } from '@kvs-streams/core'
import {
  type BlockHeaderFields,
  createEbmlReader,
  type DataMode,
  type EbmlElement,
  EbmlError,
  type EbmlEvent,
  type EbmlReader,
  ElementId,
  newTrackEntry,
  readBlockHeaderAt,
  readInt,
  readString,
  readTrackEntryField,
  readUint,
} from '@kvs-streams/ebml'
import { ChunkerError } from './errors.ts'
import type { ChunkerEvent, ChunkerFragmentEvent, TrackInfo, Violation, ViolationKind } from './events.ts'

/** Options of `createClusterChunker` and its adapters. */
export interface ClusterChunkerOptions {
  /** What to do when a fragment breaks a KVS rule: throw a `ChunkerError`, or emit a `violation` and go on. Default `'throw'`. */
  onViolation?: 'throw' | 'emit'
  /** Longest fragment KVS accepts, ms (ErrorId 4002). Default 10,000. */
  maxFragmentDurationMs?: number
  /** Largest fragment KVS accepts, bytes (ErrorId 4001). Default 50,000,000. */
  maxFragmentBytes?: number
  /** Most tracks KVS accepts (ErrorId 4012). Default 3. */
  maxTracks?: number
  /** Whether a fragment must start with a video key frame. Default true. */
  requireKeyframe?: boolean
  /** Hard memory bound: a fragment larger than this fails with ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE. Default 128 MiB. */
  maxBufferedBytes?: number
  /** Largest header (EBML header through Tracks) accepted. Default 8 MiB. */
  maxHeaderBytes?: number
  /**
   * Also emit a `fragment-start` event as soon as a Cluster's Timecode is read, before its frames arrive
   * (what a server needs to acknowledge BUFFERING at the first bytes of a fragment). Default false.
   */
  fragmentStart?: boolean
  /**
   * Emit the header as sent: every level-1 element before the first Cluster (SeekHead, Void and CRC-32
   * included) with its bytes unchanged, only the Segment size rewritten to the 8-byte unknown size. What the
   * KVS service stores and returns in GetMedia. Default false: SeekHead, Void and CRC-32 are dropped, since
   * their positions and padding no longer apply in a new PutMedia session.
   */
  headerAsSent?: boolean
  /**
   * Drop the Tags whose SimpleTags are all the service's own (`AWS_KINESISVIDEO_*`, as GetMedia writes them
   * around each cluster), before the first Cluster and after each one, so that GetMedia output can be sent
   * again with PutMedia, which refuses those names (ErrorId 4009). Tags that also hold other names are kept
   * whole. Default false.
   * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
   */
  stripServiceTags?: boolean
}

/** An incremental cluster chunker: MKV bytes in, header, fragment and violation events out. */
export interface ClusterChunker {
  /**
   * Consumes a chunk. The chunk is kept (not copied) until the fragments it belongs to are emitted, so the
   * caller must not reuse its memory. Fails with `ChunkerError`/`EbmlError`: when the chunk completed events
   * before the problem, they are returned and the error is thrown by the next call (`push()` or `end()`);
   * otherwise it is thrown at once. After an error every call throws that error again.
   */
  push(chunk: Uint8Array): ChunkerEvent[]
  /**
   * Ends the input: emits the last fragment, or fails when the input stops inside an element (after
   * returning the last complete fragment, if any: the error then comes from the next call).
   */
  end(): ChunkerEvent[]
  /** Bytes held for the fragment being assembled. */
  readonly bufferedBytes: number
}

/** Creates a chunker. @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html */
export function createClusterChunker(options: ClusterChunkerOptions = {}): ClusterChunker {
  return new Chunker(options)
}

/** Segment id, then the 8-byte unknown size: a session carries only part of the Segment. */
const SEGMENT_UNKNOWN_SIZE = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, ...new Array<number>(7).fill(0xff))
const NO_CHUNK = new Uint8Array(0)
/** Tag names the KVS service writes into GetMedia output (and PutMedia refuses from producers). */
const SERVICE_TAG_PREFIX = 'AWS_KINESISVIDEO_'

// Blocks are skipped by the reader: the chunker reads their few header bytes where they lie (#readBlock),
// so a block costs no view and no header object.
const skipBlocks = (id: number): DataMode =>
  id === ElementId.SimpleBlock || id === ElementId.Block ? 'skip' : 'data'

/** Leaf decoders (readUint, …) throw without knowing where the bytes were: this adds the element's place. */
function located(error: unknown, event: EbmlEvent): unknown {
  if (!EbmlError.is(error) || error.offset !== -1) return error
  return new EbmlError(error.code, error.message, {
    offset: event.offset,
    elementId: event.id,
    cause: error,
  })
}

/** Where the chunker is in the structure of the current document. */
enum Phase {
  /** Before the first EBML header. */
  Start,
  /** Inside the Segment before its first Cluster: level-1 elements join the header. */
  Header,
  /** Inside a Cluster. */
  Cluster,
  /** After a Cluster: level-1 Tags still join its fragment. */
  AfterCluster,
  /** Between fragments: other level-1 elements (Cues, SeekHead, …) are not forwarded. */
  Between,
}

class Chunker implements ClusterChunker {
  readonly #onViolation: 'throw' | 'emit'
  readonly #maxDurationMs: number
  readonly #maxFragmentBytes: number
  readonly #maxTracks: number
  readonly #requireKeyframe: boolean
  readonly #maxBufferedBytes: number
  readonly #maxHeaderBytes: number
  readonly #fragmentStart: boolean
  readonly #headerAsSent: boolean
  readonly #stripServiceTags: boolean
  readonly #reader: EbmlReader
  /** Input chunks from the earliest byte still needed (header element or open fragment) on. */
  readonly #store = new ChunkStore()

  #phase = Phase.Start
  /** Inside the EBML header element: its children are not Segment children. */
  #inEbmlHeader = false
  /** Segments seen: a second one breaks the one-segment rule (4006). */
  #segments = 0
  /** Copy of the document's EBML header element. */
  #ebmlHeader: Uint8Array = new Uint8Array(0)
  /** Copies of the level-1 header elements (Info, Tracks, …) of the current Segment. */
  #segmentParts: Uint8Array[] = []
  #headerBytes = 0
  #headerEmitted = false
  /** Absolute offset of the level-1 header element being read, or -1. */
  #headerElementStart = -1
  /** With `headerAsSent`, the offset of the Segment's first child until the header is emitted: kept whole. */
  #segmentDataStart = -1
  #timecodeScale = 1_000_000
  #tracks: TrackInfo[] = []
  /** Track number → TrackType, for the declared tracks. */
  #trackTypes = new Map<number, number>()
  /** The TrackEntry being read. */
  #entry: TrackInfo | undefined
  #hasVideo = false

  // The fragment being assembled.
  #fragmentIndex = 0
  /** Byte ranges of the fragment as [start, end) pairs: the Cluster, then each Tags element after it. */
  #ranges: number[] = []
  #clusterOffset = 0
  #clusterTimecode: number | undefined
  /** Time of the fragment's first frame in file order, ms: what must come after the previous fragment (4004). */
  #firstTime = 0
  /** Earliest frame time, latest frame time and latest frame end of the fragment, ms. */
  #minTime = Number.POSITIVE_INFINITY
  #maxTime = Number.NEGATIVE_INFINITY
  #maxEnd = Number.NEGATIVE_INFINITY
  #blockCount = 0
  /** Key-frame flag of the fragment's first video frame, once seen. */
  #keyframe: boolean | undefined
  #present = new Set<number>()
  #undeclared = new Set<number>()
  /** The BlockGroup being read: its Block's track and timecode, duration, and whether it references a frame. */
  #groupTrack = -1
  #groupTimecode = 0
  #groupDuration = -1
  #groupReferences = false
  /** The chunk being pushed and its stream offset: block headers inside it are read in place. */
  #chunk: Uint8Array = NO_CHUNK
  #chunkStart = 0
  /** The block header read last by #readBlock. */
  readonly #block: BlockHeaderFields = { track: 0, timecode: 0, flags: 0 }
  /** Latest frame time of the previous fragment, ms: the next one must start after it (4004). */
  #previousMaxTime = Number.NEGATIVE_INFINITY
  /** Offset of the Tags element after the cluster being read, or -1. */
  #tagsStart = -1
  /** With `stripServiceTags`, inside a level-1 Tags element: its names are read to decide whether it is dropped. */
  #inTags = false
  /** Every SimpleTag of the Tags element being read so far is the service's own (`AWS_KINESISVIDEO_*`). */
  #serviceTagsOnly = false
  /** The first error thrown: every later call throws it again, since the state it left is not consistent. */
  #failed: unknown
  #hasFailed = false

  constructor(options: ClusterChunkerOptions) {
    const policy = options.onViolation ?? 'throw'
    if (policy !== 'throw' && policy !== 'emit') {
      throw invalidOption('onViolation', "'throw' or 'emit'", policy)
    }
    this.#onViolation = policy
    this.#maxDurationMs = positive('maxFragmentDurationMs', options.maxFragmentDurationMs, 10_000)
    this.#maxFragmentBytes = positive('maxFragmentBytes', options.maxFragmentBytes, 50_000_000)
    this.#maxTracks = positive('maxTracks', options.maxTracks, 3)
    const requireKeyframe = options.requireKeyframe ?? true
    if (typeof requireKeyframe !== 'boolean') {
      throw invalidOption('requireKeyframe', 'a boolean', requireKeyframe)
    }
    this.#requireKeyframe = requireKeyframe
    this.#maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 128 * 1024 * 1024)
    this.#maxHeaderBytes = positive('maxHeaderBytes', options.maxHeaderBytes, 8 * 1024 * 1024)
    const fragmentStart = options.fragmentStart ?? false
    if (typeof fragmentStart !== 'boolean') throw invalidOption('fragmentStart', 'a boolean', fragmentStart)
    this.#fragmentStart = fragmentStart
    const headerAsSent = options.headerAsSent ?? false
    if (typeof headerAsSent !== 'boolean') throw invalidOption('headerAsSent', 'a boolean', headerAsSent)
    this.#headerAsSent = headerAsSent
    const stripServiceTags = options.stripServiceTags ?? false
    if (typeof stripServiceTags !== 'boolean') {
      throw invalidOption('stripServiceTags', 'a boolean', stripServiceTags)
    }
    this.#stripServiceTags = stripServiceTags
    this.#reader = createEbmlReader({ dataMode: skipBlocks, maxElementBytes: this.#maxHeaderBytes })
  }

  get bufferedBytes(): number {
    return this.#store.retainedBytes
  }

  push(chunk: Uint8Array): ChunkerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: ChunkerEvent[] = []
    this.#chunkStart = this.#store.end
    this.#chunk = chunk
    this.#store.append(chunk)
    try {
      // A failure the reader holds back for its next call is surfaced now, with the chunk that held the broken
      // bytes.
      const { events, failed, error } = settledPush(this.#reader, chunk)
      if (failed) {
        for (const event of events) this.#handle(event, out)
        if (EbmlError.is(error)) {
          // A memory bound crossed before the broken bytes is the first problem in the stream, however the
          // input was chunked.
          this.#checkBounds()
          // The input broke after a complete Cluster: deliver it, as end() does for a truncation.
          if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
        }
        throw error
      }
      for (const event of events) this.#handle(event, out)
      this.#release()
    } catch (error) {
      return this.#fail(error, out)
    } finally {
      this.#chunk = NO_CHUNK
    }
    return out
  }

  end(): ChunkerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: ChunkerEvent[] = []
    try {
      let events: EbmlEvent[]
      try {
        events = this.#reader.end()
      } catch (error) {
        // The input stopped inside an element: what the last complete fragment held is still delivered.
        if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
        throw error
      }
      for (const event of events) this.#handle(event, out)
      if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
      if (this.#segments > 0 && !this.#headerEmitted) this.#emitHeader(out, this.#reader.offset)
    } catch (error) {
      return this.#fail(error, out)
    }
    return out
  }

  /**
   * Records the first error (every later call throws it) and returns the events completed before it, for
   * the failing call to return; with none, throws it at once.
   */
  #fail(error: unknown, out: ChunkerEvent[]): ChunkerEvent[] {
    this.#hasFailed = true
    this.#failed = error
    if (out.length === 0) throw error
    return out
  }

  #handle(event: EbmlEvent, out: ChunkerEvent[]): void {
    if (this.#inEbmlHeader) {
      if (event.type === 'element-end' && event.depth === 0) {
        this.#inEbmlHeader = false
        this.#checkHeaderBytes(this.#headerBytes + event.end - event.offset, event.offset)
        this.#ebmlHeader = this.#store.copy(event.offset, event.end).slice()
        this.#headerElementStart = -1
      }
      return
    }
    if (event.depth === 0) this.#handleRoot(event, out)
    else if (event.depth === 1) this.#handleLevel1(event, out)
    else if (this.#inTags) {
      // Tags > Tag > SimpleTag > TagName: a top-level SimpleTag's name (nested SimpleTags go with their parent).
      if (event.type === 'element' && event.id === ElementId.TagName && event.depth === 4) {
        if (!readString(event.data).startsWith(SERVICE_TAG_PREFIX)) this.#serviceTagsOnly = false
      }
    } else if (this.#phase === Phase.Cluster) {
      try {
        this.#handleInCluster(event, out)
      } catch (error) {
        throw located(error, event)
      }
    } else if (this.#phase === Phase.Header && this.#headerElementStart >= 0) {
      try {
        this.#handleInHeader(event)
      } catch (error) {
        throw located(error, event)
      }
    }
  }

  #handleRoot(event: EbmlEvent, out: ChunkerEvent[]): void {
    if (event.type === 'element-start' && event.id === ElementId.EBML) {
      if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
      if (this.#segments > 0) {
        this.#violation(
          out,
          'second-segment',
          4006,
          'a second EBML document in one PutMedia stream',
          event.offset,
        )
        this.#resetSegment()
      }
      this.#inEbmlHeader = true
      this.#headerElementStart = event.offset
      if (this.#phase === Phase.Start) this.#phase = Phase.Between
      return
    }
    if (event.type === 'element-start' && event.id === ElementId.Segment) {
      if (this.#ebmlHeader.length === 0) {
        throw new ChunkerError('ERR_KVS_CHUNKER_NOT_MKV', 'Segment without an EBML header', {
          offset: event.offset,
          errorId: 4006,
        })
      }
      if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
      if (this.#segments > 0 && this.#headerEmitted) {
        this.#violation(out, 'second-segment', 4006, 'a second Segment in one PutMedia stream', event.offset)
        this.#resetSegment()
      }
      this.#segments++
      this.#phase = Phase.Header
      if (this.#headerAsSent) this.#segmentDataStart = event.offset + event.headerSize
      return
    }
    if (event.type === 'element-end' && event.id === ElementId.Segment) {
      if (this.#phase === Phase.AfterCluster) this.#finishFragment(out)
      if (!this.#headerEmitted) this.#emitHeader(out, event.end)
      this.#phase = Phase.Between
      return
    }
    if (this.#phase === Phase.Start) {
      throw new ChunkerError('ERR_KVS_CHUNKER_NOT_MKV', 'input does not start with an EBML header', {
        offset: event.offset,
        errorId: 4006,
      })
    }
  }

  #handleLevel1(event: EbmlEvent, out: ChunkerEvent[]): void {
    const phase = this.#phase
    if (event.type === 'element-start') {
      if (event.id === ElementId.Tags && this.#stripServiceTags && this.#segmentDataStart < 0) {
        this.#inTags = phase === Phase.AfterCluster || phase === Phase.Header
        this.#serviceTagsOnly = true
      }
      if (phase === Phase.AfterCluster) {
        if (event.id === ElementId.Tags) {
          this.#tagsStart = event.offset
          return
        }
        this.#finishFragment(out)
      }
      if (event.id === ElementId.Cluster) {
        if (!this.#headerEmitted) this.#emitHeader(out, event.offset)
        this.#startFragment(event.offset)
      } else if (phase === Phase.Header && event.id !== ElementId.SeekHead) {
        this.#headerElementStart = event.offset
      }
      return
    }
    if (event.type === 'element-end') {
      // Tags of the service's own names only (an empty Tags too): left out of the header or the fragment.
      const dropped = this.#inTags && event.id === ElementId.Tags && this.#serviceTagsOnly
      if (event.id === ElementId.Tags) this.#inTags = false
      if (dropped) {
        if (phase === Phase.AfterCluster && this.#tagsStart === event.offset) this.#tagsStart = -1
        else if (phase === Phase.Header && this.#headerElementStart === event.offset)
          this.#headerElementStart = -1
        return
      }
      if (event.id === ElementId.Cluster && phase === Phase.Cluster) {
        this.#ranges.push(this.#clusterOffset, event.end)
        this.#phase = Phase.AfterCluster
      } else if (phase === Phase.AfterCluster && this.#tagsStart === event.offset) {
        const ranges = this.#ranges
        // Tags right after the previous range extend it, so the fragment stays one contiguous view.
        if (ranges[ranges.length - 1] === this.#tagsStart) ranges[ranges.length - 1] = event.end
        else ranges.push(this.#tagsStart, event.end)
        this.#tagsStart = -1
      } else if (phase === Phase.Header && this.#headerElementStart === event.offset) {
        if (this.#segmentDataStart < 0) {
          this.#addHeaderPart(this.#store.copy(event.offset, event.end), event.offset)
        }
        this.#headerElementStart = -1
      }
      return
    }
    // A level-1 leaf: Void and CRC-32 are padding, never forwarded; anything else ends a fragment.
    if (phase === Phase.AfterCluster && event.id !== ElementId.Void && event.id !== ElementId.CRC32) {
      this.#finishFragment(out)
    }
  }

  #handleInHeader(event: EbmlEvent): void {
    if (event.type === 'element') {
      if (event.id === ElementId.TimecodeScale) this.#timecodeScale = readUint(event.data) || 1_000_000
      else if (this.#entry !== undefined) readTrackEntryField(this.#entry, event.id, event.data, event.offset)
      return
    }
    if (event.id !== ElementId.TrackEntry) return
    if (event.type === 'element-start') {
      this.#entry = newTrackEntry()
      return
    }
    const track = this.#entry
    this.#entry = undefined
    // TrackNumber 0 is not a track (RFC 9559: at least 1); without one, blocks could not refer to it.
    if (track === undefined || track.number === 0) return
    this.#tracks.push(track)
    this.#trackTypes.set(track.number, track.type)
    if (track.type === 1) this.#hasVideo = true
  }

  #handleInCluster(event: EbmlEvent, out: ChunkerEvent[]): void {
    if (event.type === 'element') {
      const id = event.id
      if (id === ElementId.SimpleBlock && event.depth === 2) {
        if (!this.#readBlock(event)) this.#invalid('SimpleBlock shorter than its header', event.offset)
        else {
          const block = this.#block
          this.#frame(block.track, block.timecode, (block.flags & 0x80) !== 0, -1, event.offset)
        }
      } else if (id === ElementId.Timecode && event.depth === 2) {
        this.#clusterTimecode = readUint(event.data)
        if (this.#fragmentStart) {
          out.push({
            type: 'fragment-start',
            index: this.#fragmentIndex,
            offset: this.#clusterOffset,
            timecode: this.#clusterTimecode,
          })
        }
      } else if (id === ElementId.Block) {
        if (!this.#readBlock(event)) this.#invalid('Block shorter than its header', event.offset)
        else {
          this.#groupTrack = this.#block.track
          this.#groupTimecode = this.#block.timecode
        }
      } else if (id === ElementId.BlockDuration) {
        this.#groupDuration = readUint(event.data)
      } else if (id === ElementId.ReferenceBlock) {
        this.#groupReferences = true
        readInt(event.data)
      }
      return
    }
    if (event.id !== ElementId.BlockGroup) return
    if (event.type === 'element-start') {
      this.#groupTrack = -1
      this.#groupDuration = -1
      this.#groupReferences = false
    } else if (this.#groupTrack >= 0) {
      this.#frame(
        this.#groupTrack,
        this.#groupTimecode,
        !this.#groupReferences,
        this.#groupDuration,
        event.offset,
      )
    }
  }

  /**
   * Reads the header of a (Simple)Block payload in place: from the chunk being pushed, or from the store when
   * the block began in an earlier chunk (a fragment's bytes are all kept until it is emitted). Fills
   * #block; false when the payload is shorter than its header.
   */
  #readBlock(event: EbmlElement): boolean {
    const start = event.offset + event.headerSize
    const length = Math.min(event.size, 11)
    let data = this.#chunk
    let at = start - this.#chunkStart
    if (at < 0 || at + length > data.length) {
      data = this.#store.copy(start, start + length)
      at = 0
    }
    const headerSize = readBlockHeaderAt(data, at, length, this.#block)
    if (headerSize < 0) {
      throw new EbmlError('ERR_KVS_EBML_INVALID_DATA', 'block track number wider than 8 bytes', {
        offset: -1,
      })
    }
    return headerSize > 0
  }

  /** Accounts one frame of the open fragment. */
  #frame(track: number, relative: number, keyframe: boolean, durationUnits: number, offset: number): void {
    if (this.#clusterTimecode === undefined) {
      this.#invalid('a block before the Cluster Timecode', offset)
      this.#clusterTimecode = 0
    }
    const scale = this.#timecodeScale / 1_000_000
    const time = (this.#clusterTimecode + relative) * scale
    let duration = durationUnits >= 0 ? durationUnits * scale : 0
    if (durationUnits < 0) {
      const trackInfo = this.#trackInfo(track)
      if (trackInfo?.defaultDurationNs !== undefined) duration = trackInfo.defaultDurationNs / 1_000_000
    }
    if (this.#blockCount === 0) this.#firstTime = time
    if (time < this.#minTime) this.#minTime = time
    if (time > this.#maxTime) this.#maxTime = time
    if (time + duration > this.#maxEnd) this.#maxEnd = time + duration
    this.#blockCount++
    this.#present.add(track)
    const type = this.#trackTypes.get(track)
    if (type === undefined) this.#undeclared.add(track)
    if (this.#keyframe === undefined && (!this.#hasVideo || type === 1)) this.#keyframe = keyframe
  }

  #trackInfo(number: number): TrackInfo | undefined {
    for (const track of this.#tracks) if (track.number === number) return track
    return undefined
  }

  #startFragment(offset: number): void {
    this.#phase = Phase.Cluster
    this.#clusterOffset = offset
    this.#ranges = []
    this.#clusterTimecode = undefined
    this.#minTime = Number.POSITIVE_INFINITY
    this.#maxTime = Number.NEGATIVE_INFINITY
    this.#maxEnd = Number.NEGATIVE_INFINITY
    this.#blockCount = 0
    this.#keyframe = undefined
    this.#present = new Set()
    this.#undeclared = new Set()
    this.#tagsStart = -1
  }

  #finishFragment(out: ChunkerEvent[]): void {
    this.#phase = Phase.Between
    const index = this.#fragmentIndex++
    const ranges = this.#ranges
    const parts: Uint8Array[] = []
    let byteLength = 0
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i]!
      const end = ranges[i + 1]!
      for (const part of this.#store.slice(start, end)) parts.push(part)
      byteLength += end - start
    }
    this.#checkFragmentBytes(byteLength)
    const startMs =
      this.#blockCount > 0 ? this.#minTime : (this.#clusterTimecode ?? 0) * (this.#timecodeScale / 1e6)
    const endMs = this.#blockCount > 0 ? this.#maxEnd : startMs
    const fragment: ChunkerFragmentEvent = {
      type: 'fragment',
      index,
      timecode: this.#clusterTimecode ?? 0,
      startMs,
      endMs,
      durationMs: endMs - startMs,
      byteLength,
      parts,
      offset: this.#clusterOffset,
      keyframe: this.#keyframe ?? false,
      tracks: [...this.#present].sort((a, b) => a - b),
      blockCount: this.#blockCount,
    }
    this.#validate(fragment, out)
    if (this.#blockCount > 0) this.#previousMaxTime = this.#maxTime
    out.push(fragment)
  }

  #validate(fragment: ChunkerFragmentEvent, out: ChunkerEvent[]): void {
    const { index, offset } = fragment
    if (this.#requireKeyframe && !fragment.keyframe) {
      this.#violation(
        out,
        'not-keyframe-start',
        undefined,
        `fragment ${index} does not start with a key frame`,
        offset,
        index,
      )
    }
    // KVS compares the fragment's first frame with the previous fragment's last one. Frames after the first
    // may be earlier (audio a muxer interleaved after the key frame): only the first one is checked.
    if (fragment.blockCount > 0 && this.#firstTime <= this.#previousMaxTime) {
      this.#violation(
        out,
        'timecode-not-increasing',
        4004,
        `fragment ${index} starts at ${this.#firstTime} ms, not after the previous fragment's last frame at ${this.#previousMaxTime} ms`,
        offset,
        index,
      )
    }
    if (fragment.durationMs > this.#maxDurationMs) {
      this.#violation(
        out,
        'duration-too-long',
        4002,
        `fragment ${index} lasts ${fragment.durationMs} ms, over the ${this.#maxDurationMs} ms limit`,
        offset,
        index,
      )
    }
    if (fragment.byteLength > this.#maxFragmentBytes) {
      this.#violation(
        out,
        'size-too-large',
        4001,
        `fragment ${index} is ${fragment.byteLength} bytes, over the ${this.#maxFragmentBytes} byte limit`,
        offset,
        index,
      )
    }
    for (const track of this.#undeclared) {
      this.#violation(
        out,
        'undeclared-track',
        4010,
        `fragment ${index} has frames of track ${track}, which Tracks does not declare`,
        offset,
        index,
      )
    }
    for (const track of this.#tracks) {
      if (!this.#present.has(track.number)) {
        this.#violation(
          out,
          'missing-track',
          4011,
          `fragment ${index} has no frame of declared track ${track.number}`,
          offset,
          index,
        )
      }
    }
  }

  /** Emits the header; `end` is where the Segment's header elements end (the first Cluster, or the input's end). */
  #emitHeader(out: ChunkerEvent[], end: number): void {
    this.#headerEmitted = true
    if (this.#segmentDataStart >= 0) {
      // As sent: the Segment's children before `end`, one range, whatever their ids.
      const start = this.#segmentDataStart
      this.#segmentDataStart = -1
      this.#checkHeaderBytes(this.#headerBytes + end - start, start)
      this.#segmentParts = [this.#store.copy(start, end).slice()]
    }
    if (this.#tracks.length > this.#maxTracks) {
      this.#violation(
        out,
        'too-many-tracks',
        4012,
        `${this.#tracks.length} tracks, over the limit of ${this.#maxTracks}`,
        0,
      )
    }
    out.push({
      type: 'header',
      bytes: concatBytes([this.#ebmlHeader, SEGMENT_UNKNOWN_SIZE, ...this.#segmentParts]),
      timecodeScale: this.#timecodeScale,
      tracks: this.#tracks.map((track) => ({ ...track })),
    })
  }

  #addHeaderPart(bytes: Uint8Array, offset: number): void {
    this.#headerBytes += bytes.length
    this.#checkHeaderBytes(this.#headerBytes, offset)
    // Copy: the header outlives the chunks it came from.
    this.#segmentParts.push(bytes.slice())
  }

  #resetSegment(): void {
    this.#segmentParts = []
    this.#headerBytes = 0
    this.#headerEmitted = false
    this.#headerElementStart = -1
    this.#segmentDataStart = -1
    this.#timecodeScale = 1_000_000
    this.#tracks = []
    this.#trackTypes = new Map()
    this.#hasVideo = false
    this.#previousMaxTime = Number.NEGATIVE_INFINITY
  }

  #invalid(message: string, offset: number): void {
    throw new ChunkerError('ERR_KVS_CHUNKER_INVALID_MKV', message, { offset, errorId: 4006 })
  }

  #violation(
    out: ChunkerEvent[],
    kind: ViolationKind,
    errorId: number | undefined,
    message: string,
    offset: number,
    fragmentIndex?: number,
  ): void {
    const violation: Violation = { kind, errorId, message, fragmentIndex, offset }
    if (this.#onViolation === 'throw') {
      throw new ChunkerError('ERR_KVS_CHUNKER_VIOLATION', message, { offset, violation })
    }
    out.push({ type: 'violation', violation })
  }

  /**
   * Releases chunks no longer needed and enforces the memory bounds. The bounds count the bytes read of the
   * open header element or fragment, not the chunks retained, so that whether they trip does not depend on
   * how the input is chunked (a chunk that also holds earlier bytes is the caller's memory anyway); the
   * same limits are checked again when the element or fragment completes.
   */
  #release(): void {
    const inFragment = this.#phase === Phase.Cluster || this.#phase === Phase.AfterCluster
    let keep: number
    if (inFragment) keep = this.#clusterOffset
    else if (this.#segmentDataStart >= 0) keep = this.#segmentDataStart
    else if (this.#headerElementStart >= 0) keep = this.#headerElementStart
    else keep = this.#reader.offset
    this.#store.release(keep)
    this.#checkBounds()
  }

  /** Checks the open fragment or header element, as read so far, against the memory bounds. */
  #checkBounds(): void {
    if (this.#phase === Phase.Cluster || this.#phase === Phase.AfterCluster) {
      this.#checkFragmentBytes(this.#openFragmentBytes())
    } else if (this.#segmentDataStart >= 0) {
      this.#checkHeaderBytes(
        this.#headerBytes + this.#reader.offset - this.#segmentDataStart,
        this.#segmentDataStart,
      )
    } else if (this.#headerElementStart >= 0) {
      this.#checkHeaderBytes(
        this.#headerBytes + this.#reader.offset - this.#headerElementStart,
        this.#headerElementStart,
      )
    }
  }

  /** Bytes of the open fragment read so far: the Cluster, and the Tags after it. */
  #openFragmentBytes(): number {
    if (this.#phase === Phase.Cluster) return this.#reader.offset - this.#clusterOffset
    const ranges = this.#ranges
    let bytes = 0
    for (let i = 0; i < ranges.length; i += 2) bytes += ranges[i + 1]! - ranges[i]!
    if (this.#tagsStart >= 0) bytes += this.#reader.offset - this.#tagsStart
    return bytes
  }

  #checkFragmentBytes(bytes: number): void {
    if (bytes > this.#maxBufferedBytes) {
      throw new ChunkerError(
        'ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE',
        `a fragment exceeds maxBufferedBytes (${this.#maxBufferedBytes})`,
        { offset: this.#clusterOffset, errorId: 4001 },
      )
    }
  }

  #checkHeaderBytes(bytes: number, offset: number): void {
    if (bytes > this.#maxHeaderBytes) {
      throw new ChunkerError(
        'ERR_KVS_CHUNKER_HEADER_TOO_LARGE',
        `header over ${this.#maxHeaderBytes} bytes`,
        {
          offset,
        },
      )
    }
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  return value === undefined
    ? fallback
    : numberOption(name, value, 'a positive number', { above: 0, infinity: true })
}
