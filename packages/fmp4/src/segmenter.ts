import { invalidOption, numberOption, positiveIntegerOption, renamedOption } from '@kvs-streams/core'
import type { TrackEntryInfo } from '@kvs-streams/ebml'
import { Fmp4Error } from './errors.ts'
import type { Fmp4Event, MediaSegmentRun } from './events.ts'
import { writeInitSegment } from './init-segment.ts'
import { splitLacedFrames } from './lacing.ts'
import { writeMediaSegment } from './media-segment.ts'
import { type BlockFrameEvent, type ClusterStartEvent, MkvReader, type MkvReaderEvent } from './mkv-reader.ts'
import { buildTrackRun, type Mp4Frame, type TrackRun } from './samples.ts'
import { type Mp4Track, mp4MimeType, mp4TrackOf } from './track.ts'

/** What the segmenter does when a fragment's tracks differ from the previous one's. */
export type TracksChangePolicy = 'init-segment' | 'error'

/** Options of {@link createFmp4Segmenter}. */
export interface Fmp4SegmenterOptions {
  /**
   * Matroska track numbers to write, in this order (HLS serves one track per playlist: `[1]`, `[2]`). Default:
   * every track of the input; a track this package cannot write fails with `ERR_KVS_FMP4_UNSUPPORTED_CODEC`.
   */
  tracks?: readonly number[]
  /**
   * The time (ms on the Matroska timeline) that decode time 0 stands for. Default: the earliest frame of the
   * first fragment, so the first segment starts at 0.
   */
  timeOriginMs?: number
  /** `mfhd.sequence_number` of the first media segment. Default 1. */
  firstSequenceNumber?: number
  /**
   * When a fragment's tracks (codec, CodecPrivate, picture size, sample rate) differ from the previous
   * fragment's: `'init-segment'` emits a new init segment before its media segment; `'error'` throws
   * `ERR_KVS_FMP4_TRACKS_CHANGED` (the service fails an HLS session then). Default `'init-segment'`.
   */
  onTracksChange?: TracksChangePolicy
  /**
   * Most frame bytes held for one fragment (its frames wait for the fragment's end), and the largest block.
   * A larger fragment fails with `ERR_KVS_FMP4_FRAGMENT_TOO_LARGE` as soon as it goes over. Default 64 MiB
   * (KVS fragments are at most 50 MB).
   */
  maxBufferedFragmentBytes?: number
  /**
   * The former name of `maxBufferedFragmentBytes`. Giving both with different values throws a `TypeError`.
   * @deprecated Use `maxBufferedFragmentBytes`.
   */
  maxFragmentBytes?: number
}

/** An incremental MKV → fragmented MP4 converter: bytes in, init and media segments out. */
export interface Fmp4Segmenter {
  /**
   * Takes the next chunk of Matroska bytes (a GetMedia body, a KVS fragment's header and Cluster, or any
   * MKV whose Clusters start at key frames) and returns the segments it completed. Frame data in
   * `media-segment` parts are views of the pushed chunks: do not reuse their memory while in use.
   * Fails with `Fmp4Error`/`EbmlError`: when the call completed segments before the problem, they are
   * returned and the error is thrown by the next call (`push()` or `end()`); otherwise it is thrown at once.
   * After an error every call throws it again.
   */
  push(chunk: Uint8Array): Fmp4Event[]
  /** Ends the input: completes the last fragment. Throws the parser's truncation error when cut short. */
  end(): Fmp4Event[]
}

const DEFAULT_MAX_FRAGMENT_BYTES = 64 * 1024 * 1024

/** The options that bound the frame bytes held for one fragment, under their current and former names. */
export interface BufferedFragmentBytesOptions {
  maxBufferedFragmentBytes?: number
  /** @deprecated Use `maxBufferedFragmentBytes`. */
  maxFragmentBytes?: number
}

/** `maxBufferedFragmentBytes` (or its former name `maxFragmentBytes`), checked; 64 MiB when neither is given. */
export function bufferedFragmentBytesOption(options: BufferedFragmentBytesOptions): number {
  const { maxBufferedFragmentBytes, maxFragmentBytes } = options
  return positiveIntegerOption(
    maxBufferedFragmentBytes === undefined && maxFragmentBytes !== undefined
      ? 'maxFragmentBytes'
      : 'maxBufferedFragmentBytes',
    renamedOption('maxBufferedFragmentBytes', maxBufferedFragmentBytes, 'maxFragmentBytes', maxFragmentBytes),
    DEFAULT_MAX_FRAGMENT_BYTES,
  )
}

/**
 * Creates a segmenter: each Matroska Cluster (one KVS fragment) becomes one fragmented-MP4 media segment
 * (`moof` + `mdat`) holding the selected tracks, after an init segment (`ftyp` + `moov`) whenever the
 * tracks appear or change. Decode times count from `timeOriginMs` in each track's timescale (90 kHz video,
 * the sample rate for audio), so consecutive fragments continue one another; B-frame reordering becomes
 * composition offsets. It reads GetMedia bodies (one document per fragment; the KVS tags before each
 * Cluster are reported on its segment) and plain MKV files alike.
 * @see ISO/IEC 14496-12 §8.8 (movie fragments)
 * @see https://www.rfc-editor.org/rfc/rfc9559 Matroska
 */
export function createFmp4Segmenter(options: Fmp4SegmenterOptions = {}): Fmp4Segmenter {
  return new Segmenter(options)
}

/** The frames of one fragment, per selected track, and what the segment needs to know about it. */
interface PendingFragment {
  start: ClusterStartEvent
  /** Frames per selected track number, in block order. */
  frames: Map<number, Mp4Frame[]>
  /** Frame bytes held (checked against `maxBufferedFragmentBytes`). */
  bytes: number
}

class Segmenter implements Fmp4Segmenter {
  readonly #reader: MkvReader
  readonly #selected: readonly number[] | undefined
  readonly #onTracksChange: TracksChangePolicy
  readonly #maxFragmentBytes: number
  /** The time that decode time 0 stands for; set from the first fragment unless given. */
  #origin: number | undefined
  #sequence: number
  /** The tracks of the last init segment (`undefined` before the first fragment). */
  #tracks: Mp4Track[] | undefined
  /** The same, by track id. */
  #byId = new Map<number, Mp4Track>()
  /** The TrackEntries `#tracks` were made from, to skip re-reading unchanged ones. */
  #entries: TrackEntryInfo[] | undefined
  /** The fragment whose frames are being collected. */
  #pending: PendingFragment | undefined
  /** Last sample duration per track: the fallback for a fragment whose last frame has no known duration. */
  readonly #lastDurations = new Map<number, number>()
  #failed: unknown

  constructor(options: Fmp4SegmenterOptions) {
    if (options.tracks !== undefined) {
      if (
        !Array.isArray(options.tracks) ||
        options.tracks.length === 0 ||
        !options.tracks.every((n) => Number.isInteger(n) && n > 0)
      )
        throw invalidOption('tracks', 'a non-empty array of track numbers', options.tracks)
    }
    if (options.timeOriginMs !== undefined)
      numberOption('timeOriginMs', options.timeOriginMs, 'a finite number')
    const policy = options.onTracksChange ?? 'init-segment'
    if (policy !== 'init-segment' && policy !== 'error')
      throw invalidOption('onTracksChange', "'init-segment' or 'error'", policy)
    this.#selected = options.tracks
    this.#onTracksChange = policy
    this.#origin = options.timeOriginMs
    this.#sequence = positiveIntegerOption('firstSequenceNumber', options.firstSequenceNumber, 1)
    this.#maxFragmentBytes = bufferedFragmentBytesOption(options)
    this.#reader = new MkvReader({
      maxBlockBytes: this.#maxFragmentBytes,
      maxElementBytes: Math.min(this.#maxFragmentBytes, 16 * 1024 * 1024),
    })
  }

  push(chunk: Uint8Array): Fmp4Event[] {
    return this.#run(() => this.#reader.push(chunk))
  }

  end(): Fmp4Event[] {
    return this.#run(() => this.#reader.end())
  }

  #run(step: () => MkvReaderEvent[]): Fmp4Event[] {
    if (this.#failed !== undefined) throw this.#failed
    const out: Fmp4Event[] = []
    try {
      for (const event of step()) this.#handle(event, out)
    } catch (error) {
      // Every later call throws the first error; the events completed before it are returned by this call
      // (the error comes from the next one), or, with none, it is thrown at once.
      this.#failed = error
      if (out.length === 0) throw error
    }
    return out
  }

  #handle(event: MkvReaderEvent, out: Fmp4Event[]): void {
    if (event.type === 'frame') this.#frame(event)
    else if (event.type === 'cluster-start') this.#start(event, out)
    else this.#finish(out)
  }

  #start(event: ClusterStartEvent, out: Fmp4Event[]): void {
    const numbers = this.#selected ?? event.tracks.map((track) => track.number)
    const entries = numbers.map((number) => {
      const entry = event.tracks.find((track) => track.number === number)
      if (entry === undefined) {
        throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', `the input has no track ${number}`, {
          trackNumber: number,
        })
      }
      return entry
    })
    if (entries.length === 0) throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', 'the input declares no track')
    // Every GetMedia document repeats Tracks: describe them again only when their entries changed.
    if (this.#entries === undefined || !sameEntries(this.#entries, entries)) {
      const tracks = entries.map(mp4TrackOf)
      this.#entries = entries
      if (this.#tracks === undefined || !sameTracks(this.#tracks, tracks)) {
        if (this.#tracks !== undefined && this.#onTracksChange === 'error') {
          throw new Fmp4Error(
            'ERR_KVS_FMP4_TRACKS_CHANGED',
            `the tracks changed at fragment ${event.fragmentNumber ?? `#${this.#sequence}`}: ${describeTracks(this.#tracks)} became ${describeTracks(tracks)}`,
          )
        }
        this.#tracks = tracks
        this.#byId = new Map(tracks.map((track) => [track.id, track]))
        out.push({
          type: 'init-segment',
          data: writeInitSegment(tracks),
          tracks,
          mimeType: mp4MimeType(tracks),
        })
      }
    }
    this.#pending = {
      start: event,
      frames: new Map(this.#tracks!.map((track) => [track.id, []])),
      bytes: 0,
    }
  }

  #frame(event: BlockFrameEvent): void {
    const pending = this.#pending
    const list = pending?.frames.get(event.track)
    if (pending === undefined || list === undefined) return
    pending.bytes += event.data.length
    if (pending.bytes > this.#maxFragmentBytes) {
      throw new Fmp4Error(
        'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE',
        `fragment ${pending.start.fragmentNumber ?? `#${this.#sequence}`} holds more than maxBufferedFragmentBytes (${this.#maxFragmentBytes}) of frames`,
        { trackNumber: event.track },
      )
    }
    appendFrames(list, event, this.#byId.get(event.track))
  }

  #finish(out: Fmp4Event[]): void {
    const pending = this.#pending
    this.#pending = undefined
    if (pending === undefined) return
    let origin = this.#origin
    if (origin === undefined) {
      origin = Number.POSITIVE_INFINITY
      for (const frames of pending.frames.values())
        for (const frame of frames) if (frame.timestampMs < origin) origin = frame.timestampMs
      if (origin === Number.POSITIVE_INFINITY) return // A fragment without frames of the selected tracks.
      this.#origin = origin
    }
    const runs: TrackRun[] = []
    for (const track of this.#tracks!) {
      const frames = pending.frames.get(track.id)!
      if (frames.length === 0) continue
      const run = buildTrackRun(track, frames, {
        timeOriginMs: origin,
        fallbackDuration: this.#lastDurations.get(track.id),
      })
      this.#lastDurations.set(track.id, run.samples[run.samples.length - 1]!.duration)
      runs.push(run)
    }
    if (runs.length === 0) return
    const segment = writeMediaSegment(this.#sequence, runs)
    out.push({
      type: 'media-segment',
      parts: segment.parts,
      byteLength: segment.byteLength,
      sequenceNumber: this.#sequence,
      fragmentNumber: pending.start.fragmentNumber,
      producerTimestampMs: pending.start.producerTimestampMs,
      serverTimestampMs: pending.start.serverTimestampMs,
      startMs: origin + Math.min(...runs.map((run) => (run.baseDecodeTime * 1000) / run.track.timescale)),
      durationMs: Math.max(...runs.map((run) => (run.duration * 1000) / run.track.timescale)),
      keyframe: runs.find((run) => run.track.kind === 'video')?.samples[0]?.keyframe ?? true,
      runs: runs.map(
        (run): MediaSegmentRun => ({
          trackId: run.track.id,
          baseDecodeTime: run.baseDecodeTime,
          duration: run.duration,
          sampleCount: run.samples.length,
        }),
      ),
    })
    this.#sequence++
  }
}

/**
 * Adds a block's frames to a track's list: one frame, or each frame of a laced block, spaced by the AAC
 * frame length (audio), else the block duration shared out, else the track's DefaultDuration.
 */
export function appendFrames(list: Mp4Frame[], event: BlockFrameEvent, track: Mp4Track | undefined): void {
  if (event.lacing === 'none') {
    // The event has every field of a frame: keep it rather than make another object per frame.
    list.push(event)
    return
  }
  const frames = splitLacedFrames(event.data, event.lacing, event.track)
  const step =
    track !== undefined && track.kind === 'audio' && track.frameLength > 0
      ? (track.frameLength * 1000) / track.sampleRate
      : event.durationMs !== undefined
        ? event.durationMs / frames.length
        : (track?.defaultDurationMs ?? 0)
  frames.forEach((data, index) => {
    list.push({
      timestampMs: event.timestampMs + index * step,
      data,
      keyframe: event.keyframe && index === 0,
      durationMs: step > 0 ? step : undefined,
    })
  })
}

function sameTracks(a: readonly Mp4Track[], b: readonly Mp4Track[]): boolean {
  return (
    a.length === b.length &&
    a.every((track, i) => {
      const other = b[i]!
      return (
        track.id === other.id &&
        track.codecId === other.codecId &&
        track.width === other.width &&
        track.height === other.height &&
        track.sampleRate === other.sampleRate &&
        track.channels === other.channels &&
        sameBytes(track.codecPrivate, other.codecPrivate)
      )
    })
  )
}

function sameEntries(a: readonly TrackEntryInfo[], b: readonly TrackEntryInfo[]): boolean {
  return (
    a.length === b.length &&
    a.every((entry, i) => {
      const other = b[i]!
      return (
        entry.number === other.number &&
        entry.codecId === other.codecId &&
        entry.width === other.width &&
        entry.height === other.height &&
        entry.samplingFrequency === other.samplingFrequency &&
        entry.channels === other.channels &&
        entry.defaultDurationNs === other.defaultDurationNs &&
        (entry.codecPrivate === other.codecPrivate ||
          (entry.codecPrivate !== undefined &&
            other.codecPrivate !== undefined &&
            sameBytes(entry.codecPrivate, other.codecPrivate)))
      )
    })
  )
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function describeTracks(tracks: readonly Mp4Track[]): string {
  return tracks
    .map(
      (track) =>
        `${track.id}:${track.codecString}${track.kind === 'video' ? ` ${track.width}x${track.height}` : ''}`,
    )
    .join(', ')
}
