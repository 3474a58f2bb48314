import { Fmp4Error } from './errors.ts'
import type { Mp4Track } from './track.ts'

/** A frame of one track, as a Matroska block carries it: presentation time, payload, key-frame flag. */
export interface Mp4Frame {
  /** Presentation timestamp, milliseconds (any clock: producer or server time, or the Matroska timeline). */
  timestampMs: number
  /** The sample: length-prefixed NAL units (H.264/H.265, as in Matroska) or one raw AAC frame. */
  data: Uint8Array
  keyframe: boolean
  /** BlockDuration, else the track's DefaultDuration, in ms, when known. */
  durationMs?: number | undefined
}

/** One MP4 sample of a track run: decode duration and composition offset in the track's timescale. */
export interface Mp4Sample {
  data: Uint8Array
  /** Decode duration, ticks. */
  duration: number
  /** Presentation minus decode time, ticks (negative with B-frames; written with `trun` version 1). */
  compositionOffset: number
  /** A sync sample (video key frame; every AAC frame). */
  keyframe: boolean
}

/** The samples of one track in one fragment, on the track's decode timeline. */
export interface TrackRun {
  track: Mp4Track
  /** Decode time of the first sample, ticks since the time origin (`tfdt.baseMediaDecodeTime`). */
  baseDecodeTime: number
  samples: Mp4Sample[]
  /** Sum of the sample durations, ticks: the next contiguous run starts at `baseDecodeTime + duration`. */
  duration: number
}

/** Options of {@link buildTrackRun}. */
export interface TrackRunOptions {
  /** The time (same clock as the frames) that decode time 0 stands for. */
  timeOriginMs: number
  /**
   * Where the run ends on the frames' clock (the next fragment's start, when it is known and contiguous):
   * the last sample lasts until then. Ignored unless it is after the last sample's decode time.
   */
  endMs?: number | undefined
  /** The last sample's duration in ticks when nothing else tells it (the previous fragment's last one). */
  fallbackDuration?: number | undefined
}

/** Default duration of a lone video frame whose duration nothing tells: 40 ms (25 fps), in 90 kHz ticks. */
const LONE_VIDEO_FRAME_TICKS = 3600

/**
 * Lays one track's frames of a fragment out as MP4 samples. Matroska blocks carry presentation times in
 * decode order; decode times are those presentation times sorted (so without B-frames they are equal, and
 * with them the composition offsets come out as the reordering), converted to the track's timescale from
 * `timeOriginMs`. Each sample lasts until the next one; the last lasts until `endMs` when given, else for an
 * AAC frame its frame length, else its own BlockDuration/DefaultDuration, else as long as the previous
 * sample, else `fallbackDuration`. Decode times of consecutive fragments therefore continue one another
 * whenever their timestamps do. Throws `ERR_KVS_FMP4_TIMESTAMP_BEFORE_ORIGIN` for a frame before the origin.
 */
export function buildTrackRun(
  track: Mp4Track,
  frames: readonly Mp4Frame[],
  options: TrackRunOptions,
): TrackRun {
  const scale = track.timescale / 1000
  const count = frames.length
  const pts = new Array<number>(count)
  let monotonic = true
  for (let i = 0; i < count; i++) {
    const frame = frames[i]!
    const ticks = Math.round((frame.timestampMs - options.timeOriginMs) * scale)
    if (ticks < 0) {
      throw new Fmp4Error(
        'ERR_KVS_FMP4_TIMESTAMP_BEFORE_ORIGIN',
        `track ${track.id}: a frame at ${frame.timestampMs} ms is before the time origin ${options.timeOriginMs} ms`,
        { trackNumber: track.id, codecId: track.codecId },
      )
    }
    if (i > 0 && ticks < pts[i - 1]!) monotonic = false
    pts[i] = ticks
  }
  const dts = monotonic ? pts : pts.slice().sort((a, b) => a - b)
  const samples = new Array<Mp4Sample>(count)
  for (let i = 0; i < count; i++) {
    const frame = frames[i]!
    const next = dts[i + 1]
    let duration: number
    if (next !== undefined) duration = next - dts[i]!
    else duration = lastDuration(track, frame, dts, options, scale, samples)
    samples[i] = {
      data: frame.data,
      duration,
      compositionOffset: pts[i]! - dts[i]!,
      keyframe: track.kind === 'audio' || frame.keyframe,
    }
  }
  const baseDecodeTime = count === 0 ? 0 : dts[0]!
  const last = count === 0 ? 0 : dts[count - 1]! + samples[count - 1]!.duration
  return { track, baseDecodeTime, samples, duration: last - baseDecodeTime }
}

function lastDuration(
  track: Mp4Track,
  frame: Mp4Frame,
  dts: readonly number[],
  options: TrackRunOptions,
  scale: number,
  samples: readonly Mp4Sample[],
): number {
  const at = dts[dts.length - 1]!
  if (options.endMs !== undefined) {
    const end = Math.round((options.endMs - options.timeOriginMs) * scale)
    if (end > at) return end - at
  }
  if (track.kind === 'audio' && track.frameLength > 0)
    return Math.round((track.frameLength * track.timescale) / track.sampleRate)
  if (frame.durationMs !== undefined && frame.durationMs > 0) return Math.round(frame.durationMs * scale)
  const previous = samples[dts.length - 2]
  if (previous !== undefined && previous.duration > 0) return previous.duration
  if (options.fallbackDuration !== undefined && options.fallbackDuration > 0) return options.fallbackDuration
  if (track.defaultDurationMs !== undefined && track.defaultDurationMs > 0)
    return Math.round(track.defaultDurationMs * scale)
  return Math.round((LONE_VIDEO_FRAME_TICKS * track.timescale) / 90_000)
}
