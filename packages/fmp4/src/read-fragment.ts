import type { TrackEntryInfo } from '@kvs-streams/ebml'
import {
  createGetMediaParser,
  type FragmentStartEvent,
  type GetMediaEvent,
} from '@kvs-streams/get-media/parser'
import { Fmp4Error } from './errors.ts'
import type { Mp4Frame } from './samples.ts'
import { appendFrames } from './segmenter.ts'
import { type Mp4Track, mp4TrackOf } from './track.ts'

/** One Matroska fragment read whole: its tracks and its frames per track. */
export interface MkvFragment {
  /** The TrackEntries of the fragment's document. */
  tracks: TrackEntryInfo[]
  /** Frames per track number in block order (laced blocks split into their frames), as views of the input. */
  frames: Map<number, Mp4Frame[]>
  /** What the parser knew at the Cluster: KVS tags of a GetMedia document, TimecodeScale. */
  start: Omit<FragmentStartEvent, 'type'>
}

/**
 * Reads one fragment held in memory, e.g. a stored KVS fragment's MKV header and Cluster, into frames per
 * track for {@link buildTrackRun}. Only the first fragment of the input is read. Throws the parser's errors,
 * `ERR_KVS_FMP4_NO_TRACK` when the bytes hold no Cluster, and for laced blocks of tracks this package
 * cannot describe, `ERR_KVS_FMP4_UNSUPPORTED_CODEC`.
 */
export function readMkvFragment(parts: readonly Uint8Array[]): MkvFragment {
  const parser = createGetMediaParser()
  const events: GetMediaEvent[] = []
  for (const part of parts) for (const event of parser.push(part)) events.push(event)
  for (const event of parser.end()) events.push(event)
  let start: FragmentStartEvent | undefined
  const frames = new Map<number, Mp4Frame[]>()
  const described = new Map<number, Mp4Track>()
  for (const event of events) {
    if (event.type === 'fragment-start') {
      if (start !== undefined) break
      start = event
      for (const track of event.tracks) frames.set(track.number, [])
    } else if (event.type === 'frame' && start !== undefined) {
      const list = frames.get(event.track)
      if (list === undefined) continue
      let track = described.get(event.track)
      if (track === undefined && event.lacing !== 'none') {
        track = mp4TrackOf(start.tracks.find((entry) => entry.number === event.track)!)
        described.set(event.track, track)
      }
      appendFrames(list, event, track)
    } else if (event.type === 'fragment-end' && start !== undefined) break
  }
  if (start === undefined) throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', 'the bytes hold no Matroska Cluster')
  const { type: _type, ...info } = start
  return { tracks: start.tracks, frames, start: info }
}
