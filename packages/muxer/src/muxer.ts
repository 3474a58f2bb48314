import type { ChunkerFragmentEvent, TrackInfo } from '@kvs-streams/chunker'
import { invalidOption, numberOption } from '@kvs-streams/core'
import { type ClusterBlock, simpleBlockSize, writeCluster } from './cluster-writer.ts'
import { MuxerError } from './errors.ts'
import type { MuxerEvent } from './events.ts'
import { type MuxerTrack, resolveTracks, writeHeader } from './header-writer.ts'

/** Options of `createMuxer` and its adapters. */
export interface MuxerOptions {
  /** The tracks, declared up front (at most 3, a KVS limit). */
  tracks: readonly MuxerTrack[]
  /**
   * A new fragment (Cluster) starts at the first video key frame at least this long after the current one's
   * start, ms. Default 2,000, as the KVS producer SDKs.
   */
  targetFragmentDurationMs?: number
  /**
   * Longest fragment, ms (KVS refuses longer ones with ErrorId 4002). A fragment that would grow longer is cut
   * at an earlier key frame inside it; with none, `ERR_KVS_MUXER_FRAGMENT_TOO_LONG`. Default 10,000; at most
   * 32,767 timecode units (block timecodes are signed 16-bit).
   */
  maxFragmentDurationMs?: number
  /** Largest fragment, bytes (KVS refuses larger ones with ErrorId 4001). Default 50,000,000. */
  maxFragmentBytes?: number
  /** Nanoseconds per timecode unit (Info/TimecodeScale). Default 1,000,000: timecodes in milliseconds. */
  timecodeScale?: number
  /** Most bytes of frames held before `ERR_KVS_MUXER_BUFFER_FULL`. Default 128 MiB. */
  maxBufferedBytes?: number
  /**
   * How far the video may run ahead of another track that sends nothing before a fragment is closed
   * without waiting for that track's frames (which are then dropped if they come), ms. Default 10,000.
   */
  maxInterleaveDelayMs?: number
  /** Info/Title. Default: none. */
  title?: string
  /** Info/WritingApp. Default `kvs-streams`. */
  writingApp?: string
}

/**
 * One frame for the muxer. The Annex-B and ADTS parsers' `frame` events have these fields but the track:
 * `muxer.push({ ...frame, track: 1 })`.
 */
export interface MuxerFrame {
  /** The TrackNumber of a declared track. */
  track: number
  /** Presentation time, ms (>= 0): the block's timecode. */
  pts: number
  /** Decoding time, ms: frames of a track must come in decoding order. Default `pts`. */
  dts?: number | undefined
  /** A key frame (an IDR/IRAP video frame; every audio frame). */
  keyframe: boolean
  /** The frame's bytes: one array, or parts in order (kept as they are until the fragment is emitted). */
  data: Uint8Array | readonly Uint8Array[]
}

/**
 * An incremental muxer: frames in, KVS-ready Matroska out, as the chunker emits it: a `header` event
 * (EBML header, Segment, Info, Tracks) then one `fragment` event per Cluster. Each Cluster starts with a
 * video key frame, lasts at least `targetFragmentDurationMs` when the key frames allow, and never more than
 * the service's limits; a fragment's first frame comes after the previous fragment's frames.
 */
export interface Muxer {
  /**
   * Takes a frame; returns the events it completed. The frame's bytes are kept (not copied) until its
   * fragment is emitted. Throws `MuxerError` (after events completed in the same call, they are returned
   * and the error is thrown by the next call) or `TypeError` for a malformed frame; after an error every
   * call throws that error again.
   */
  push(frame: MuxerFrame): MuxerEvent[]
  /** Declares that a track sends no more frames, so fragments stop waiting for it. */
  endTrack(track: number): MuxerEvent[]
  /** Ends the input: emits the fragments still held. */
  end(): MuxerEvent[]
  /** Bytes of frames held. */
  readonly bufferedBytes: number
  /**
   * Frames left out: before the first video key frame, or of another track later than a fragment closed
   * without waiting for it (`maxInterleaveDelayMs`).
   */
  readonly droppedFrames: number
}

/**
 * Creates a muxer. @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 * @see https://www.rfc-editor.org/rfc/rfc9559
 */
export function createMuxer(options: MuxerOptions): Muxer {
  return new FrameMuxer(options)
}

/** A frame held by the muxer. */
interface Entry {
  track: number
  /** Presentation time, timecode units. */
  time: number
  /** Decoding time, ms: the order blocks are written in. */
  dts: number
  /** Arrival order, to keep the order of equal decoding times. */
  seq: number
  keyframe: boolean
  data: Uint8Array | readonly Uint8Array[]
  byteLength: number
  /** Bytes of its SimpleBlock. */
  blockBytes: number
}

/** A fragment being assembled: it starts at a key frame of the video (the "cut" track). */
interface Pending {
  /** Time of its first video key frame, timecode units: the Cluster timecode. */
  start: number
  /** Video frames in decoding order, the first a key frame. */
  frames: Entry[]
  /** Frames of the other tracks with start <= time < the next fragment's start. */
  followers: Entry[]
  /** Indices in `frames` of the key frames after the first: where the fragment can be cut if it grows too long. */
  keys: number[]
  /** Earliest time and latest end of the video frames, ms. */
  minMs: number
  maxEndMs: number
  /** Bytes of its blocks. */
  bytes: number
}

/** Bytes a Cluster adds besides its blocks: id, 8-byte size, Timecode element. */
const CLUSTER_OVERHEAD = 4 + 8 + 2 + 8

class FrameMuxer implements Muxer {
  readonly #tracks: TrackInfo[]
  readonly #byNumber = new Map<number, TrackInfo>()
  /** The track whose key frames start fragments: the first video track, else the first track. */
  readonly #cutTrack: number
  readonly #scale: number
  /** ms per timecode unit. */
  readonly #unitMs: number
  readonly #targetUnits: number
  readonly #maxDurationMs: number
  readonly #maxFragmentBytes: number
  readonly #maxBufferedBytes: number
  readonly #interleaveUnits: number
  readonly #header: Uint8Array

  #headerEmitted = false
  /** Fragments not emitted yet, oldest first; the last one takes the video frames. */
  #pending: Pending[] = []
  /** Frames of other tracks that came before the first video key frame. */
  #early: Entry[] = []
  /** Per track: latest decoding time, ms, and whether it has ended. */
  readonly #lastDts = new Map<number, number>()
  readonly #ended = new Set<number>()
  /** Latest presentation time of the video, units: other tracks are not waited for far behind it. */
  #cutLatest = Number.NEGATIVE_INFINITY
  #seq = 0
  #bufferedBytes = 0
  #dropped = 0
  #fragmentIndex = 0
  /** Output bytes so far: the next fragment's offset. */
  #outputOffset = 0
  /** Latest frame time of the previous fragment, ms: the next one must start after it (ErrorId 4004). */
  #previousMaxMs = Number.NEGATIVE_INFINITY
  #failed: unknown
  #hasFailed = false

  constructor(options: MuxerOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
    this.#tracks = resolveTracks(options.tracks)
    for (const track of this.#tracks) this.#byNumber.set(track.number, track)
    this.#cutTrack = (this.#tracks.find((track) => track.type === 1) ?? this.#tracks[0]!).number
    const scale = options.timecodeScale ?? 1_000_000
    if (!Number.isSafeInteger(scale) || scale <= 0)
      throw invalidOption('timecodeScale', 'a positive integer', scale)
    this.#scale = scale
    this.#unitMs = scale / 1_000_000
    const target = positive('targetFragmentDurationMs', options.targetFragmentDurationMs, 2_000, true)
    this.#targetUnits = target / this.#unitMs
    const max = positive('maxFragmentDurationMs', options.maxFragmentDurationMs, 10_000)
    if (max / this.#unitMs > 32767) {
      throw invalidOption(
        'maxFragmentDurationMs',
        `at most 32767 timecode units (${Number((32767 * this.#unitMs).toFixed(6))} ms with this timecodeScale)`,
        max,
      )
    }
    this.#maxDurationMs = max
    this.#maxFragmentBytes = positive('maxFragmentBytes', options.maxFragmentBytes, 50_000_000)
    this.#maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 128 * 1024 * 1024)
    this.#interleaveUnits =
      positive('maxInterleaveDelayMs', options.maxInterleaveDelayMs, 10_000, true) / this.#unitMs
    if (options.title !== undefined && typeof options.title !== 'string') {
      throw invalidOption('title', 'a string', options.title)
    }
    const writingApp = options.writingApp ?? 'kvs-streams'
    if (typeof writingApp !== 'string') throw invalidOption('writingApp', 'a string', writingApp)
    this.#header = writeHeader(this.#tracks, { timecodeScale: scale, title: options.title, writingApp })
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes
  }

  get droppedFrames(): number {
    return this.#dropped
  }

  push(frame: MuxerFrame): MuxerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const entry = this.#entry(frame)
    return this.#run((out) => this.#add(entry, out))
  }

  endTrack(track: number): MuxerEvent[] {
    if (this.#hasFailed) throw this.#failed
    if (!this.#byNumber.has(track)) {
      throw new MuxerError('ERR_KVS_MUXER_UNKNOWN_TRACK', `track ${track} is not declared`, { track })
    }
    return this.#run((out) => {
      this.#ended.add(track)
      this.#emitReady(out)
    })
  }

  end(): MuxerEvent[] {
    return this.#run((out) => {
      for (const track of this.#tracks) this.#ended.add(track.number)
      for (const early of this.#early) this.#drop(early)
      this.#early = []
      while (this.#pending.length > 0) this.#emit(this.#pending.shift()!, out)
    })
  }

  #run(step: (out: MuxerEvent[]) => void): MuxerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: MuxerEvent[] = []
    if (!this.#headerEmitted) {
      this.#headerEmitted = true
      this.#outputOffset = this.#header.length
      out.push({
        type: 'header',
        bytes: this.#header,
        timecodeScale: this.#scale,
        tracks: this.#tracks.map((track) => ({ ...track })),
      })
    }
    try {
      step(out)
    } catch (error) {
      // Sticky; the events completed before the error are returned, the error comes from the next call.
      this.#hasFailed = true
      this.#failed = error
      if (out.length === 0) throw error
      return out
    }
    return out
  }

  /**
   * Checks a frame before anything changes: a malformed one throws `TypeError`, an undeclared track
   * `ERR_KVS_MUXER_UNKNOWN_TRACK`, and the muxer goes on as if it had not been pushed.
   */
  #entry(frame: MuxerFrame): Entry {
    if (typeof frame !== 'object' || frame === null) throw invalidOption('frame', 'a frame object', frame)
    const track = frame.track
    if (!this.#byNumber.has(track)) {
      throw new MuxerError('ERR_KVS_MUXER_UNKNOWN_TRACK', `frame of track ${track}, which is not declared`, {
        track,
      })
    }
    const { pts, data } = frame
    const dts = frame.dts ?? pts
    if (typeof pts !== 'number' || !Number.isFinite(pts) || pts < 0) {
      throw invalidOption('frame.pts', 'a finite number >= 0 (ms)', pts)
    }
    if (typeof dts !== 'number' || !Number.isFinite(dts))
      throw invalidOption('frame.dts', 'a finite number (ms)', dts)
    let byteLength = 0
    if (data instanceof Uint8Array) byteLength = data.length
    else if (Array.isArray(data)) {
      for (const part of data) {
        if (!(part instanceof Uint8Array))
          throw invalidOption('frame.data', 'a Uint8Array or an array of them', data)
        byteLength += part.length
      }
    } else throw invalidOption('frame.data', 'a Uint8Array or an array of them', data)
    return {
      track,
      time: Math.round(pts / this.#unitMs),
      dts,
      seq: this.#seq++,
      keyframe: frame.keyframe === true,
      data,
      byteLength,
      blockBytes: simpleBlockSize(track, byteLength),
    }
  }

  #add(entry: Entry, out: MuxerEvent[]): void {
    const track = entry.track
    if (this.#ended.has(track)) {
      throw new MuxerError(
        'ERR_KVS_MUXER_INVALID_FRAME',
        `frame of track ${track} after endTrack(${track})`,
        {
          track,
        },
      )
    }
    const last = this.#lastDts.get(track)
    if (last !== undefined && entry.dts < last) {
      throw new MuxerError(
        'ERR_KVS_MUXER_TIMESTAMP_ORDER',
        `track ${track}: decoding time ${entry.dts} ms after ${last} ms; frames must come in decoding order`,
        { track },
      )
    }
    this.#lastDts.set(track, entry.dts)
    this.#bufferedBytes += entry.byteLength
    if (track === this.#cutTrack) this.#addCut(entry)
    else this.#addFollower(entry)
    this.#checkBuffered()
    this.#emitReady(out)
  }

  #drop(entry: Entry): void {
    this.#dropped++
    this.#bufferedBytes -= entry.byteLength
  }

  #checkBuffered(): void {
    if (this.#bufferedBytes > this.#maxBufferedBytes) {
      throw new MuxerError(
        'ERR_KVS_MUXER_BUFFER_FULL',
        `${this.#bufferedBytes} bytes of frames held, over maxBufferedBytes (${this.#maxBufferedBytes}): a track is far behind the others`,
      )
    }
  }

  #durationOf(entry: Entry): number {
    const ns = this.#byNumber.get(entry.track)!.defaultDurationNs
    return ns === undefined ? 0 : ns / 1_000_000
  }

  #addCut(entry: Entry): void {
    if (entry.time > this.#cutLatest) this.#cutLatest = entry.time
    const pending = this.#pending
    if (pending.length === 0) {
      if (!entry.keyframe) {
        this.#drop(entry)
        return
      }
      const first = this.#newPending(entry)
      pending.push(first)
      for (const early of this.#early) {
        if (early.time >= entry.time) this.#place(first, early)
        else this.#drop(early)
      }
      this.#early = []
      return
    }
    let open = pending[pending.length - 1]!
    if (entry.keyframe && (entry.time - open.start >= this.#targetUnits || this.#overflows(open, entry))) {
      pending.push(this.#cutAt(open, entry))
      return
    }
    if (this.#overflows(open, entry)) {
      while (this.#overflows(open, entry)) {
        const key = open.keys[open.keys.length - 1]
        if (key === undefined) throw this.#tooBig(open, entry)
        const second = this.#split(open, key)
        pending.push(second)
        open = second
      }
    }
    if (entry.keyframe) open.keys.push(open.frames.length)
    this.#put(open, entry)
  }

  /** Whether adding a video frame would make the fragment longer or larger than the limits. */
  #overflows(open: Pending, entry: Entry): boolean {
    const timeMs = entry.time * this.#unitMs
    const minMs = Math.min(open.minMs, timeMs)
    const maxEndMs = Math.max(open.maxEndMs, timeMs + this.#durationOf(entry))
    const relative = entry.time - open.start
    return (
      maxEndMs - minMs > this.#maxDurationMs ||
      relative > 32767 ||
      relative < -32768 ||
      open.bytes + entry.blockBytes + CLUSTER_OVERHEAD > this.#maxFragmentBytes
    )
  }

  #tooBig(open: Pending, entry: Entry): MuxerError {
    const startMs = open.start * this.#unitMs
    const timeMs = entry.time * this.#unitMs
    if (open.bytes + entry.blockBytes + CLUSTER_OVERHEAD > this.#maxFragmentBytes) {
      return new MuxerError(
        'ERR_KVS_MUXER_FRAGMENT_TOO_LARGE',
        `the fragment from the key frame at ${startMs} ms would exceed maxFragmentBytes (${this.#maxFragmentBytes}) at the frame at ${timeMs} ms, with no key frame to cut at: send key frames more often`,
        { track: entry.track, errorId: 4001 },
      )
    }
    return new MuxerError(
      'ERR_KVS_MUXER_FRAGMENT_TOO_LONG',
      `no key frame from ${startMs} ms to the frame at ${timeMs} ms: a fragment would exceed maxFragmentDurationMs (${this.#maxDurationMs} ms); send key frames more often (a shorter GOP), or the timestamps jump`,
      { track: entry.track, errorId: 4002 },
    )
  }

  #newPending(key: Entry): Pending {
    const pending: Pending = {
      start: key.time,
      frames: [],
      followers: [],
      keys: [],
      minMs: Number.POSITIVE_INFINITY,
      maxEndMs: Number.NEGATIVE_INFINITY,
      bytes: 0,
    }
    this.#put(pending, key)
    return pending
  }

  /** Adds a video frame to a fragment. */
  #put(pending: Pending, entry: Entry): void {
    pending.frames.push(entry)
    const timeMs = entry.time * this.#unitMs
    if (timeMs < pending.minMs) pending.minMs = timeMs
    const endMs = timeMs + this.#durationOf(entry)
    if (endMs > pending.maxEndMs) pending.maxEndMs = endMs
    pending.bytes += entry.blockBytes
  }

  /** Adds a frame of another track to a fragment. */
  #place(pending: Pending, entry: Entry): void {
    pending.followers.push(entry)
    pending.bytes += entry.blockBytes
  }

  /** Starts a new fragment at the key frame `entry`: frames of other tracks from its time on move to it. */
  #cutAt(open: Pending, entry: Entry): Pending {
    const next = this.#newPending(entry)
    this.#moveFollowers(open, next)
    return next
  }

  /** Splits `pending` at its video frame `index` (a key frame): the second part is returned. */
  #split(pending: Pending, index: number): Pending {
    const frames = pending.frames.splice(index)
    pending.keys = pending.keys.filter((key) => key < index)
    const second = this.#newPending(frames[0]!)
    for (let i = 1; i < frames.length; i++) {
      const frame = frames[i]!
      if (frame.keyframe) second.keys.push(second.frames.length)
      this.#put(second, frame)
    }
    // The first part's video figures, recomputed without the frames that moved.
    pending.minMs = Number.POSITIVE_INFINITY
    pending.maxEndMs = Number.NEGATIVE_INFINITY
    pending.bytes = 0
    for (const frame of pending.frames) {
      const timeMs = frame.time * this.#unitMs
      pending.minMs = Math.min(pending.minMs, timeMs)
      pending.maxEndMs = Math.max(pending.maxEndMs, timeMs + this.#durationOf(frame))
      pending.bytes += frame.blockBytes
    }
    for (const follower of pending.followers) pending.bytes += follower.blockBytes
    this.#moveFollowers(pending, second)
    return second
  }

  /** Moves the frames of other tracks at or after `to.start` from `from` to `to`. */
  #moveFollowers(from: Pending, to: Pending): void {
    const kept: Entry[] = []
    for (const follower of from.followers) {
      if (follower.time >= to.start) {
        to.followers.push(follower)
        to.bytes += follower.blockBytes
        from.bytes -= follower.blockBytes
      } else kept.push(follower)
    }
    from.followers = kept
  }

  #addFollower(entry: Entry): void {
    const pending = this.#pending
    if (pending.length === 0) {
      this.#early.push(entry)
      return
    }
    for (let i = pending.length - 1; i >= 0; i--) {
      if (entry.time >= pending[i]!.start) {
        this.#place(pending[i]!, entry)
        return
      }
    }
    // Earlier than every fragment held: before the first key frame, or after its fragment was emitted.
    this.#drop(entry)
  }

  /** Emits the fragments, oldest first, whose every frame has come: each other track has passed their end. */
  #emitReady(out: MuxerEvent[]): void {
    const pending = this.#pending
    while (pending.length > 1 && this.#complete(pending[1]!.start)) this.#emit(pending.shift()!, out)
  }

  /** Whether no frame earlier than `end` (timecode units) can still come from a track other than the video. */
  #complete(end: number): boolean {
    if (this.#cutLatest >= end + this.#interleaveUnits) return true
    for (const track of this.#tracks) {
      const number = track.number
      if (number === this.#cutTrack || this.#ended.has(number)) continue
      const last = this.#lastDts.get(number)
      if (last === undefined || Math.round(last / this.#unitMs) < end) return false
    }
    return true
  }

  #emit(pending: Pending, out: MuxerEvent[]): void {
    // Other tracks can make a fragment longer than the video alone: cut it at an inner key frame then.
    const parts = [pending]
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i]!
      while (this.#tooLong(part)) {
        const key = part.keys[part.keys.length - 1]
        if (key === undefined) break
        const second = this.#split(part, key)
        parts.splice(i + 1, 0, second)
        part = parts[i]!
      }
    }
    for (const part of parts) this.#write(part, out)
  }

  #tooLong(pending: Pending): boolean {
    const { minMs, maxEndMs } = this.#span(pending)
    return maxEndMs - minMs > this.#maxDurationMs || pending.bytes + CLUSTER_OVERHEAD > this.#maxFragmentBytes
  }

  /** Earliest time and latest end over all of a fragment's frames, ms. */
  #span(pending: Pending): { minMs: number; maxEndMs: number } {
    let minMs = pending.minMs
    let maxEndMs = pending.maxEndMs
    for (const follower of pending.followers) {
      const timeMs = follower.time * this.#unitMs
      if (timeMs < minMs) minMs = timeMs
      const endMs = timeMs + this.#durationOf(follower)
      if (endMs > maxEndMs) maxEndMs = endMs
    }
    return { minMs, maxEndMs }
  }

  #write(pending: Pending, out: MuxerEvent[]): void {
    const key = pending.frames[0]!
    const others = pending.frames.slice(1).concat(pending.followers)
    // Decoding order across tracks (at equal times the video first, then by track number, so the bytes do not
    // depend on which track's frame came first); the video key frame always first (KVS starts a fragment with it).
    const cut = this.#cutTrack
    others.sort(
      (a, b) =>
        a.dts - b.dts ||
        (a.track === b.track
          ? a.seq - b.seq
          : a.track === cut
            ? -1
            : b.track === cut
              ? 1
              : a.track - b.track),
    )
    const entries = [key, ...others]
    const { minMs, maxEndMs } = this.#span(pending)
    const index = this.#fragmentIndex
    if (maxEndMs - minMs > this.#maxDurationMs) {
      throw new MuxerError(
        'ERR_KVS_MUXER_FRAGMENT_TOO_LONG',
        `fragment ${index} would last ${maxEndMs - minMs} ms, over maxFragmentDurationMs (${this.#maxDurationMs} ms), with no key frame to cut at`,
        { track: this.#cutTrack, errorId: 4002 },
      )
    }
    const firstMs = key.time * this.#unitMs
    if (firstMs <= this.#previousMaxMs) {
      throw new MuxerError(
        'ERR_KVS_MUXER_TIMESTAMP_ORDER',
        `fragment ${index} would start at ${firstMs} ms, not after the previous fragment's last frame at ${this.#previousMaxMs} ms (KVS ErrorId 4004)`,
        { track: this.#cutTrack, errorId: 4004 },
      )
    }
    const blocks: ClusterBlock[] = new Array(entries.length)
    const tracks = new Set<number>()
    let maxMs = Number.NEGATIVE_INFINITY
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      blocks[i] = {
        track: entry.track,
        timecode: entry.time,
        keyframe: entry.keyframe,
        data: entry.data,
        byteLength: entry.byteLength,
      }
      tracks.add(entry.track)
      const timeMs = entry.time * this.#unitMs
      if (timeMs > maxMs) maxMs = timeMs
      this.#bufferedBytes -= entry.byteLength
    }
    const cluster = writeCluster(pending.start, blocks)
    if (cluster.byteLength > this.#maxFragmentBytes) {
      throw new MuxerError(
        'ERR_KVS_MUXER_FRAGMENT_TOO_LARGE',
        `fragment ${index} would be ${cluster.byteLength} bytes, over maxFragmentBytes (${this.#maxFragmentBytes}), with no key frame to cut at`,
        { track: this.#cutTrack, errorId: 4001 },
      )
    }
    this.#previousMaxMs = maxMs
    this.#fragmentIndex++
    const fragment: ChunkerFragmentEvent = {
      type: 'fragment',
      index,
      timecode: pending.start,
      startMs: minMs,
      endMs: maxEndMs,
      durationMs: maxEndMs - minMs,
      byteLength: cluster.byteLength,
      parts: cluster.parts,
      offset: this.#outputOffset,
      keyframe: key.keyframe,
      tracks: [...tracks].sort((a, b) => a - b),
      blockCount: entries.length,
    }
    this.#outputOffset += cluster.byteLength
    out.push(fragment)
  }
}

function positive(name: string, value: number | undefined, fallback: number, zero = false): number {
  if (value === undefined) return fallback
  return numberOption(
    name,
    value,
    zero ? 'a number >= 0' : 'a positive number',
    zero ? { min: 0 } : { above: 0 },
  )
}
