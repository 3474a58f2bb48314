import {
  createEbmlReader,
  ElementId,
  encodeId,
  readBlockHeader,
  readUint,
  writeEbmlHeader,
  writeElement,
  writeFloat,
  writeString,
  writeUint,
} from '@kvs-streams/ebml'
import { FragmentMergeError } from './errors.ts'
import type { MediaFragmentEvent } from './events.ts'

/** What the merger does when a fragment's Tracks differ from the Tracks of the segment being written. */
export type TracksChangePolicy = 'new-segment' | 'error'

/** Options of `createFragmentMerger` and its adapters. */
export interface FragmentMergerOptions {
  /**
   * When a fragment's Tracks element differs from the current segment's: `'new-segment'` (default) ends the
   * segment and starts another EBML document with the new Tracks; `'error'` throws a `FragmentMergeError`
   * (`ERR_KVS_MERGE_TRACKS_CHANGED`), everything merged before it kept.
   */
  onTracksChange?: TracksChangePolicy
  /** Keep the service's per-fragment Tags elements (fragment number, timestamps, producer tags). Default true. */
  keepTags?: boolean
  /**
   * The output is a seekable file: `end()` also returns `patch` events (Segment size, SeekHead to the Cues,
   * Info/Duration) to write over bytes already written. Default false (a pipe: no patch events).
   */
  seekable?: boolean
  /** Info/WritingApp of the merged file. Default `kvs-streams`. */
  writingApp?: string
}

/** Bytes of the merged file, in order: views of the fragments' bytes (Clusters, Tags) or new elements. */
export interface MergeDataEvent {
  type: 'data'
  bytes: Uint8Array
}

/** Seekable output only: bytes to write at `offset` over bytes already written (same length). */
export interface MergePatchEvent {
  type: 'patch'
  offset: number
  bytes: Uint8Array
}

/** Events of the fragment merger. */
export type MergeEvent = MergeDataEvent | MergePatchEvent

/** The fragment merger core: raw GetMedia fragments in, the bytes of one Matroska document out. */
export interface FragmentMerger {
  /** Takes the next raw-mode `fragment` event; returns the bytes it adds. Other events are ignored. */
  push(fragment: MediaFragmentEvent): MergeEvent[]
  /** Ends the output: the Cues, then (seekable output) the patches. */
  end(): MergeEvent[]
}

/** Segment size field written: 8 bytes, unknown size until patched. */
const UNKNOWN_SIZE_8 = Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
/** Bytes of a SeekHead with one Seek (SeekID 4 bytes, SeekPosition 8 bytes), reserved as a Void. */
const SEEK_HEAD_BYTES = 26
/** Bytes of a Duration element (float64), reserved as a Void. */
const DURATION_BYTES = 11

/** A Void element of exactly `total` bytes (2 to 128). */
function voidElement(total: number): Uint8Array {
  return writeElement(ElementId.Void, new Uint8Array(total - 2))
}

/** An 8-byte EBML size field for `size`. */
function size8(size: number): Uint8Array {
  const out = new Uint8Array(8)
  const view = new DataView(out.buffer)
  view.setUint32(0, Math.floor(size / 2 ** 32))
  view.setUint32(4, size >>> 0)
  out[0] = (out[0] ?? 0) | 0x01
  return out
}

/** Views of `parts` (contiguous, from document offset 0) covering `[start, end)`. */
function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  for (const part of parts) {
    const partEnd = at + part.length
    if (partEnd > start && at < end) {
      out.push(part.subarray(Math.max(start - at, 0), Math.min(end - at, part.length)))
    }
    at = partEnd
    if (at >= end) break
  }
  return out
}

/** Whether two lists of views hold the same bytes (a Tracks element, split differently maybe). */
function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  const flat = (parts: readonly Uint8Array[]): Uint8Array =>
    parts.length === 1 ? parts[0]! : Uint8Array.from(parts.flatMap((part) => [...part]))
  const left = flat(a)
  const right = flat(b)
  if (left.length !== right.length) return false
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false
  return true
}

/** What the merger reads of a Cluster: its Timecode and its blocks' relative times and durations. */
interface ClusterTimes {
  timecode: number
  blocks: { time: number; track: number; duration?: number }[]
}

interface CuePoint {
  time: number
  track: number
  position: number
}

/**
 * Creates the fragment merger: GetMedia fragments (the parser's raw-mode `fragment` events, one Matroska
 * document each) in, one EBML header and one Segment out, the counterpart of the parser library's
 * `OutputSegmentMerger`. The first fragment's Tracks are written once, under a new Info (its TimecodeScale);
 * every Cluster is passed through unchanged with its own Timecode (as views of the fragment's bytes, valid as
 * long as those are), and the service's Tags elements are kept or dropped. `end()` writes Cues (one CuePoint
 * per Cluster); a seekable output also gets patches for the Segment size, a SeekHead to the Cues and the
 * Info/Duration, so players know the duration and can seek.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9559 Matroska
 * @see https://github.com/aws/amazon-kinesis-video-streams-parser-library (OutputSegmentMerger)
 */
export function createFragmentMerger(options: FragmentMergerOptions = {}): FragmentMerger {
  const {
    onTracksChange = 'new-segment',
    keepTags = true,
    seekable = false,
    writingApp = 'kvs-streams',
  } = options
  if (onTracksChange !== 'new-segment' && onTracksChange !== 'error') {
    throw new TypeError(`onTracksChange must be 'new-segment' or 'error', got ${String(onTracksChange)}`)
  }
  /** Bytes handed out so far: the output offset of the next byte. */
  let written = 0
  /** The segment being written (undefined before the first fragment and after `end()`). */
  let segment:
    | {
        /** Output offset of the Segment's size field. */
        sizeOffset: number
        /** Output offset of the Segment's first payload byte (SeekHead, Cue positions are relative to it). */
        dataOffset: number
        seekHeadOffset: number
        durationOffset: number
        timecodeScale: number
        tracks: Uint8Array[]
        cues: CuePoint[]
        /** Cue track: the first video track, else the first track. */
        cueTrack: number
        /** Earliest block time and latest block end seen, in TimecodeScale units. */
        first: number
        last: number
      }
    | undefined
  let ended = false

  const emit = (events: MergeEvent[], bytes: Uint8Array): void => {
    if (bytes.length === 0) return
    events.push({ type: 'data', bytes })
    written += bytes.length
  }

  const finishSegment = (events: MergeEvent[]): void => {
    if (segment === undefined) return
    const current = segment
    segment = undefined
    let cuesOffset: number | undefined
    if (current.cues.length > 0) {
      cuesOffset = written
      emit(
        events,
        writeElement(
          ElementId.Cues,
          current.cues.map((cue) =>
            writeElement(ElementId.CuePoint, [
              writeUint(ElementId.CueTime, cue.time),
              writeElement(ElementId.CueTrackPositions, [
                writeUint(ElementId.CueTrack, cue.track),
                writeUint(ElementId.CueClusterPosition, cue.position),
              ]),
            ]),
          ),
        ),
      )
    }
    if (!seekable) return
    events.push({ type: 'patch', offset: current.sizeOffset, bytes: size8(written - current.dataOffset) })
    if (cuesOffset !== undefined) {
      const position = new Uint8Array(8)
      new DataView(position.buffer).setBigUint64(0, BigInt(cuesOffset - current.dataOffset))
      const seekHead = writeElement(
        ElementId.SeekHead,
        writeElement(ElementId.Seek, [
          writeElement(ElementId.SeekID, encodeId(ElementId.Cues)),
          writeElement(ElementId.SeekPosition, position),
        ]),
      )
      events.push({ type: 'patch', offset: current.seekHeadOffset, bytes: seekHead })
    }
    if (current.last > current.first) {
      events.push({
        type: 'patch',
        offset: current.durationOffset,
        bytes: writeFloat(ElementId.Duration, current.last - current.first),
      })
    }
  }

  const startSegment = (events: MergeEvent[], fragment: MediaFragmentEvent, tracks: Uint8Array[]): void => {
    emit(events, writeEbmlHeader())
    emit(events, encodeId(ElementId.Segment))
    const sizeOffset = written
    emit(events, UNKNOWN_SIZE_8)
    const dataOffset = written
    const seekHeadOffset = written
    emit(events, voidElement(SEEK_HEAD_BYTES))
    const infoHead = [
      writeUint(ElementId.TimecodeScale, fragment.timecodeScale),
      writeString(ElementId.MuxingApp, writingApp),
      writeString(ElementId.WritingApp, writingApp),
    ]
    const info = writeElement(ElementId.Info, [...infoHead, voidElement(DURATION_BYTES)])
    const durationOffset = written + info.length - DURATION_BYTES
    emit(events, info)
    for (const part of tracks) emit(events, part)
    const video = fragment.tracks.find((track) => track.type === 1) ?? fragment.tracks[0]
    segment = {
      sizeOffset,
      dataOffset,
      seekHeadOffset,
      durationOffset,
      timecodeScale: fragment.timecodeScale,
      tracks,
      cues: [],
      cueTrack: video?.number ?? 1,
      first: Number.POSITIVE_INFINITY,
      last: Number.NEGATIVE_INFINITY,
    }
  }

  return {
    push(fragment) {
      if (ended) throw new FragmentMergeError('ERR_KVS_MERGE_ENDED', 'push() after end()')
      if (fragment.type !== 'fragment') return []
      const events: MergeEvent[] = []
      const parts = fragment.parts
      // Level-1 elements of the fragment's Segment: [id, start, end] in document offsets.
      const children: { id: number; start: number; end: number }[] = []
      /** Per Cluster: its Timecode, and the start/end of every block, in TimecodeScale units. */
      const clusterTimes = new Map<number, ClusterTimes>()
      let cluster: ClusterTimes | undefined
      let blockGroupDuration: number | undefined
      const reader = createEbmlReader({
        dataMode: (id) => (id === ElementId.SimpleBlock || id === ElementId.Block ? 'head' : 'data'),
      })
      const read = (list: ReturnType<typeof reader.push>): void => {
        for (const event of list) {
          if (event.depth === 1 && event.type === 'element-start') {
            if (event.id === ElementId.Cluster) {
              cluster = { timecode: 0, blocks: [] }
              clusterTimes.set(event.offset, cluster)
            }
          } else if (event.depth === 1 && event.type === 'element-end') {
            children.push({ id: event.id, start: event.offset, end: event.end })
          } else if (event.depth === 1 && event.type === 'element') {
            children.push({
              id: event.id,
              start: event.offset,
              end: event.offset + event.headerSize + event.size,
            })
          } else if (event.type === 'element' && cluster !== undefined) {
            if (event.id === ElementId.Timecode && event.depth === 2) cluster.timecode = readUint(event.data)
            else if (event.id === ElementId.SimpleBlock || event.id === ElementId.Block) {
              const header = readBlockHeader(event.data, event.id === ElementId.SimpleBlock)
              if (header !== undefined) cluster.blocks.push({ time: header.timecode, track: header.track })
            } else if (event.id === ElementId.BlockDuration) blockGroupDuration = readUint(event.data)
          } else if (
            event.type === 'element-end' &&
            event.id === ElementId.BlockGroup &&
            cluster !== undefined
          ) {
            const block = cluster.blocks.at(-1)
            if (block !== undefined && blockGroupDuration !== undefined) block.duration = blockGroupDuration
            blockGroupDuration = undefined
          }
        }
      }
      try {
        for (const part of parts) read(reader.push(part))
        read(reader.end())
      } catch (error) {
        throw new FragmentMergeError(
          'ERR_KVS_MERGE_BAD_FRAGMENT',
          'A fragment is not a valid Matroska document',
          {
            cause: error,
            fragmentNumber: fragment.fragmentNumber,
          },
        )
      }
      const tracksElement = children.find((child) => child.id === ElementId.Tracks)
      const tracks =
        tracksElement === undefined ? [] : sliceParts(parts, tracksElement.start, tracksElement.end)
      if (segment !== undefined && tracks.length > 0 && !sameBytes(tracks, segment.tracks)) {
        if (onTracksChange === 'error') {
          throw new FragmentMergeError(
            'ERR_KVS_MERGE_TRACKS_CHANGED',
            'The tracks changed between fragments',
            {
              fragmentNumber: fragment.fragmentNumber,
            },
          )
        }
        finishSegment(events)
      }
      if (segment === undefined) {
        if (tracks.length === 0) {
          throw new FragmentMergeError('ERR_KVS_MERGE_BAD_FRAGMENT', 'The first fragment has no Tracks', {
            fragmentNumber: fragment.fragmentNumber,
          })
        }
        startSegment(events, fragment, tracks)
      }
      const current = segment!
      const defaultDurations = new Map(
        fragment.tracks.map((track) => [
          track.number,
          track.defaultDurationNs === undefined ? undefined : track.defaultDurationNs / current.timecodeScale,
        ]),
      )
      for (const child of children) {
        if (child.id === ElementId.Cluster) {
          const times = clusterTimes.get(child.start)
          const timecode = times?.timecode ?? 0
          current.cues.push({
            time: timecode,
            track: current.cueTrack,
            position: written - current.dataOffset,
          })
          for (const block of times?.blocks ?? []) {
            const time = timecode + block.time
            const duration = block.duration ?? defaultDurations.get(block.track) ?? 0
            current.first = Math.min(current.first, time)
            current.last = Math.max(current.last, time + duration)
          }
          for (const view of sliceParts(parts, child.start, child.end)) emit(events, view)
        } else if (child.id === ElementId.Tags && keepTags) {
          for (const view of sliceParts(parts, child.start, child.end)) emit(events, view)
        }
      }
      return events
    },
    end() {
      if (ended) return []
      ended = true
      const events: MergeEvent[] = []
      finishSegment(events)
      return events
    },
  }
}
