import type { ChunkerFragmentEvent, HeaderEvent } from '@kvs-streams/chunker'

/**
 * A video stream's configuration, from its parameter sets: emitted before the first frame, and again before
 * a key frame whose parameter sets differ from the last ones emitted. Its fields are the ones a muxer
 * track takes (`createMuxer({ tracks: [config] })`).
 */
export interface VideoConfigEvent {
  type: 'config'
  codec: 'h264' | 'h265'
  /** The Matroska CodecID: `V_MPEG4/ISO/AVC` or `V_MPEGH/ISO/HEVC`. */
  codecId: string
  /** AVCDecoderConfigurationRecord or HEVCDecoderConfigurationRecord, with 4-byte NAL unit lengths. */
  codecPrivate: Uint8Array
  /** Picture size from the SPS, cropping applied. */
  width: number
  height: number
  /** Frames per second the timestamps are computed with. */
  fps: number
  /** Where `fps` came from: the `fps` option, the stream's timing information (VUI/VPS), or the default 25. */
  fpsSource: 'option' | 'stream' | 'default'
  /** 1000 / fps. */
  frameDurationMs: number
  /** profile_idc (H.264) or general_profile_idc (H.265). */
  profile: number
  /** level_idc (H.264) or general_level_idc (H.265). */
  level: number
  /**
   * Most frames that can precede a frame in decoding order and follow it in output order (0 without
   * B-frames): the parser holds this many frames back to give each its presentation time.
   */
  reorderFrames: number
}

/** An AAC stream's configuration, from its first ADTS header: emitted before the first frame. */
export interface AudioConfigEvent {
  type: 'config'
  codec: 'aac'
  /** The Matroska CodecID: `A_AAC`. */
  codecId: string
  /** The AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), 2 bytes. */
  codecPrivate: Uint8Array
  /** Audio object type: 1 Main, 2 LC, 3 SSR, 4 LTP. */
  objectType: number
  sampleRate: number
  channels: number
  /** Duration of one frame (1024 samples), ms. */
  frameDurationMs: number
}

/**
 * One frame: a video access unit (its NAL units in 4-byte length-prefixed form, as Matroska and MP4 store
 * them; access unit delimiters and filler data left out) or one AAC frame (the raw data block, ADTS header
 * left out). Its fields are the ones a muxer frame takes (`muxer.push({ ...frame, track })`).
 */
export interface FrameEvent {
  type: 'frame'
  /** 0-based position among the frames emitted, in decoding order. */
  index: number
  /** Presentation time, ms from the first frame shown. */
  pts: number
  /**
   * Decoding time, ms. Video: the decoding position × frame duration − the reorder delay, so
   * `dts <= pts` (negative for the first frames of a stream with B-frames). Audio: `pts`.
   */
  dts: number
  durationMs: number
  /** Video: an IDR (H.264) or IRAP (H.265) access unit. Audio: always true. */
  keyframe: boolean
  /**
   * The frame's bytes, in order: views of the chunks given to `push()` where they lie in one chunk (no copy),
   * and the 4-byte NAL unit lengths. The views stay valid as long as those chunks are not reused.
   */
  data: Uint8Array[]
  byteLength: number
  /** Offset in the parser's input of the frame's first byte: its first NAL unit (after the start code), or its ADTS header. */
  offset: number
}

/** An event of the Annex-B parser, discriminated by `type`. */
export type AnnexBEvent = VideoConfigEvent | FrameEvent

/** An event of the ADTS parser, discriminated by `type`. */
export type AdtsEvent = AudioConfigEvent | FrameEvent

/** An event of the muxer: the header first, then one fragment (Cluster) at a time, as the chunker emits them. */
export type MuxerEvent = HeaderEvent | ChunkerFragmentEvent
