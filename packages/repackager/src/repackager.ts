import type { TrackInfo, ViolationKind } from '@kvs-streams/chunker'
import { concatBytes, settledPush } from '@kvs-streams/core'
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
import { RepackagerError } from './errors.ts'
import type {
  FragmentChanges,
  FrameRef,
  RepackagedFragmentEvent,
  RepackagerEvent,
  RepackagerViolation,
} from './events.ts'
import {
  type RepackagerOptions,
  type ResolvedRepackagerOptions,
  resolveRepackagerOptions,
} from './options.ts'
import { emptyStats, type RepackagerStats } from './stats.ts'
import { ViewStore } from './view-store.ts'

/** An incremental repackager: MKV bytes in, KVS-ready header, fragment and violation events out. */
export interface Repackager {
  /**
   * Consumes a chunk. The chunk is kept (not copied) until the fragments its frames belong to are emitted,
   * so the caller must not reuse its memory. Fails with `RepackagerError`/`EbmlError`: when the chunk
   * completed events before the problem, they are returned and the error is thrown by the next call
   * (`push()` or `end()`); otherwise it is thrown at once. After an error every call throws it again.
   */
  push(chunk: Uint8Array): RepackagerEvent[]
  /**
   * Ends the input: emits the fragments still held. When the input stops inside an element, the complete
   * frames read before are still returned and the EBML truncation error is thrown by the next call.
   */
  end(): RepackagerEvent[]
  /** Bytes of input held for fragments not yet emitted. */
  readonly bufferedBytes: number
  /** What was changed so far (a copy). */
  readonly stats: RepackagerStats
}

/**
 * Creates a repackager: Matroska in, KVS-ready fragments out, in the chunker's event shape. Fragments start
 * at video key frames and last about `fragmentDurationMs` (an input whose Clusters already start at key
 * frames keeps them), frames the input muxer put on the wrong side of a fragment boundary move to the
 * fragment their time belongs to, and block timecodes are rewritten relative to each new Cluster so no
 * frame's time changes (unless `rebaseTimecodes` continues a restarted source). Frame payloads are never
 * copied: a rewritten fragment's `parts` are small new headers around views of the input chunks.
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-10
 */
export function createRepackager(options: RepackagerOptions = {}): Repackager {
  return new Core(resolveRepackagerOptions(options))
}

/** Segment id, then the 8-byte unknown size: a session carries only part of the Segment. */
const SEGMENT_UNKNOWN_SIZE = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, ...new Array<number>(7).fill(0xff))
const CLUSTER_ID = Uint8Array.of(0x1f, 0x43, 0xb6, 0x75)
const NO_CHUNK = new Uint8Array(0)
/** Largest and smallest relative block timecode (a signed 16-bit integer). */
const MAX_RELATIVE = 32_767
const MIN_RELATIVE = -32_768
/**
 * A key frame starts a new fragment once the open one spans this many timecode units, so that every block
 * timecode stays within the int16 range (with a millisecond TimecodeScale the target duration comes first).
 */
const OVERFLOW_SPAN = 24_576

/**
 * The two bytes of each relative block timecode, made once per value and shared by every fragment (the
 * parts of a rewritten fragment are read-only): a rewritten frame then costs one new view, of its payload.
 */
const timecodeBytes: (Uint8Array | undefined)[] = new Array(65_536)

function relativeTimecodeBytes(relative: number): Uint8Array {
  const slot = relative + 32_768
  let bytes = timecodeBytes[slot]
  if (bytes === undefined) {
    bytes = Uint8Array.of((relative >> 8) & 0xff, relative & 0xff)
    timecodeBytes[slot] = bytes
  }
  return bytes
}

// Blocks are skipped by the reader: their few header bytes are read where they lie (#readBlock), and the
// payloads are handed out as views of the input chunks. BlockAdditions and Void are never needed.
const skipped = new Set<number>([
  ElementId.SimpleBlock,
  ElementId.Block,
  ElementId.BlockAdditions,
  ElementId.Void,
])
const dataMode = (id: number): DataMode => (skipped.has(id) ? 'skip' : 'data')

/** The prefix of the tags the service writes into GetMedia output (and refuses in PutMedia: 4009). */
const SERVICE_TAG_PREFIX = 'AWS_KINESISVIDEO_'

/**
 * A Cluster's id, its size (8-byte field, as the KVS producer SDKs write it) for a Timecode element and
 * `framesSize` bytes of blocks, and the Timecode element (1 to 8 bytes of value): written directly, since
 * one is made per fragment.
 */
function clusterHead(timecode: number, framesSize: number): Uint8Array {
  let valueLength = 1
  while (valueLength < 8 && timecode >= 2 ** (8 * valueLength)) valueLength++
  const head = new Uint8Array(4 + 8 + 2 + valueLength)
  head.set(CLUSTER_ID, 0)
  let size = 2 + valueLength + framesSize
  head[4] = 0x01
  for (let i = 11; i >= 5; i--) {
    head[i] = size % 256
    size = Math.floor(size / 256)
  }
  head[12] = 0xe7 // Timecode
  head[13] = 0x80 | valueLength
  let value = timecode
  for (let i = 13 + valueLength; i >= 14; i--) {
    head[i] = value % 256
    value = Math.floor(value / 256)
  }
  return head
}

/** Leaf decoders (readUint, …) throw without knowing where the bytes were: this adds the element's place. */
function located(error: unknown, event: EbmlEvent): unknown {
  if (!EbmlError.is(error) || error.offset !== -1) return error
  return new EbmlError(error.code, error.message, { offset: event.offset, elementId: event.id, cause: error })
}

/** Where the repackager is in the structure of the current document. */
enum Phase {
  /** Before the first EBML header. */
  Start,
  /** Inside the Segment before its first Cluster: level-1 elements join the header. */
  Header,
  /** After the first Cluster: Clusters are read, Tags right after one join its fragment. */
  Clusters,
  /** Between documents (after a Segment ended). */
  Between,
}

/** One Cluster of the input. */
interface SourceCluster {
  /** Absolute offset of the Cluster element. */
  start: number
  /** Absolute offset one past its end; -1 while it is being read. */
  end: number
  /** Its Timecode; -1 until read. */
  timecode: number
  /** Blocks read in it, dropped ones included. */
  frames: number
  /** `seq` of its first frame; -1 before it has one. */
  firstSeq: number
  /** Whether a frame of the cut track has been read in it (its first one decides whether it starts at a key frame). */
  hasCutFrame: boolean
}

/** What the repackager knows and tracks about one track number of the current document. */
interface TrackState {
  number: number
  /** TrackType from Tracks, or -1 for a track that Tracks does not declare. */
  type: number
  /** DefaultDuration in TimecodeScale units, 0 when not declared. */
  defaultDuration: number
  /** Latest raw time in the current epoch (-Infinity before its first frame): it "has passed" earlier times. */
  max: number
  /** Index of the fragment being emitted when it last had a frame there, for the fragment's track list. */
  seenIn: number
  /** Number of the #take call that saw it reach the next fragment's start: its later frames go there too. */
  passedIn: number
}

/** One SimpleBlock or BlockGroup, held until its fragment is emitted. */
interface Frame {
  /** Position in the input among all frames: frames are compared in input order by it. */
  seq: number
  /** Its track. */
  state: TrackState
  /** Time as the input has it (Cluster Timecode + relative timecode), TimecodeScale units. */
  raw: number
  /** Duration in TimecodeScale units (BlockDuration or the track's DefaultDuration), 0 when unknown. */
  duration: number
  /** The key-frame flag as the chunker reads it (SimpleBlock flag, or a BlockGroup without ReferenceBlock). */
  key: boolean
  /** Whether it belongs to the track whose key frames start fragments. */
  cut: boolean
  /** Absolute offsets of the element (SimpleBlock or BlockGroup) and of its two relative-timecode bytes. */
  start: number
  end: number
  timecodeAt: number
  cluster: SourceCluster
}

/** A fragment being assembled: opened by a key frame of the cut track. */
interface Fragment {
  key: Frame
  /**
   * Earliest time of the cut track's frames from the key frame on (raw units): frames of other tracks
   * earlier than it belong to the fragment before. Lowered by open-GOP leading frames.
   */
  start: number
  /** Whether the key frame is not the first cut-track frame of its Cluster. */
  split: boolean
  /**
   * Where the input puts the fragment's start (a frame `seq`): its Cluster's first frame when the fragment
   * starts with its Cluster, else the key frame. Frames on the other side of it are counted as moved.
   */
  boundary: number
  /** Input Clusters whose first cut-track frame fell inside this fragment without starting one. */
  merged: number
  /** Whether it is the first fragment since the source's clock (re)started: nothing before it moves into it. */
  firstOfEpoch: boolean
  /** Byte ranges of level-1 Tags elements that follow its Clusters, as [start, end) pairs. */
  tags: number[]
}

class Core implements Repackager {
  readonly #options: ResolvedRepackagerOptions
  readonly #reader: EbmlReader
  /** Input chunks from the earliest byte still needed on. */
  readonly #store = new ViewStore()
  readonly #stats = emptyStats()

  // Document structure (as in the chunker).
  #phase = Phase.Start
  /** Inside the EBML header element. */
  #inEbmlHeader = false
  #ebmlHeaderStart = -1
  /** Segments seen. */
  #segments = 0
  /** An EBML header was read and its Segment has not started yet. */
  #awaitingSegment = false
  /** Copy of the document's EBML header element. */
  #ebmlHeader: Uint8Array = new Uint8Array(0)
  /** Copies of the level-1 header elements (Info, Tracks, …) of the current Segment. */
  #segmentParts: Uint8Array[] = []
  #headerBytes = 0
  /** Whether the current document's header was emitted or merged into the session's. */
  #headerDone = false
  /** Absolute offset of the level-1 header element being read, or -1. */
  #headerElementStart = -1
  #timecodeScale = 1_000_000
  #tracks: TrackInfo[] = []
  /** Track number → its state, for the declared tracks and any other track a block names. */
  #trackStates = new Map<number, TrackState>()
  /** The state looked up last: blocks mostly alternate between two tracks. */
  #lastState: TrackState | undefined
  #previousState: TrackState | undefined
  /** The TrackEntry being read. */
  #entry: TrackInfo | undefined
  /** The track whose key frames start fragments (the first video track, else the first track); -1 until known. */
  #cutTrack = -1
  /** Whether the cut track is video: only then do its frames need the key-frame flag to start a fragment. */
  #cutIsVideo = false
  #hasVideo = false
  /** `gapMs` in TimecodeScale units. */
  #gapUnits = Number.POSITIVE_INFINITY
  /** Timecode scale and tracks of the header sent last: a later document with the same ones continues it. */
  #sessionScale = 0
  #sessionTracks: TrackInfo[] | undefined

  // Clusters being read.
  /** The Cluster being read, or undefined. */
  #cluster: SourceCluster | undefined
  /** After a Cluster, before any other level-1 element than Tags, Void or CRC-32: Tags join the fragment. */
  #afterCluster = false
  /** Offset of the level-1 Tags element being read after a Cluster, or -1. */
  #tagsStart = -1
  /** The BlockGroup being read: its start, its Block's fields, duration, and whether it references a frame. */
  #groupStart = -1
  #groupTrack = -1
  #groupRelative = 0
  #groupTimecodeAt = 0
  #groupDuration = -1
  #groupReferences = false
  /** The chunk being pushed and its stream offset: block headers inside it are read in place. */
  #chunk: Uint8Array = NO_CHUNK
  #chunkStart = 0
  /** The block header read last by #readBlock. */
  readonly #block: BlockHeaderFields = { track: 0, timecode: 0, flags: 0 }

  // Frames and fragments.
  /** Frames not yet emitted, in input order. */
  #frames: Frame[] = []
  /** Frames of emitted fragments, reused for the next ones (a fragment's worth at most). */
  #spare: Frame[] = []
  #seq = 0
  /** Calls of #take so far: marks which tracks reached the next fragment during one call. */
  #takes = 0
  /** What #measure found about the fragment being emitted. */
  readonly #measured = {
    minRaw: 0,
    maxRaw: 0,
    maxEndRaw: 0,
    moved: 0,
    keyframe: false,
    present: [] as TrackState[],
    size: 0,
  }
  /** The fragment before `#current`, held until no frame that belongs to it can still come. */
  #pending: Fragment | undefined
  /** The fragment being filled. */
  #current: Fragment | undefined
  /** Tags read before the epoch's first fragment opened: they join it. */
  #looseTags: number[] = []
  /** Tracks with a frame in the current epoch: each must pass a fragment's start before the one before goes out. */
  #epochTracks: TrackState[] = []
  /** Latest raw time of the cut track in the epoch: a key frame at or before it means the clock restarted. */
  #cutTrackMax = Number.NEGATIVE_INFINITY
  /** Latest raw time of any frame in the epoch, for gap detection. */
  #latestRaw = Number.NEGATIVE_INFINITY
  /** A gap was seen: the next key frame starts a fragment. */
  #gapPending = false
  /** Units added to the current epoch's raw times when sent; undefined until its first fragment decides it. */
  #delta: number | undefined = 0
  /** Whether a fragment was opened since the source's clock (re)started. */
  #epochOpened = false

  // What was sent.
  #fragmentIndex = 0
  /** Latest frame time of the previous fragment, as sent: the next one's frames must all come after it (4004). */
  #previousMax = Number.NEGATIVE_INFINITY
  /** Where a restarted source continues with `rebaseTimecodes`: after every frame sent (time + duration). */
  #continueAt = Number.NEGATIVE_INFINITY

  /** The events of the call in progress. */
  #out: RepackagerEvent[] = []
  /** The first error thrown: every later call throws it again. */
  #failed: unknown
  #hasFailed = false

  constructor(options: ResolvedRepackagerOptions) {
    this.#options = options
    this.#reader = createEbmlReader({ dataMode, maxElementBytes: options.maxHeaderBytes })
  }

  get bufferedBytes(): number {
    return this.#store.retainedBytes
  }

  get stats(): RepackagerStats {
    return { ...this.#stats }
  }

  push(chunk: Uint8Array): RepackagerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: RepackagerEvent[] = []
    this.#out = out
    this.#chunkStart = this.#store.end
    this.#chunk = chunk
    this.#store.append(chunk)
    try {
      // A failure the reader holds back for its next call is surfaced now, with the chunk that held the broken
      // bytes.
      const { events, failed, error } = settledPush(this.#reader, chunk)
      if (failed) {
        for (const event of events) this.#handle(event)
        if (EbmlError.is(error)) {
          this.#checkBounds()
          // The input broke: the complete frames read before still go out.
          this.#flush(Number.POSITIVE_INFINITY)
        }
        throw error
      }
      for (const event of events) this.#handle(event)
      this.#store.release(this.#checkBounds())
    } catch (error) {
      return this.#fail(error, out)
    } finally {
      this.#chunk = NO_CHUNK
    }
    return out
  }

  end(): RepackagerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: RepackagerEvent[] = []
    this.#out = out
    try {
      let events: EbmlEvent[]
      try {
        events = this.#reader.end()
      } catch (error) {
        this.#flush(Number.POSITIVE_INFINITY)
        throw error
      }
      for (const event of events) this.#handle(event)
      this.#flush(Number.POSITIVE_INFINITY)
      if (this.#segments > 0 && !this.#headerDone) this.#documentHeader(this.#reader.offset)
    } catch (error) {
      return this.#fail(error, out)
    }
    return out
  }

  /**
   * Records the first error (every later call throws it) and returns the events completed before it, for
   * the failing call to return (the error then comes from the next call); with none, throws it at once.
   */
  #fail(error: unknown, out: RepackagerEvent[]): RepackagerEvent[] {
    this.#hasFailed = true
    this.#failed = error
    if (out.length === 0) throw error
    return out
  }

  // ---------------------------------------------------------------------------------------------------
  // Structure

  /** Offset of the level-1 Tags element being read, or -1 (for `stripServiceTags`). */
  #tagsAt = -1
  /** Whether every top-level SimpleTag of that Tags element so far is the service's. */
  #serviceTagsOnly = false

  /** Whether the level-1 Tags element ending at `offset` is left out (`stripServiceTags`). */
  #dropsTags(offset: number): boolean {
    const drop = this.#options.stripServiceTags && this.#tagsAt === offset && this.#serviceTagsOnly
    this.#tagsAt = -1
    return drop
  }

  #handle(event: EbmlEvent): void {
    if (this.#inEbmlHeader) {
      if (event.type === 'element-end' && event.depth === 0) {
        this.#inEbmlHeader = false
        this.#checkHeaderBytes(event.end - event.offset, event.offset)
        this.#ebmlHeader = this.#store.copy(event.offset, event.end).slice()
        this.#ebmlHeaderStart = -1
      }
      return
    }
    if (event.depth === 0) this.#handleRoot(event)
    else if (event.depth === 1) {
      if (event.type === 'element-start' && event.id === ElementId.Tags) {
        this.#tagsAt = event.offset
        this.#serviceTagsOnly = true
      }
      this.#handleLevel1(event)
      if (event.type === 'element-end' && event.id === ElementId.Tags) this.#tagsAt = -1
    } else if (this.#tagsAt >= 0) {
      // Tags > Tag > SimpleTag > TagName: a top-level SimpleTag's name (nested SimpleTags go with their parent).
      if (event.type === 'element' && event.id === ElementId.TagName && event.depth === 4) {
        if (!readString(event.data).startsWith(SERVICE_TAG_PREFIX)) this.#serviceTagsOnly = false
      }
    } else if (this.#cluster !== undefined) {
      try {
        this.#handleInCluster(event)
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

  #handleRoot(event: EbmlEvent): void {
    if (event.type === 'element-start' && event.id === ElementId.EBML) {
      if (this.#segments > 0) this.#newDocument()
      this.#awaitingSegment = true
      this.#inEbmlHeader = true
      this.#ebmlHeaderStart = event.offset
      if (this.#phase === Phase.Start) this.#phase = Phase.Between
      return
    }
    if (event.type === 'element-start' && event.id === ElementId.Segment) {
      if (this.#ebmlHeader.length === 0) {
        throw new RepackagerError('ERR_KVS_REPACKAGER_NOT_MKV', 'Segment without an EBML header', {
          offset: event.offset,
          errorId: 4006,
        })
      }
      // A second Segment after the same EBML header: a new document all the same.
      if (this.#segments > 0 && !this.#awaitingSegment) this.#newDocument()
      this.#awaitingSegment = false
      this.#segments++
      this.#phase = Phase.Header
      this.#resetDocument()
      return
    }
    if (event.type === 'element-end' && event.id === ElementId.Segment) {
      if (!this.#headerDone) this.#documentHeader(event.end)
      this.#phase = Phase.Between
      this.#afterCluster = false
      return
    }
    if (this.#phase === Phase.Start) {
      throw new RepackagerError('ERR_KVS_REPACKAGER_NOT_MKV', 'input does not start with an EBML header', {
        offset: event.offset,
        errorId: 4006,
      })
    }
  }

  #handleLevel1(event: EbmlEvent): void {
    const phase = this.#phase
    if (event.type === 'element-start') {
      if (event.id === ElementId.Cluster) {
        if (!this.#headerDone) this.#documentHeader(event.offset)
        this.#phase = Phase.Clusters
        this.#afterCluster = false
        this.#stats.sourceClusters++
        this.#cluster = {
          start: event.offset,
          end: -1,
          timecode: -1,
          frames: 0,
          firstSeq: -1,
          hasCutFrame: false,
        }
        return
      }
      if (phase === Phase.Clusters) {
        if (event.id === ElementId.Tags && this.#afterCluster) this.#tagsStart = event.offset
        else this.#afterCluster = false
        return
      }
      if (phase === Phase.Header && event.id !== ElementId.SeekHead) this.#headerElementStart = event.offset
      return
    }
    if (event.type === 'element-end') {
      if (event.id === ElementId.Cluster && this.#cluster !== undefined) {
        const cluster = this.#cluster
        cluster.end = event.end
        this.#cluster = undefined
        this.#afterCluster = true
        if (cluster.frames === 0) {
          this.#stats.emptyClusters++
          this.#stats.changed = true
        }
      } else if (phase === Phase.Clusters && this.#tagsStart === event.offset) {
        this.#tagsStart = -1
        if (this.#dropsTags(event.offset)) return
        const fragment = this.#current
        if (fragment !== undefined) fragment.tags.push(event.offset, event.end)
        else this.#looseTags.push(event.offset, event.end)
      } else if (phase === Phase.Header && this.#headerElementStart === event.offset) {
        if (event.id === ElementId.Tags && this.#dropsTags(event.offset)) {
          this.#headerElementStart = -1
          return
        }
        const bytes = this.#store.copy(event.offset, event.end)
        this.#headerBytes += bytes.length
        this.#checkHeaderBytes(this.#headerBytes, event.offset)
        // Copy: the header outlives the chunks it came from.
        this.#segmentParts.push(bytes.slice())
        this.#headerElementStart = -1
      }
      return
    }
    // A level-1 leaf: Void and CRC-32 are padding; anything else ends what follows a Cluster.
    if (event.id !== ElementId.Void && event.id !== ElementId.CRC32) this.#afterCluster = false
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
    if (track.type === 1) this.#hasVideo = true
  }

  #handleInCluster(event: EbmlEvent): void {
    const cluster = this.#cluster!
    if (event.type === 'element') {
      const id = event.id
      if (id === ElementId.SimpleBlock && event.depth === 2) {
        const headerSize = this.#readBlock(event)
        if (headerSize === 0) this.#invalid('SimpleBlock shorter than its header', event.offset)
        const block = this.#block
        const payload = event.offset + event.headerSize
        this.#frame(
          block.track,
          block.timecode,
          (block.flags & 0x80) !== 0,
          -1,
          event.offset,
          payload + event.size,
          payload + headerSize - 3,
        )
      } else if (id === ElementId.Timecode && event.depth === 2) {
        cluster.timecode = readUint(event.data)
      } else if (id === ElementId.Block && event.depth === 3 && this.#groupStart >= 0) {
        const headerSize = this.#readBlock(event)
        if (headerSize === 0) this.#invalid('Block shorter than its header', event.offset)
        this.#groupTrack = this.#block.track
        this.#groupRelative = this.#block.timecode
        this.#groupTimecodeAt = event.offset + event.headerSize + headerSize - 3
      } else if (id === ElementId.BlockDuration && event.depth === 3) {
        this.#groupDuration = readUint(event.data)
      } else if (id === ElementId.ReferenceBlock && event.depth === 3) {
        this.#groupReferences = true
        readInt(event.data)
      }
      return
    }
    if (event.id !== ElementId.BlockGroup || event.depth !== 2) return
    if (event.type === 'element-start') {
      if (event.size === undefined) this.#invalid('BlockGroup with the unknown size', event.offset)
      this.#groupStart = event.offset
      this.#groupTrack = -1
      this.#groupDuration = -1
      this.#groupReferences = false
      return
    }
    const start = this.#groupStart
    this.#groupStart = -1
    if (this.#groupTrack >= 0) {
      this.#frame(
        this.#groupTrack,
        this.#groupRelative,
        !this.#groupReferences,
        this.#groupDuration,
        start,
        event.end,
        this.#groupTimecodeAt,
      )
    }
  }

  /**
   * Reads the header of a (Simple)Block payload in place: from the chunk being pushed, or from the store when
   * it began in an earlier chunk (every byte of a frame not yet emitted is kept). Fills #block; returns the
   * header's size, 0 when the payload is shorter than it.
   */
  #readBlock(event: EbmlElement): number {
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
    return headerSize
  }

  /** The header of the current document: emitted, or merged into the session's (see `rebaseTimecodes`). */
  #documentHeader(end: number): void {
    this.#headerDone = true
    this.#chooseCutTrack()
    const first = this.#sessionTracks === undefined
    if (!first && this.#options.rebaseTimecodes && this.#sameTracks()) {
      this.#stats.documentsJoined++
      this.#stats.changed = true
      return
    }
    if (!first) {
      this.#violation('second-segment', 4006, 'a second EBML document in one PutMedia stream', end, undefined)
      // Without rebasing, a new document is a new session: its timecodes need not follow the old ones'.
      if (!this.#options.rebaseTimecodes) this.#previousMax = Number.NEGATIVE_INFINITY
    }
    if (this.#tracks.length > this.#options.maxTracks) {
      this.#violation(
        'too-many-tracks',
        4012,
        `${this.#tracks.length} tracks, over the limit of ${this.#options.maxTracks}`,
        0,
        undefined,
      )
    }
    this.#sessionScale = this.#timecodeScale
    this.#sessionTracks = this.#tracks
    this.#out.push({
      type: 'header',
      bytes: concatBytes([this.#ebmlHeader, SEGMENT_UNKNOWN_SIZE, ...this.#segmentParts]),
      timecodeScale: this.#timecodeScale,
      tracks: this.#tracks.map((track) => ({ ...track })),
    })
  }

  #chooseCutTrack(): void {
    const video = this.#tracks.find((track) => track.type === 1)
    const cut = video ?? this.#tracks[0]
    this.#cutTrack = cut?.number ?? -1
    this.#cutIsVideo = video !== undefined
    const units = this.#timecodeScale
    this.#gapUnits = this.#options.gapMs / this.#msPerUnit
    for (const track of this.#tracks) {
      if (this.#trackStates.has(track.number)) continue
      this.#trackStates.set(track.number, {
        number: track.number,
        type: track.type,
        defaultDuration: track.defaultDurationNs === undefined ? 0 : track.defaultDurationNs / units,
        max: Number.NEGATIVE_INFINITY,
        seenIn: -1,
        passedIn: -1,
      })
    }
  }

  /** Whether the current document declares the same tracks, at the same TimecodeScale, as the session header. */
  #sameTracks(): boolean {
    const tracks = this.#sessionTracks!
    if (this.#timecodeScale !== this.#sessionScale || tracks.length !== this.#tracks.length) return false
    return tracks.every((track, i) => sameTrack(track, this.#tracks[i]!))
  }

  /** A new EBML document or Segment starts: everything of the previous one goes out first. */
  #newDocument(): void {
    this.#cluster = undefined
    this.#flush(Number.POSITIVE_INFINITY)
    this.#startEpoch()
    this.#phase = Phase.Between
    this.#afterCluster = false
  }

  #resetDocument(): void {
    this.#segmentParts = []
    this.#headerBytes = 0
    this.#headerDone = false
    this.#headerElementStart = -1
    this.#timecodeScale = 1_000_000
    this.#tracks = []
    this.#trackStates = new Map()
    this.#lastState = undefined
    this.#previousState = undefined
    this.#hasVideo = false
    this.#cutTrack = -1
    this.#cutIsVideo = false
  }

  /** The source's clock (re)starts: what the frames still held say about the epoch is recomputed. */
  #startEpoch(): void {
    this.#delta = undefined
    this.#epochOpened = false
    for (const state of this.#epochTracks) state.max = Number.NEGATIVE_INFINITY
    this.#epochTracks = []
    this.#cutTrackMax = Number.NEGATIVE_INFINITY
    this.#latestRaw = Number.NEGATIVE_INFINITY
    this.#gapPending = false
    for (const frame of this.#frames) this.#note(frame)
  }

  // ---------------------------------------------------------------------------------------------------
  // Frames

  /** One frame read: placed, and fragments cut and emitted as it allows. */
  #frame(
    track: number,
    relative: number,
    flagKey: boolean,
    durationUnits: number,
    start: number,
    end: number,
    timecodeAt: number,
  ): void {
    const cluster = this.#cluster!
    if (cluster.timecode < 0) this.#invalid('a block before the Cluster Timecode', start)
    if (this.#cutTrack < 0) {
      // No track declared: the first track seen leads.
      this.#cutTrack = track
      this.#cutIsVideo = false
    }
    const raw = cluster.timecode + relative
    const cut = track === this.#cutTrack
    const seq = this.#seq++
    cluster.frames++
    if (cluster.firstSeq < 0) cluster.firstSeq = seq
    let firstCutInCluster = false
    if (cut) {
      firstCutInCluster = !cluster.hasCutFrame
      cluster.hasCutFrame = true
    }
    // Only video frames depend on others: any frame of an audio (or other) cut track can open a fragment.
    const opens = cut && (flagKey || !this.#cutIsVideo)
    if (opens && raw <= this.#cutTrackMax) {
      // The cut track's clock went back: the source restarted. What came before goes out on the old clock;
      // the restart begins with this Cluster when the key frame is its first cut-track frame.
      this.#flush(firstCutInCluster ? cluster.firstSeq : seq)
      this.#startEpoch()
    }
    const latest = this.#latestRaw
    if (latest > Number.NEGATIVE_INFINITY && raw > latest + this.#gapUnits) {
      this.#gapPending = true
    }
    if (cut && !opens && this.#current === undefined) {
      // Nothing can decode a video frame before the first key frame.
      this.#stats.framesDropped++
      this.#stats.changed = true
      return
    }
    const state = this.#state(track)
    const duration = durationUnits >= 0 ? durationUnits : state.defaultDuration
    let frame = this.#spare.pop()
    if (frame === undefined) {
      frame = { seq, state, raw, duration, key: flagKey, cut, start, end, timecodeAt, cluster }
    } else {
      frame.seq = seq
      frame.state = state
      frame.raw = raw
      frame.duration = duration
      frame.key = flagKey
      frame.cut = cut
      frame.start = start
      frame.end = end
      frame.timecodeAt = timecodeAt
      frame.cluster = cluster
    }
    this.#frames.push(frame)
    this.#note(frame)
    const current = this.#current
    if (cut) {
      if (opens && this.#opensFragment(raw, firstCutInCluster)) this.#open(frame, firstCutInCluster)
      else if (current !== undefined) {
        if (firstCutInCluster) current.merged++
        // An open-GOP leading frame: shown before the key frame, so the fragment starts earlier.
        if (this.#pending !== undefined && raw < current.start) current.start = raw
      }
    } else if (current === undefined) {
      this.#trimBeforeFirstKey(raw)
    }
    if (this.#pending !== undefined && this.#allTracksPassed(this.#current!.start)) {
      this.#sealPending(Number.POSITIVE_INFINITY)
    }
  }

  /** The state of track `number`, made for a track Tracks does not declare. */
  #state(number: number): TrackState {
    const last = this.#lastState
    if (last !== undefined && last.number === number) return last
    const previous = this.#previousState
    let state: TrackState | undefined
    if (previous !== undefined && previous.number === number) state = previous
    else {
      state = this.#trackStates.get(number)
      if (state === undefined) {
        state = {
          number,
          type: -1,
          defaultDuration: 0,
          max: Number.NEGATIVE_INFINITY,
          seenIn: -1,
          passedIn: -1,
        }
        this.#trackStates.set(number, state)
      }
    }
    this.#previousState = last
    this.#lastState = state
    return state
  }

  /** Records a frame's time in the epoch's per-track clocks. */
  #note(frame: Frame): void {
    const state = frame.state
    if (state.max === Number.NEGATIVE_INFINITY) this.#epochTracks.push(state)
    if (frame.raw > state.max) state.max = frame.raw
    if (frame.cut && frame.raw > this.#cutTrackMax) this.#cutTrackMax = frame.raw
    if (frame.raw > this.#latestRaw) this.#latestRaw = frame.raw
  }

  get #msPerUnit(): number {
    return this.#timecodeScale / 1_000_000
  }

  /** Whether a key frame at `raw` starts a new fragment. */
  #opensFragment(raw: number, firstCutInCluster: boolean): boolean {
    const current = this.#current
    if (current === undefined || this.#gapPending) return true
    const span = raw - current.start
    if (span >= OVERFLOW_SPAN) return true
    if (this.#options.keepSourceClusters && firstCutInCluster) return true
    return span * this.#msPerUnit >= this.#options.fragmentDurationMs
  }

  /** Opens a fragment at key frame `key`; the one before waits for its late frames, the one before that goes. */
  #open(key: Frame, firstCutInCluster: boolean): void {
    if (this.#pending !== undefined) this.#sealPending(Number.POSITIVE_INFINITY)
    const first = this.#current === undefined
    this.#pending = this.#current
    this.#current = {
      key,
      start: key.raw,
      // Only a fragment that follows another in the same epoch can have split an input Cluster.
      split: !firstCutInCluster && this.#epochOpened,
      boundary: firstCutInCluster ? key.cluster.firstSeq : key.seq,
      merged: 0,
      firstOfEpoch: !this.#epochOpened,
      tags: first ? this.#looseTags : [],
    }
    this.#epochOpened = true
    if (first) this.#looseTags = []
    this.#gapPending = false
  }

  /** Before the epoch's first key frame, frames of other tracks are kept for at most the longest fragment. */
  #trimBeforeFirstKey(latest: number): void {
    const limit = this.#options.maxFragmentDurationMs / this.#msPerUnit
    let drop = 0
    while (drop < this.#frames.length && latest - this.#frames[drop]!.raw > limit) drop++
    if (drop === 0) return
    this.#frames = this.#frames.slice(drop)
    this.#stats.framesDropped += drop
    this.#stats.changed = true
  }

  /** Whether every track of the epoch has reached `time` (raw units): nothing earlier can come any more. */
  #allTracksPassed(time: number): boolean {
    for (const state of this.#epochTracks) if (state.max < time) return false
    return true
  }

  /**
   * Emits the pending fragment: every frame of it has come (or the next fragment is opening, or the input
   * ends). Frames from `limit` on are not considered.
   */
  #sealPending(limit: number): void {
    const pending = this.#pending!
    const current = this.#current!
    this.#pending = undefined
    const index = this.#fragmentIndex++
    const frames = this.#take(pending, current.key.seq, current.start, limit, index, current.boundary)
    this.#emit(pending, frames, index)
  }

  /**
   * Emits every fragment whose frames come before the frame numbered `limit` (all of them for Infinity):
   * the input ended or broke, or a new document or clock starts there.
   */
  #flush(limit: number): void {
    if (this.#pending !== undefined) this.#sealPending(limit)
    const current = this.#current
    this.#current = undefined
    if (current !== undefined) {
      const index = this.#fragmentIndex++
      const frames = this.#take(
        current,
        limit,
        Number.POSITIVE_INFINITY,
        limit,
        index,
        Number.POSITIVE_INFINITY,
      )
      this.#emit(current, frames, index)
    } else {
      // Frames before any key frame: no fragment can start with them.
      const kept = this.#frames.filter((frame) => frame.seq >= limit)
      const dropped = this.#frames.length - kept.length
      if (dropped > 0) {
        this.#stats.framesDropped += dropped
        this.#stats.changed = true
      }
      this.#frames = kept
    }
    this.#looseTags = []
  }

  /**
   * Takes out of the held frames those of `fragment` (its key frame first, the others in input order), which
   * ends where the fragment opened by frame `keySeq` starts (its raw time `nextStart`): cut-track frames
   * before that key frame, and frames of other tracks earlier than `nextStart`, until a track reaches it
   * (a track's frames keep their order). Frames from `limit` on always stay. Measures what it takes in the
   * same pass into `#measured`: earliest and latest time and end, frames moved across the fragment's
   * boundaries (`nextBoundary` is the next fragment's), its tracks (stamped with `index`), whether its first
   * video frame is a key frame, and the bytes of its blocks.
   */
  #take(
    fragment: Fragment,
    keySeq: number,
    nextStart: number,
    limit: number,
    index: number,
    nextBoundary: number,
  ): Frame[] {
    const key = fragment.key
    const taken: Frame[] = [key]
    // Frames that stay are moved to the front of the same array.
    const frames = this.#frames
    let kept = 0
    const stamp = ++this.#takes
    const boundary = fragment.firstOfEpoch ? Number.NEGATIVE_INFINITY : fragment.boundary
    const present: TrackState[] = [key.state]
    key.state.seenIn = index
    const hasVideo = this.#hasVideo
    let keyframe: boolean | undefined = !hasVideo || key.state.type === 1 ? key.key : undefined
    let minRaw = key.raw
    let maxRaw = key.raw
    let maxEndRaw = key.raw + key.duration
    let moved = key.seq >= nextBoundary ? 1 : 0
    let size = key.end - key.start
    const count = frames.length
    for (let i = 0; i < count; i++) {
      const frame = frames[i]!
      if (frame === key) continue
      if (frame.seq >= limit) {
        frames[kept++] = frame
        continue
      }
      if (frame.cut) {
        if (frame.seq >= keySeq) {
          frames[kept++] = frame
          continue
        }
      } else if (frame.raw >= nextStart || frame.state.passedIn === stamp) {
        frame.state.passedIn = stamp
        frames[kept++] = frame
        continue
      }
      taken.push(frame)
      const raw = frame.raw
      if (raw < minRaw) minRaw = raw
      if (raw > maxRaw) maxRaw = raw
      if (raw + frame.duration > maxEndRaw) maxEndRaw = raw + frame.duration
      if (frame.seq >= nextBoundary || frame.seq < boundary) moved++
      size += frame.end - frame.start
      const state = frame.state
      if (state.seenIn !== index) {
        state.seenIn = index
        present.push(state)
        if (keyframe === undefined && (!hasVideo || state.type === 1)) keyframe = frame.key
      }
    }
    frames.length = kept
    const measured = this.#measured
    measured.minRaw = minRaw
    measured.maxRaw = maxRaw
    measured.maxEndRaw = maxEndRaw
    measured.moved = moved
    measured.keyframe = keyframe ?? false
    measured.present = present
    measured.size = size
    return taken
  }

  // ---------------------------------------------------------------------------------------------------
  // Output

  /** Emits `fragment` numbered `index` with the frames #take gave (and measured into `#measured`). */
  #emit(fragment: Fragment, ordered: Frame[], index: number): void {
    const key = fragment.key
    const { minRaw, maxRaw, maxEndRaw, moved, keyframe, present } = this.#measured
    let delta = this.#delta
    if (delta === undefined) {
      delta = this.#decideDelta(minRaw)
      this.#delta = delta
    }
    const scale = this.#msPerUnit
    const maxTime = maxRaw + delta
    const maxEnd = maxEndRaw + delta
    const minTime = minRaw + delta
    // The first frame, in the order sent, at or before the previous fragment's last one (rarely any).
    let early: Frame | undefined
    if (minTime <= this.#previousMax) {
      const below = this.#previousMax - delta
      early = ordered.find((frame) => frame.raw <= below)
    }
    const cluster = key.cluster
    const passThrough =
      delta === 0 &&
      cluster.end >= 0 &&
      cluster.firstSeq === key.seq &&
      ordered.length === cluster.frames &&
      ordered.every((frame) => frame.cluster === cluster)
    let parts: Uint8Array[]
    let byteLength: number
    let timecode: number
    if (passThrough) {
      timecode = cluster.timecode
      parts = []
      this.#store.viewsInto(parts, cluster.start, cluster.end)
      byteLength = cluster.end - cluster.start
    } else {
      timecode = Math.max(0, minTime)
      parts = this.#writeCluster(ordered, delta, timecode, this.#measured.size)
      byteLength = parts[0]!.length + this.#measured.size
    }
    const tags = fragment.tags
    for (let i = 0; i < tags.length; i += 2) {
      this.#store.viewsInto(parts, tags[i]!, tags[i + 1]!)
      byteLength += tags[i + 1]! - tags[i]!
    }
    const changes: FragmentChanges = {
      rewritten: !passThrough,
      framesMoved: moved,
      split: fragment.split,
      mergedClusters: fragment.merged,
      rebasedMs: delta * scale,
    }
    const event: RepackagedFragmentEvent = {
      type: 'fragment',
      index,
      timecode,
      startMs: minTime * scale,
      endMs: maxEnd * scale,
      durationMs: (maxEnd - minTime) * scale,
      byteLength,
      parts,
      offset: cluster.start,
      keyframe,
      tracks: present.map((state) => state.number).sort((a, b) => a - b),
      blockCount: ordered.length,
      changes,
    }
    this.#validate(event, early, delta, present)
    const stats = this.#stats
    stats.fragments++
    if (!passThrough) stats.rewrittenFragments++
    stats.framesMoved += moved
    if (fragment.split) stats.clustersSplit++
    stats.clustersMerged += fragment.merged
    if (!passThrough || moved > 0) stats.changed = true
    this.#previousMax = maxTime
    this.#continueAt = Math.max(this.#continueAt, maxEnd, maxTime + 1)
    this.#out.push(event)
    const spare = this.#spare
    if (spare.length < 1024) for (const frame of ordered) spare.push(frame)
  }

  /** The units added to a new epoch's times: none, unless rebasing and its first frame is not after what was sent. */
  #decideDelta(minRaw: number): number {
    if (!this.#options.rebaseTimecodes || minRaw > this.#previousMax) return 0
    // Whole units: block timecodes are integers (a frame duration may not be).
    const delta = Math.ceil(this.#continueAt) - minRaw
    this.#stats.rebases++
    this.#stats.rebasedMs = delta * this.#msPerUnit
    return delta
  }

  /**
   * The bytes of a new Cluster holding `frames` in order: a new Cluster header and Timecode, then each
   * frame's element as views of the input, with its two relative-timecode bytes replaced where they change.
   */
  #writeCluster(frames: readonly Frame[], delta: number, timecode: number, framesSize: number): Uint8Array[] {
    const parts: Uint8Array[] = [clusterHead(timecode, framesSize)]
    const store = this.#store
    // The run of consecutive input bytes not yet added to `parts`.
    let runStart = 0
    let runEnd = 0
    for (const frame of frames) {
      const relative = frame.raw + delta - timecode
      if (relative > MAX_RELATIVE || relative < MIN_RELATIVE) {
        throw new RepackagerError(
          'ERR_KVS_REPACKAGER_TIMECODE_OVERFLOW',
          `the frame of track ${frame.state.number} at ${frame.raw + delta} is ${relative} units from its Cluster's Timecode ${timecode}, outside the signed 16-bit block timecode`,
          { offset: frame.start },
        )
      }
      const unchanged = relative === frame.raw - frame.cluster.timecode
      const copyEnd = unchanged ? frame.end : frame.timecodeAt
      if (frame.start === runEnd) runEnd = copyEnd
      else {
        store.pushViews(parts, runStart, runEnd)
        runStart = frame.start
        runEnd = copyEnd
      }
      if (unchanged) continue
      store.pushViews(parts, runStart, runEnd)
      parts.push(relativeTimecodeBytes(relative))
      runStart = frame.timecodeAt + 2
      runEnd = frame.end
    }
    store.pushViews(parts, runStart, runEnd)
    return parts
  }

  #validate(
    fragment: RepackagedFragmentEvent,
    early: Frame | undefined,
    delta: number,
    present: readonly TrackState[],
  ): void {
    const { index, offset } = fragment
    if (!fragment.keyframe) {
      this.#violation(
        'not-keyframe-start',
        undefined,
        `fragment ${index} does not start with a key frame`,
        offset,
        index,
      )
    }
    if (early !== undefined) {
      const scale = this.#msPerUnit
      const time = early.raw + delta
      const why = this.#options.rebaseTimecodes
        ? 'an open-GOP frame shown before its key frame, or a frame muxed too late, cannot move without re-encoding'
        : 'timecodes that went back need rebaseTimecodes; an open-GOP frame shown before its key frame cannot move without re-encoding'
      this.#violation(
        'timecode-not-increasing',
        4004,
        `fragment ${index} has a frame of track ${early.state.number} at ${time * scale} ms, not after the previous fragment's last frame at ${this.#previousMax * scale} ms (${why})`,
        early.start,
        index,
        { track: early.state.number, timecode: time, timeMs: time * scale, offset: early.start },
      )
    }
    if (fragment.durationMs > this.#options.maxFragmentDurationMs) {
      this.#violation(
        'duration-too-long',
        4002,
        `fragment ${index} lasts ${fragment.durationMs} ms, over the ${this.#options.maxFragmentDurationMs} ms limit (no key frame to cut at before it)`,
        offset,
        index,
      )
    }
    if (fragment.byteLength > this.#options.maxFragmentBytes) {
      this.#violation(
        'size-too-large',
        4001,
        `fragment ${index} is ${fragment.byteLength} bytes, over the ${this.#options.maxFragmentBytes} byte limit`,
        offset,
        index,
      )
    }
    for (const { number: track, type } of present) {
      if (type !== -1) continue
      this.#violation(
        'undeclared-track',
        4010,
        `fragment ${index} has frames of track ${track}, which Tracks does not declare`,
        offset,
        index,
      )
    }
    for (const track of this.#tracks) {
      if (!present.some((state) => state.number === track.number)) {
        this.#violation(
          'missing-track',
          4011,
          `fragment ${index} has no frame of declared track ${track.number}`,
          offset,
          index,
        )
      }
    }
  }

  #violation(
    kind: ViolationKind,
    errorId: number | undefined,
    message: string,
    offset: number,
    fragmentIndex: number | undefined,
    frame?: FrameRef,
  ): void {
    const violation: RepackagerViolation = { kind, errorId, message, fragmentIndex, offset, frame }
    if (this.#options.onViolation === 'throw') {
      throw new RepackagerError('ERR_KVS_REPACKAGER_VIOLATION', message, { offset, violation })
    }
    this.#stats.violations++
    this.#out.push({ type: 'violation', violation })
  }

  #invalid(message: string, offset: number): never {
    throw new RepackagerError('ERR_KVS_REPACKAGER_INVALID_MKV', message, { offset, errorId: 4006 })
  }

  // ---------------------------------------------------------------------------------------------------
  // Memory

  /** The earliest input byte still needed. */
  #keepFrom(): number {
    let keep = this.#reader.offset
    if (this.#ebmlHeaderStart >= 0) keep = Math.min(keep, this.#ebmlHeaderStart)
    if (this.#headerElementStart >= 0) keep = Math.min(keep, this.#headerElementStart)
    if (this.#tagsStart >= 0) keep = Math.min(keep, this.#tagsStart)
    if (this.#cluster !== undefined) keep = Math.min(keep, this.#cluster.start)
    // Held frames are in input order; their Cluster's bytes stay for a fragment sent as it was.
    const first = this.#frames[0]
    if (first !== undefined) keep = Math.min(keep, first.cluster.start)
    if (this.#looseTags.length > 0) keep = Math.min(keep, this.#looseTags[0]!)
    const pendingTags = this.#pending?.tags
    if (pendingTags !== undefined && pendingTags.length > 0) keep = Math.min(keep, pendingTags[0]!)
    const currentTags = this.#current?.tags
    if (currentTags !== undefined && currentTags.length > 0) keep = Math.min(keep, currentTags[0]!)
    return keep
  }

  /**
   * Checks the bytes read and still needed for fragments, or for the header element being read, against
   * the bounds; returns the earliest input byte still needed.
   */
  #checkBounds(): number {
    const offset = this.#reader.offset
    const keep = this.#keepFrom()
    if (this.#phase === Phase.Header || this.#inEbmlHeader) {
      const start = this.#inEbmlHeader ? this.#ebmlHeaderStart : this.#headerElementStart
      if (start >= 0) this.#checkHeaderBytes(this.#headerBytes + offset - start, start)
      return keep
    }
    if (offset - keep > this.#options.maxBufferedBytes) {
      throw new RepackagerError(
        'ERR_KVS_REPACKAGER_FRAGMENT_TOO_LARGE',
        `the fragments being assembled exceed maxBufferedBytes (${this.#options.maxBufferedBytes})`,
        { offset: keep, errorId: 4001 },
      )
    }
    return keep
  }

  #checkHeaderBytes(bytes: number, offset: number): void {
    if (bytes > this.#options.maxHeaderBytes) {
      throw new RepackagerError(
        'ERR_KVS_REPACKAGER_HEADER_TOO_LARGE',
        `header over ${this.#options.maxHeaderBytes} bytes`,
        {
          offset,
        },
      )
    }
  }
}

/** Whether two track entries declare the same track (number, type, codec and its private data, format). */
function sameTrack(a: TrackInfo, b: TrackInfo): boolean {
  return (
    a.number === b.number &&
    a.type === b.type &&
    a.codecId === b.codecId &&
    a.width === b.width &&
    a.height === b.height &&
    a.samplingFrequency === b.samplingFrequency &&
    a.channels === b.channels &&
    a.defaultDurationNs === b.defaultDurationNs &&
    sameBytes(a.codecPrivate, b.codecPrivate)
  )
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
