import type { TrackEntryInfo } from '@kvs-streams/ebml'

/** A track declared in the Tracks element (number, type, codec id and private data, dimensions, …). */
export type TrackInfo = TrackEntryInfo

/**
 * Everything a new PutMedia session must send before its first fragment: the EBML header, the Segment
 * start (rewritten to the unknown size, since a session carries only part of the segment) and the level-1
 * elements before the first Cluster (Info, Tracks, Tags, …) except SeekHead and Void, whose positions and
 * padding no longer apply.
 */
export interface HeaderEvent {
  type: 'header'
  bytes: Uint8Array
  /** Nanoseconds per timecode unit (Info/TimecodeScale, default 1,000,000). */
  timecodeScale: number
  tracks: TrackInfo[]
}

/** One Cluster, with the level-1 Tags that followed it: one KVS fragment. */
export interface ChunkerFragmentEvent {
  type: 'fragment'
  /** 0-based position among the fragments of the stream. */
  index: number
  /** The Cluster Timecode as written (TimecodeScale units): what KVS acknowledges as FragmentTimecode. */
  timecode: number
  /** Time of the earliest frame, ms. */
  startMs: number
  /** End of the latest frame (its time plus its duration when known), ms. */
  endMs: number
  durationMs: number
  byteLength: number
  /**
   * The fragment's bytes, in order, as views of the chunks given to `push()` wherever possible (no copy).
   * The views stay valid as long as those chunks are not reused by the caller.
   */
  parts: Uint8Array[]
  /** Absolute offset of the Cluster in the input. */
  offset: number
  /** Whether the fragment's first video frame (first frame when there is no video track) is a key frame. */
  keyframe: boolean
  /** Track numbers that have at least one frame in the fragment, ascending. */
  tracks: number[]
  blockCount: number
}

/** The KVS rule a fragment breaks, and the ErrorId KVS would answer with. */
export type ViolationKind =
  | 'not-keyframe-start'
  | 'timecode-not-increasing'
  | 'duration-too-long'
  | 'size-too-large'
  | 'undeclared-track'
  | 'too-many-tracks'
  | 'missing-track'
  | 'second-segment'
  | 'invalid-mkv'

/** A KVS rule a fragment breaks, and the ErrorId it would have caused. */
export interface Violation {
  kind: ViolationKind
  /** The KVS ErrorId this prevents (undefined where KVS accepts the data but cannot use it well). */
  errorId: number | undefined
  message: string
  /** Index of the fragment concerned, when there is one. */
  fragmentIndex: number | undefined
  /** Absolute offset of the element concerned. */
  offset: number
}

/** A fragment broke a KVS rule (with `onViolation: 'emit'`; the default throws a `ChunkerError`). */
export interface ViolationEvent {
  type: 'violation'
  violation: Violation
}

/** A Cluster's Timecode was read: its fragment has begun (only with the `fragmentStart` option). */
export interface ChunkerFragmentStartEvent {
  type: 'fragment-start'
  index: number
  /** Absolute offset of the Cluster in the input. */
  offset: number
  /** The Cluster Timecode (TimecodeScale units). */
  timecode: number
}

/**
 * The former name of `ChunkerFragmentEvent` (renamed apart from `@kvs-streams/get-media`'s `MediaFragmentEvent`).
 * @deprecated Use `ChunkerFragmentEvent`.
 */
export type FragmentEvent = ChunkerFragmentEvent

/**
 * The former name of `ChunkerFragmentStartEvent` (renamed apart from `@kvs-streams/get-media`'s
 * `MediaFragmentStartEvent`).
 * @deprecated Use `ChunkerFragmentStartEvent`.
 */
export type FragmentStartEvent = ChunkerFragmentStartEvent

/** An event of the chunker, discriminated by `type`. */
export type ChunkerEvent = HeaderEvent | ChunkerFragmentStartEvent | ChunkerFragmentEvent | ViolationEvent
