import {
  buildTrackRun,
  Fmp4Error,
  type MediaSegmentBytes,
  type Mp4Track,
  mp4TrackOf,
  readMkvFragment,
  type TrackRun,
  writeMediaSegment,
} from '@kvs-streams/fmp4'
import type { EmulatorContext } from '../context.ts'
import { ServiceError } from '../errors.ts'
import { type FragmentWithParts, storageInternals } from '../storage/storage.ts'
import type { FragmentInfo } from '../storage/types.ts'
import { DISCONTINUITY_THRESHOLD_MS, startOf } from './selection.ts'
import type { SelectorType } from './session-token.ts'

/** Which operation checks the tracks: the service's codec requirements differ a little between them. */
export type MediaOperation = 'hls' | 'dash' | 'clip'

const VIDEO_CODECS = new Set(['V_MPEG4/ISO/AVC', 'V_MPEGH/ISO/HEVC'])
/**
 * Tracks described per stored fragment (stream ARN + fragment number), newest last: a small bounded cache per
 * emulator (several may run in one process).
 */
const trackCaches = new WeakMap<EmulatorContext, Map<string, Mp4Track[]>>()
const TRACK_CACHE_ENTRIES = 256

function unsupported(message: string): ServiceError {
  return new ServiceError('UnsupportedStreamMediaTypeException', 400, message)
}

/**
 * Reads a stored fragment (its bytes as they are held: parts, not joined), or answers ResourceNotFoundException
 * when it is gone.
 */
export async function readStored(
  context: EmulatorContext,
  streamName: string,
  fragment: FragmentInfo,
): Promise<FragmentWithParts> {
  const stored = await storageInternals.readFragmentParts(
    context.storage,
    streamName,
    fragment.fragmentNumber,
  )
  if (stored === undefined) {
    throw new ServiceError(
      'ResourceNotFoundException',
      404,
      `Fragment ${fragment.fragmentNumber} is no longer available.`,
    )
  }
  return stored
}

/**
 * The tracks of a fragment as MP4 describes them, after the service's requirements: track 1 H.264
 * (`V_MPEG4/ISO/AVC`) or H.265 (`V_MPEGH/ISO/HEVC`), an optional track 2 AAC (`A_AAC`), CodecPrivate present
 * and readable. Answers UnsupportedStreamMediaTypeException, MissingCodecPrivateDataException or
 * InvalidCodecPrivateDataException. DASH and GetClip also take G.711 (`A_MS/ACM`) on track 2; the emulator
 * does not package it and says so with UnsupportedStreamMediaTypeException.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetHLSStreamingSessionURL.html
 */
export async function fragmentTracks(
  context: EmulatorContext,
  streamARN: string,
  streamName: string,
  fragment: FragmentInfo,
  operation: MediaOperation,
): Promise<Mp4Track[]> {
  const key = `${streamARN} ${fragment.fragmentNumber}`
  let trackCache = trackCaches.get(context)
  if (trackCache === undefined) trackCaches.set(context, (trackCache = new Map()))
  const cached = trackCache.get(key)
  if (cached !== undefined) return cached
  const stored = await readStored(context, streamName, fragment)
  let entries: ReturnType<typeof readMkvFragment>['tracks']
  try {
    entries = readMkvFragment([stored.header, ...stored.cluster]).tracks
  } catch (error) {
    throw new ServiceError(
      'InvalidArgumentException',
      400,
      `Fragment ${fragment.fragmentNumber} cannot be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
  const byNumber = new Map(entries.map((entry) => [entry.number, entry]))
  const video = byNumber.get(1)
  const audio = byNumber.get(2)
  if (video === undefined || !VIDEO_CODECS.has(video.codecId)) {
    throw unsupported(
      `Track 1 of the first fragment has codec ID ${JSON.stringify(video?.codecId ?? 'none')}; it must be V_MPEG4/ISO/AVC (H.264) or V_MPEGH/ISO/HEVC (H.265).`,
    )
  }
  if (audio !== undefined && audio.codecId !== 'A_AAC') {
    throw unsupported(
      audio.codecId === 'A_MS/ACM' && operation !== 'hls'
        ? 'Track 2 is G.711 (A_MS/ACM): the service packages it for DASH and GetClip, the emulator does not.'
        : `Track 2 of the first fragment has codec ID ${JSON.stringify(audio.codecId)}; it must be A_AAC.`,
    )
  }
  const extra = entries.find((entry) => entry.number !== 1 && entry.number !== 2)
  if (extra !== undefined) {
    throw unsupported(
      `The stream has a track ${extra.number} (${extra.codecId}); only track 1 (video) and track 2 (audio) are packaged.`,
    )
  }
  let tracks: Mp4Track[]
  try {
    tracks = [video, ...(audio === undefined ? [] : [audio])].map(mp4TrackOf)
  } catch (error) {
    if (Fmp4Error.is(error) && error.code === 'ERR_KVS_FMP4_MISSING_CODEC_PRIVATE') {
      throw new ServiceError(
        'MissingCodecPrivateDataException',
        400,
        `Track ${error.trackNumber} has no codec private data.`,
      )
    }
    if (Fmp4Error.is(error) && error.code === 'ERR_KVS_FMP4_INVALID_CODEC_PRIVATE') {
      throw new ServiceError('InvalidCodecPrivateDataException', 400, error.message)
    }
    throw error
  }
  trackCache.set(key, tracks)
  if (trackCache.size > TRACK_CACHE_ENTRIES) trackCache.delete(trackCache.keys().next().value!)
  return tracks
}

/** Whether two track lists have the same codecs and CodecPrivate (the service fails a session when they change). */
export function sameCodecs(a: readonly Mp4Track[], b: readonly Mp4Track[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (track, i) =>
        track.codecId === b[i]!.codecId &&
        track.codecPrivate.length === b[i]!.codecPrivate.length &&
        track.codecPrivate.every((byte, j) => byte === b[i]!.codecPrivate[j]),
    )
  )
}

/**
 * The offset from a stored fragment's Matroska timeline (what the parser reports) to the selector's clock:
 * the fragment's producer or server start minus its Cluster Timecode in milliseconds.
 */
export function clockOffset(fragment: FragmentInfo, selector: SelectorType): number {
  return startOf(fragment, selector) - (fragment.fragmentTimecode * fragment.timecodeScale) / 1e6
}

/**
 * The runs of a stored fragment's tracks on the selector's clock, with decode times counted from the epoch
 * (so every session and every segment of a stream agree). The last sample lasts until `next` starts when the
 * two are contiguous (gap or overlap ≤ 50 ms), else by the frames' own durations.
 * Frames that cannot be read answer `InvalidMediaFrameException`.
 */
export function fragmentRuns(
  stored: FragmentWithParts,
  tracks: readonly Mp4Track[],
  selector: SelectorType,
  next: FragmentInfo | undefined,
): TrackRun[] {
  let frames: ReturnType<typeof readMkvFragment>['frames']
  try {
    frames = readMkvFragment([stored.header, ...stored.cluster]).frames
  } catch (error) {
    throw new ServiceError(
      'InvalidMediaFrameException',
      400,
      `The frames of fragment ${stored.fragmentNumber} cannot be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
  const offset = clockOffset(stored, selector)
  const end = startOf(stored, selector) + stored.durationMs
  const nextStart = next === undefined ? undefined : startOf(next, selector)
  const contiguous = nextStart !== undefined && Math.abs(nextStart - end) <= DISCONTINUITY_THRESHOLD_MS
  return tracks
    .map((track) =>
      buildTrackRun(track, frames.get(track.id) ?? [], {
        timeOriginMs: -offset,
        endMs: contiguous ? nextStart - offset : undefined,
      }),
    )
    .filter((run) => run.samples.length > 0)
}

/** One track's media segment (`moof` + `mdat`) of a stored fragment. */
export function trackSegment(
  stored: FragmentWithParts,
  track: Mp4Track,
  selector: SelectorType,
  next: FragmentInfo | undefined,
  sequenceNumber: number,
): MediaSegmentBytes {
  const runs = fragmentRuns(stored, [track], selector, next)
  return writeMediaSegment(sequenceNumber, runs)
}
