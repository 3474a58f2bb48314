import type { Lacing, TrackEntryInfo } from '@kvs-streams/ebml'
import type { GetMediaServiceError } from './errors.ts'

/** A track of the fragment's document, from its Tracks element. */
export type TrackInfo = TrackEntryInfo

/**
 * Metadata a fragment has before its frames: the `AWS_KINESISVIDEO_*` tags KVS writes before the
 * Cluster, and the document's Info and Tracks.
 */
export interface FragmentStartInfo {
  /** `AWS_KINESISVIDEO_FRAGMENT_NUMBER`: an opaque decimal string (47 digits in practice). */
  fragmentNumber: string | undefined
  /** `AWS_KINESISVIDEO_SERVER_TIMESTAMP` in epoch milliseconds (exact: parsed from the decimal string). */
  serverTimestampMs: number | undefined
  /** `AWS_KINESISVIDEO_PRODUCER_TIMESTAMP` in epoch milliseconds (0 for a RELATIVE stream's first fragment). */
  producerTimestampMs: number | undefined
  /** Info/TimecodeScale: nanoseconds per timecode tick (default 1,000,000, i.e. ms). */
  timecodeScale: number
  tracks: TrackInfo[]
  /** Absolute offset of the fragment's EBML header in the GetMedia body. */
  documentOffset: number
}

/** One item of a producer's fragment metadata: a SimpleTag's TagName and TagString. */
export interface FragmentMetadataTag {
  /** TagName. */
  name: string
  /** TagString. */
  value: string
}

/** Metadata a fragment has once it is over: the trailing KVS tags, the producer's tags, counts. */
export interface FragmentEndInfo {
  /** `AWS_KINESISVIDEO_FRAGMENT_NUMBER`, as in `fragment-start` (or first seen after the Cluster). */
  fragmentNumber: string | undefined
  /** `AWS_KINESISVIDEO_MILLIS_BEHIND_NOW`, when the chunk carried it. */
  millisBehindNow?: number | undefined
  /** `AWS_KINESISVIDEO_CONTINUATION_TOKEN`: pass it back to GetMedia to resume after this fragment. */
  continuationToken?: string | undefined
  /**
   * The producer's own tags: every SimpleTag with a TagString whose name does not start with
   * `AWS_KINESISVIDEO_`, from any Tags element of the document (header Tags and fragment metadata after
   * the Cluster alike). A name seen twice keeps its last value.
   */
  tags: Record<string, string>
  /**
   * The producer's fragment metadata (`putKinesisVideoFragmentMetadata`, `producer.putMetadata()`), in order and
   * with repeated names kept: the SimpleTags whose name does not start with `AWS_KINESISVIDEO_` from the Tags
   * elements after the Cluster, and from Tags before Info and Tracks (where the AWS producers put metadata at
   * stream start, returned in the session's first fragment). Header Tags after Tracks (an encoder's, with
   * Targets) are in `tags` only.
   * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html
   */
  metadata: FragmentMetadataTag[]
  /** Bytes of the fragment's document, from its EBML header to the end of the fragment. */
  byteLength: number
  /** SimpleBlocks and BlockGroups read (a laced block counts once). */
  frameCount: number
  /** Whether the chunk's `AWS_KINESISVIDEO_CONTINUATION_TOKEN` was read: the fragment arrived whole. */
  complete: boolean
  /** Absolute offset of the fragment's EBML header in the GetMedia body. */
  documentOffset: number
}

/**
 * A fragment begins: emitted at its first Cluster's start, after the pre-cluster KVS tags, Info and
 * Tracks and before any of its frames. A document without a Cluster gets it right before its
 * `fragment-end`.
 */
export interface MediaFragmentStartEvent extends FragmentStartInfo {
  type: 'fragment-start'
}

/**
 * The former name of `MediaFragmentStartEvent` (renamed apart from `@kvs-streams/chunker`'s
 * `ChunkerFragmentStartEvent`).
 * @deprecated Use `MediaFragmentStartEvent`.
 */
export type FragmentStartEvent = MediaFragmentStartEvent

/**
 * One SimpleBlock, or one BlockGroup's Block. `data` is the frame payload after the block header: a
 * `subarray` view of the chunk passed to `push()` when the block lies in one chunk (valid as long as the
 * caller does not reuse that chunk's memory), else a copy made once.
 */
export interface FrameEvent {
  type: 'frame'
  track: number
  /** Absolute time: (Cluster Timecode + block's relative timecode) × TimecodeScale / 1e6. */
  timestampMs: number
  /** SimpleBlock key-frame flag; for a BlockGroup, true when it has no ReferenceBlock. */
  keyframe: boolean
  data: Uint8Array
  /** BlockDuration, else the track's DefaultDuration, in ms; undefined when neither is known. */
  durationMs: number | undefined
  /**
   * Lacing of the block. Laced blocks are not split: `data` is then the whole laced payload, starting
   * with the lacing header (the frame count byte), as RFC 9559 §10.3 lays it out.
   */
  lacing: Lacing
}

/**
 * A fragment is over: right after the Tags element with `AWS_KINESISVIDEO_CONTINUATION_TOKEN`, else at
 * the next EBML header, at the end of a known-size Segment, or at the end of input.
 */
export interface FragmentEndEvent extends FragmentEndInfo {
  type: 'fragment-end'
}

/**
 * Raw mode: one whole fragment, emitted when `fragment-end` would be. `parts` are the document's bytes in
 * order (a playable MKV file when `complete`), as views of the pushed chunks wherever possible.
 */
export interface MediaFragmentEvent extends FragmentStartInfo, FragmentEndInfo {
  type: 'fragment'
  parts: Uint8Array[]
}

/**
 * The former name of `MediaFragmentEvent` (renamed apart from `@kvs-streams/chunker`'s `ChunkerFragmentEvent`).
 * @deprecated Use `MediaFragmentEvent`.
 */
export type FragmentEvent = MediaFragmentEvent

/**
 * An error chunk: the service reported an error inside the body (not thrown; the body may continue). Its
 * `type` was `'error'` before 0.2; it is `'service-error'`, as everywhere in kvs-streams.
 */
export interface GetMediaServiceErrorEvent {
  type: 'service-error'
  error: GetMediaServiceError
}

/**
 * The former name of `GetMediaServiceErrorEvent` (whose `type` is now `'service-error'`).
 * @deprecated Use `GetMediaServiceErrorEvent`.
 */
export type GetMediaErrorEvent = GetMediaServiceErrorEvent

/**
 * Events of the GetMedia parser. Frame mode (default): `fragment-start`, `frame`…, `fragment-end`, and
 * `service-error`. Raw mode: `fragment` and `service-error`.
 */
export type GetMediaEvent =
  | MediaFragmentStartEvent
  | FrameEvent
  | FragmentEndEvent
  | MediaFragmentEvent
  | GetMediaServiceErrorEvent
