import {
  ChunkerError,
  type ChunkerEvent,
  type ClusterChunker,
  createClusterChunker,
  type TrackInfo,
} from '@kvs-streams/chunker'
import { concatBytes, settledEnd, settledPush } from '@kvs-streams/core'
import { createEbmlReader, EbmlError, type EbmlReader, ElementId, readString } from '@kvs-streams/ebml'
import type { FragmentMetadataTag } from '../storage/types.ts'
import { END_OF_FRAGMENT_TAG, splitFragment } from './fragment-tags.ts'

/** The limits and settings of one PutMedia request, as the service applies them. */
export interface PutMediaSessionOptions {
  /** Longest fragment accepted (4002). */
  maxFragmentDurationMs: number
  /** Largest fragment accepted (4001). */
  maxFragmentBytes: number
}

/** The producer's MKV header was read (before the first fragment). */
export interface SessionHeaderEvent {
  type: 'header'
  bytes: Uint8Array
  timecodeScale: number
  tracks: TrackInfo[]
}

/** A fragment's Cluster Timecode was read: acknowledge BUFFERING. */
export interface SessionFragmentStartEvent {
  type: 'fragment-start'
  /** 0-based index of the fragment in the session. */
  index: number
  /** The Cluster Timecode (TimecodeScale units). */
  timecode: number
}

/**
 * A fragment is complete and valid: acknowledge RECEIVED and store it. Its bytes are not copied: the parts are
 * views of the chunks given to `push()`.
 */
export interface SessionFragmentEvent {
  type: 'fragment'
  index: number
  timecode: number
  /** The Cluster element: views of the pushed chunks it lies in, in order. */
  clusterParts: Uint8Array[]
  /**
   * The producer's metadata Tags (reserved `AWS_KINESISVIDEO_*` tags removed), in order: views of the pushed
   * chunks, or new bytes for a Tags element rewritten without its reserved tags; empty when there are none.
   */
  tagsParts: Uint8Array[]
  /** The cluster as one array: `clusterParts` joined when first read (a view when it lies in one chunk). */
  cluster: Uint8Array
  /** The metadata Tags as one array: `tagsParts` joined when first read. */
  tags: Uint8Array
  metadata: FragmentMetadataTag[]
  durationMs: number
  /** Bytes of the cluster and the Tags that followed it, as sent. */
  sizeBytes: number
  tracks: number[]
  blockCount: number
  keyframe: boolean
}

/** The session broke a KVS rule: acknowledge ERROR with `errorId` and close. Always the last event. */
export interface SessionErrorEvent {
  type: 'error'
  errorId: number
  message: string
  /** The fragment concerned, when there is one. */
  fragmentIndex: number | undefined
}

/** An event of the PutMedia core, discriminated by `type`. */
export type SessionEvent =
  | SessionHeaderEvent
  | SessionFragmentStartEvent
  | SessionFragmentEvent
  | SessionErrorEvent

/**
 * The PutMedia body parser of one connection: a synchronous, incremental core (no I/O, no timers). MKV bytes
 * in; header, fragment-start, fragment and error events out. Wraps the cluster chunker and adds what a server
 * needs beyond it: the end-of-fragment tag (`AWS_KINESISVIDEO_END_OF_FRAGMENT` closes the open fragment at
 * once), the fragment metadata limits (4009), and ErrorIds for unparseable input (4006).
 */
export interface PutMediaSession {
  /**
   * Consumes body bytes. They are kept by reference, not copied: the fragment events' parts are views of them,
   * so do not reuse the memory.
   */
  push(chunk: Uint8Array): SessionEvent[]
  /** The body ended: completes the last fragment, or reports truncated input (4006). */
  end(): SessionEvent[]
  /** Index of the fragment started and not yet complete, if any. */
  readonly openFragmentIndex: number | undefined
  /** True once an error event was returned; later calls return nothing. */
  readonly failed: boolean
}

/** The PutMedia core of one request: push the body's bytes, get header, fragment and error events. */
export function createPutMediaSession(options: PutMediaSessionOptions): PutMediaSession {
  return new Session(options)
}

/**
 * An empty, zero-size Cues element. Fed to the chunker right after an end-of-fragment Tags element: a
 * level-1 element other than Tags makes it complete the open fragment, and Cues is never forwarded.
 */
const FRAGMENT_BOUNDARY = Uint8Array.of(0x1c, 0x53, 0xbb, 0x6b, 0x80)

const watchedData = (id: number) => (id === ElementId.TagName ? 'data' : 'skip')

/** Every PutMedia body starts with an EBML header element: its id, `1A 45 DF A3`. */
const EBML_MAGIC = Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3)

class Session implements PutMediaSession {
  readonly #chunker: ClusterChunker
  /** A second reader over the same bytes, for level-1 Tags carrying the end-of-fragment tag. */
  readonly #watcher: EbmlReader
  /** Set when the watcher fails: the chunker reports the same input as an error. */
  #watcherFailed = false
  /** A Cluster began since the last end-of-fragment boundary: an EoFR tag now closes a fragment. */
  #clusterSeen = false
  /** Inside a level-1 Tags element, and whether it named the end-of-fragment tag. */
  #inTags = false
  #endOfFragment = false
  /** Absolute offset of the next body byte. */
  #offset = 0
  #open: number | undefined
  #failed = false

  constructor(options: PutMediaSessionOptions) {
    this.#chunker = createClusterChunker({
      onViolation: 'emit',
      fragmentStart: true,
      // The service keeps the producer's header as sent (SeekHead, Void…), the Segment size made unknown.
      headerAsSent: true,
      requireKeyframe: false,
      maxFragmentDurationMs: options.maxFragmentDurationMs,
      maxFragmentBytes: options.maxFragmentBytes,
      // A fragment past the limit fails early (4001) instead of being buffered whole; the slack covers header
      // elements and the part of the first chunk before the cluster, which the chunker also counts.
      maxBufferedBytes: options.maxFragmentBytes + 9 * 1024 * 1024,
    })
    this.#watcher = createEbmlReader({ dataMode: watchedData })
  }

  get openFragmentIndex(): number | undefined {
    return this.#open
  }

  get failed(): boolean {
    return this.#failed
  }

  push(chunk: Uint8Array): SessionEvent[] {
    const out: SessionEvent[] = []
    if (this.#failed || chunk.length === 0) return out
    const start = this.#offset
    this.#offset += chunk.length
    // Refuse a body that is not EBML at its first bytes, rather than wait for a bogus element to complete.
    for (let i = start; i < Math.min(EBML_MAGIC.length, this.#offset); i++) {
      if (chunk[i - start] !== EBML_MAGIC[i]) {
        this.#error(out, 4006, 'the body does not start with an EBML header', undefined)
        return out
      }
    }
    let position = 0
    for (const boundary of this.#watch(chunk)) {
      const cut = boundary - start
      if (!this.#feed(chunk.subarray(position, cut), out)) return out
      if (!this.#feed(FRAGMENT_BOUNDARY, out)) return out
      position = cut
    }
    this.#feed(chunk.subarray(position), out)
    return out
  }

  end(): SessionEvent[] {
    const out: SessionEvent[] = []
    if (this.#failed) return out
    const { events, failed, error } = settledEnd(this.#chunker)
    if (this.#handle(events, out) && failed) this.#fail(chunkerFailure(error), out)
    return out
  }

  /** Offsets (absolute) right after each level-1 Tags element that carries the end-of-fragment tag. */
  #watch(chunk: Uint8Array): number[] {
    if (this.#watcherFailed) return []
    const boundaries: number[] = []
    const { events, failed, error } = settledPush(this.#watcher, chunk)
    if (failed) {
      if (!EbmlError.is(error)) throw error
      this.#watcherFailed = true
    }
    for (const event of events) {
      if (event.depth === 1 && event.id === ElementId.Cluster && event.type === 'element-start') {
        this.#clusterSeen = true
      } else if (event.depth === 1 && event.id === ElementId.Tags) {
        if (event.type === 'element-start') {
          this.#inTags = true
          this.#endOfFragment = false
        } else if (event.type === 'element-end') {
          this.#inTags = false
          if (this.#endOfFragment && this.#clusterSeen) {
            boundaries.push(event.end)
            this.#clusterSeen = false
          }
        }
      } else if (this.#inTags && event.type === 'element' && event.id === ElementId.TagName) {
        if (readString(event.data) === END_OF_FRAGMENT_TAG) this.#endOfFragment = true
      }
    }
    return boundaries
  }

  /** Pushes bytes to the chunker; false once the session failed. */
  #feed(bytes: Uint8Array, out: SessionEvent[]): boolean {
    if (bytes.length === 0) return true
    // A failure the chunker holds back for its next call is surfaced with these bytes, as the service fails the
    // fragment they belong to.
    const { events, failed, error } = settledPush(this.#chunker, bytes)
    if (!this.#handle(events, out)) return false
    if (failed) {
      this.#fail(chunkerFailure(error), out)
      return false
    }
    return true
  }

  /** Translates chunker events; false once an error was emitted. */
  #handle(events: readonly ChunkerEvent[], out: SessionEvent[]): boolean {
    for (const event of events) {
      switch (event.type) {
        case 'header':
          out.push({
            type: 'header',
            bytes: event.bytes,
            timecodeScale: event.timecodeScale,
            tracks: event.tracks,
          })
          break
        case 'fragment-start':
          this.#open = event.index
          out.push({ type: 'fragment-start', index: event.index, timecode: event.timecode })
          break
        case 'violation': {
          const { errorId, message, fragmentIndex } = event.violation
          // A fragment that does not start with a key frame has no ErrorId: KVS accepts it.
          if (errorId === undefined) break
          this.#error(out, errorId, message, fragmentIndex ?? this.#open)
          return false
        }
        case 'fragment': {
          this.#open = undefined
          const split = splitFragment(event.parts)
          if (split.metadataViolation !== undefined) {
            this.#error(out, 4009, split.metadataViolation, event.index)
            return false
          }
          out.push(
            fragmentEvent({
              type: 'fragment',
              index: event.index,
              timecode: event.timecode,
              clusterParts: split.cluster,
              tagsParts: split.tags,
              metadata: split.metadata,
              durationMs: event.durationMs,
              sizeBytes: event.byteLength,
              tracks: event.tracks,
              blockCount: event.blockCount,
              keyframe: event.keyframe,
            }),
          )
          break
        }
      }
    }
    return true
  }

  #fail(error: unknown, out: SessionEvent[]): void {
    if (ChunkerError.is(error)) this.#error(out, error.errorId ?? 4006, error.message, this.#open)
    else if (EbmlError.is(error)) this.#error(out, 4006, error.message, this.#open)
    else throw error
  }

  #error(out: SessionEvent[], errorId: number, message: string, fragmentIndex: number | undefined): void {
    this.#failed = true
    out.push({ type: 'error', errorId, message, fragmentIndex })
  }
}

/** A fragment event whose `cluster` and `tags` join their parts when first read (own enumerable accessors). */
function fragmentEvent(fields: Omit<SessionFragmentEvent, 'cluster' | 'tags'>): SessionFragmentEvent {
  let cluster: Uint8Array | undefined
  let tags: Uint8Array | undefined
  return Object.defineProperties(fields as SessionFragmentEvent, {
    cluster: {
      enumerable: true,
      configurable: true,
      get: () => (cluster ??= joinParts(fields.clusterParts)),
      set: (value: Uint8Array) => {
        cluster = value
      },
    },
    tags: {
      enumerable: true,
      configurable: true,
      get: () => (tags ??= joinParts(fields.tagsParts)),
      set: (value: Uint8Array) => {
        tags = value
      },
    },
  })
}

function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : concatBytes(parts)
}

/** The chunker's error (`ChunkerError` or `EbmlError`), which fails the session; anything else is rethrown. */
function chunkerFailure(error: unknown): unknown {
  if (ChunkerError.is(error) || EbmlError.is(error)) return error
  throw error
}
