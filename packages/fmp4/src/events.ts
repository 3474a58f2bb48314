import type { Mp4Track } from './track.ts'

/**
 * The tracks are known (first fragment) or changed: the init segment to give a player before the next
 * media segments (HLS `EXT-X-MAP`, DASH initialization, `SourceBuffer.appendBuffer` first).
 */
export interface InitSegmentEvent {
  type: 'init-segment'
  /** `ftyp` + `moov`. A buffer of its own. */
  data: Uint8Array
  tracks: Mp4Track[]
  /** `video/mp4; codecs="avc1.64001f,mp4a.40.2"`, for `MediaSource.isTypeSupported` and `addSourceBuffer`. */
  mimeType: string
}

/** Per track, what a media segment holds. */
export interface MediaSegmentRun {
  /** MP4 track_ID (the Matroska TrackNumber). */
  trackId: number
  /** `tfdt.baseMediaDecodeTime`, in the track's timescale. */
  baseDecodeTime: number
  /** Sum of the sample durations, in the track's timescale. */
  duration: number
  sampleCount: number
}

/** One KVS fragment (one Matroska Cluster) as one `moof` + `mdat`. */
export interface MediaSegmentEvent {
  type: 'media-segment'
  /**
   * The segment: one buffer with `moof` and the `mdat` header, then each sample's bytes as a view of the
   * chunks given to `push()` (copied only when a frame spanned two chunks): write them in order, or join
   * them. The views stay valid as long as the caller does not reuse those chunks' memory.
   */
  parts: Uint8Array[]
  byteLength: number
  /** `mfhd.sequence_number`: 1, 2, … (from `firstSequenceNumber`). */
  sequenceNumber: number
  /** `AWS_KINESISVIDEO_FRAGMENT_NUMBER` of a GetMedia fragment; `undefined` for plain Matroska. */
  fragmentNumber: string | undefined
  /** `AWS_KINESISVIDEO_PRODUCER_TIMESTAMP` / `SERVER_TIMESTAMP` of a GetMedia fragment, epoch ms. */
  producerTimestampMs: number | undefined
  serverTimestampMs: number | undefined
  /** Earliest presentation time of the fragment's frames, ms on the Matroska timeline. */
  startMs: number
  /** Duration of the longest run, ms. */
  durationMs: number
  /** Whether the first video sample is a sync sample (always true without a video track). */
  keyframe: boolean
  runs: MediaSegmentRun[]
}

/** Events of the segmenter: `init-segment` when tracks appear or change, then `media-segment` per fragment. */
export type Fmp4Event = InitSegmentEvent | MediaSegmentEvent
