import type { TrackEntryInfo } from '@kvs-streams/ebml'
import { aacCodecString, readAacConfig } from './aac.ts'
import { avcCodecString, avcPictureSize, readAvcConfig } from './avc.ts'
import { Fmp4Error } from './errors.ts'
import { hevcCodecString, hevcPictureSize, readHevcConfig } from './hevc.ts'

/** Matroska CodecIDs this package writes to MP4, and the MP4 sample entry each becomes. */
export const MATROSKA_CODECS: Readonly<Record<string, Mp4Track['codec']>> = {
  'V_MPEG4/ISO/AVC': 'avc1',
  'V_MPEGH/ISO/HEVC': 'hvc1',
  A_AAC: 'mp4a',
}

/** Timescale (ticks per second) of video tracks: 90 kHz, which holds millisecond timestamps exactly. */
export const VIDEO_TIMESCALE = 90_000

/**
 * A track as the MP4 boxes describe it, made from a Matroska TrackEntry by {@link mp4TrackOf}: what the
 * init segment's sample entry needs and the codec string for playlists and `MediaSource.isTypeSupported`.
 */
export interface Mp4Track {
  /** MP4 `track_ID`: the Matroska TrackNumber (HLS and DASH sessions use the same number). */
  id: number
  kind: 'video' | 'audio'
  /** The sample entry: `avc1` (H.264), `hvc1` (H.265, parameter sets in `hvcC`), `mp4a` (AAC). */
  codec: 'avc1' | 'hvc1' | 'mp4a'
  /** RFC 6381 codec string: `avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`. */
  codecString: string
  /** The Matroska CodecID it came from. */
  codecId: string
  /** Ticks per second of the track's media timeline: 90,000 for video, the sample rate for audio. */
  timescale: number
  /** The decoder configuration: avcC / hvcC payload, or the AudioSpecificConfig. */
  codecPrivate: Uint8Array
  /** Picture size: from the SPS, else the TrackEntry's PixelWidth/PixelHeight (video only). */
  width: number
  height: number
  /** Audio: sampling frequency (Hz) and channel count (0 for video). */
  sampleRate: number
  channels: number
  /** Audio: samples per AAC frame (1024 or 960); 0 for video. */
  frameLength: number
  /** Matroska DefaultDuration in milliseconds, when the TrackEntry had one. */
  defaultDurationMs: number | undefined
}

/**
 * Describes a Matroska track for MP4, reading its CodecPrivate (avcC, hvcC, AudioSpecificConfig) for the
 * codec string, picture size and sample rate. Throws `Fmp4Error` `ERR_KVS_FMP4_UNSUPPORTED_CODEC` for a
 * CodecID other than `V_MPEG4/ISO/AVC`, `V_MPEGH/ISO/HEVC` and `A_AAC`,
 * `ERR_KVS_FMP4_MISSING_CODEC_PRIVATE` without CodecPrivate and `ERR_KVS_FMP4_INVALID_CODEC_PRIVATE`
 * when it cannot be read for the codec.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/hls-playback.html (the service's track requirements)
 */
export function mp4TrackOf(entry: TrackEntryInfo): Mp4Track {
  const codec = MATROSKA_CODECS[entry.codecId]
  const options = { trackNumber: entry.number, codecId: entry.codecId }
  if (codec === undefined) {
    throw new Fmp4Error(
      'ERR_KVS_FMP4_UNSUPPORTED_CODEC',
      `track ${entry.number} has CodecID ${JSON.stringify(entry.codecId)}; MP4 output takes V_MPEG4/ISO/AVC, V_MPEGH/ISO/HEVC and A_AAC`,
      options,
    )
  }
  const codecPrivate = entry.codecPrivate
  if (codecPrivate === undefined || codecPrivate.length === 0) {
    throw new Fmp4Error(
      'ERR_KVS_FMP4_MISSING_CODEC_PRIVATE',
      `track ${entry.number} (${entry.codecId}) has no CodecPrivate`,
      options,
    )
  }
  const invalid = (problem: string) =>
    new Fmp4Error(
      'ERR_KVS_FMP4_INVALID_CODEC_PRIVATE',
      `track ${entry.number} (${entry.codecId}): CodecPrivate cannot be used: ${problem}`,
      options,
    )
  const base = {
    id: entry.number,
    codecId: entry.codecId,
    codecPrivate,
    defaultDurationMs: entry.defaultDurationNs === undefined ? undefined : entry.defaultDurationNs / 1e6,
  }
  if (codec === 'mp4a') {
    const config = readAacConfig(codecPrivate)
    if (typeof config === 'string') throw invalid(config)
    const sampleRate = config.sampleRate
    return {
      ...base,
      kind: 'audio',
      codec,
      codecString: aacCodecString(config),
      timescale: sampleRate,
      width: 0,
      height: 0,
      sampleRate,
      channels: config.channels === 0 ? (entry.channels ?? 2) : config.channels,
      frameLength: config.frameLength,
    }
  }
  let codecString: string
  let size: { width: number; height: number } | undefined
  if (codec === 'avc1') {
    const config = readAvcConfig(codecPrivate)
    if (typeof config === 'string') throw invalid(config)
    codecString = avcCodecString(config)
    size = avcPictureSize(config.sps[0]!)
  } else {
    const config = readHevcConfig(codecPrivate)
    if (typeof config === 'string') throw invalid(config)
    codecString = hevcCodecString(config)
    const sps = config.nalUnits.find((unit) => unit.type === 33)!
    size = hevcPictureSize(sps.data)
  }
  const width = size?.width ?? entry.width
  const height = size?.height ?? entry.height
  if (width === undefined || height === undefined || width <= 0 || height <= 0) {
    throw invalid('the picture size can be read neither from its SPS nor from PixelWidth/PixelHeight')
  }
  return {
    ...base,
    kind: 'video',
    codec,
    codecString,
    timescale: VIDEO_TIMESCALE,
    width,
    height,
    sampleRate: 0,
    channels: 0,
    frameLength: 0,
  }
}

/**
 * The MIME type with codecs for `MediaSource.isTypeSupported`, a DASH Representation or an HLS `CODECS`
 * attribute: `video/mp4; codecs="avc1.64001f,mp4a.40.2"` (`audio/mp4` when there is no video track).
 */
export function mp4MimeType(tracks: readonly Mp4Track[]): string {
  const container = tracks.some((track) => track.kind === 'video') ? 'video/mp4' : 'audio/mp4'
  return `${container}; codecs="${tracks.map((track) => track.codecString).join(',')}"`
}
