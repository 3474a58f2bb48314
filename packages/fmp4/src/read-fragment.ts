import type { TrackEntryInfo } from '@kvs-streams/ebml'
import { Fmp4Error } from './errors.ts'
import { type KvsFragmentTags, MkvReader, type MkvReaderEvent } from './mkv-reader.ts'
import type { Mp4Frame } from './samples.ts'
import { appendFrames, bufferedFragmentBytesOption } from './segmenter.ts'
import { type Mp4Track, mp4TrackOf } from './track.ts'

/** One Matroska fragment (Cluster) read whole: its tracks and its frames per track. */
export interface MkvFragment {
  /** The TrackEntries of the fragment's document. */
  tracks: TrackEntryInfo[]
  /** Nanoseconds per timecode tick (Info/TimecodeScale). */
  timecodeScale: number
  /** Frames per track number in block order (laced blocks split into their frames), as views of the input. */
  frames: Map<number, Mp4Frame[]>
  /** The `AWS_KINESISVIDEO_*` tags before the Cluster, when the bytes are a GetMedia document. */
  tags: KvsFragmentTags
}

/** Options of {@link readMkvFragment} and {@link readMkvFragments}. */
export interface ReadMkvFragmentOptions {
  /**
   * The segmenter's option of the same name; here, where the bytes are already held, it bounds the largest block
   * (and element) read: a larger one fails with `ERR_KVS_FMP4_FRAGMENT_TOO_LARGE`. Default 64 MiB.
   */
  maxBufferedFragmentBytes?: number
  /**
   * The former name of `maxBufferedFragmentBytes`. Giving both with different values throws a `TypeError`.
   * @deprecated Use `maxBufferedFragmentBytes`.
   */
  maxFragmentBytes?: number
}

/**
 * Reads every Cluster of bytes held in memory (a GetMedia body, an MKV file) into one {@link MkvFragment}
 * each, in order. Errors as {@link readMkvFragment}.
 */
export function readMkvFragments(
  parts: readonly Uint8Array[],
  options: ReadMkvFragmentOptions = {},
): MkvFragment[] {
  return readClusters(parts, bufferedFragmentBytesOption(options), Number.POSITIVE_INFINITY)
}

/**
 * Reads the first Cluster of bytes held in memory (a stored KVS fragment's MKV header and Cluster, one GetMedia
 * document) into frames per track, for {@link buildTrackRun}. Throws `ERR_KVS_FMP4_NO_TRACK` when the bytes
 * hold no Cluster, `EbmlError` for corrupt Matroska, and for a laced block of a track this package cannot
 * describe, that track's `mp4TrackOf` error.
 */
export function readMkvFragment(
  parts: readonly Uint8Array[],
  options: ReadMkvFragmentOptions = {},
): MkvFragment {
  const fragment = readClusters(parts, bufferedFragmentBytesOption(options), 1)[0]
  if (fragment === undefined)
    throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', 'the bytes hold no Matroska Cluster')
  return fragment
}

function readClusters(parts: readonly Uint8Array[], max: number, limit: number): MkvFragment[] {
  const reader = new MkvReader({ maxBlockBytes: max, maxElementBytes: Math.min(max, 16 * 1024 * 1024) })
  const events: MkvReaderEvent[] = []
  for (const part of parts) for (const event of reader.push(part)) events.push(event)
  for (const event of reader.end()) events.push(event)
  const fragments: MkvFragment[] = []
  let fragment: MkvFragment | undefined
  const described = new Map<number, Mp4Track>()
  for (const event of events) {
    if (event.type === 'cluster-start') {
      if (fragments.length === limit) break
      const { type: _type, tracks, timecodeScale, ...tags } = event
      fragment = { tracks, timecodeScale, tags, frames: new Map(tracks.map((track) => [track.number, []])) }
      fragments.push(fragment)
    } else if (event.type === 'frame' && fragment !== undefined) {
      const list = fragment.frames.get(event.track)
      if (list === undefined) continue
      let track = described.get(event.track)
      if (track === undefined && event.lacing !== 'none') {
        track = mp4TrackOf(fragment.tracks.find((entry) => entry.number === event.track)!)
        described.set(event.track, track)
      }
      appendFrames(list, event, track)
    } else if (event.type === 'cluster-end') fragment = undefined
  }
  return fragments
}
