import { invalidOption } from '@kvs-streams/core'
import { type AdtsParser, createAdtsParser } from './adts-parser.ts'
import { type AnnexBParser, createAnnexBParser } from './annexb-parser.ts'
import { MuxerError } from './errors.ts'
import type { AudioConfigEvent, FrameEvent, MuxerEvent, VideoConfigEvent } from './events.ts'
import type { MuxerTrack } from './header-writer.ts'
import { createMuxer, type Muxer, type MuxerOptions } from './muxer.ts'

/** Options of `createAnnexBMuxer` and its adapters: the Annex-B parser's and the muxer's, but the tracks. */
export interface AnnexBMuxerOptions extends Omit<MuxerOptions, 'tracks'> {
  /** The video codec. Default `'h264'`. */
  codec?: 'h264' | 'h265'
  /**
   * Frames per second of the video (raw Annex-B carries no timestamps). Default: the stream's timing
   * information (H.264 VUI, H.265 VPS) when it has some, else 25.
   */
  fps?: number
  /** Largest video access unit, bytes (see `AnnexBParserOptions`). Default 16 MiB. */
  maxAccessUnitBytes?: number
  /** An ADTS AAC stream comes too, through `pushAudio()`: a second track. Default false. */
  audio?: boolean
  /** Track names (at most 32 characters). Default `kvs_video_track` and `kvs_audio_track`, as the KVS SDKs. */
  videoTrackName?: string
  audioTrackName?: string
}

/**
 * Raw H.264/H.265 (Annex-B) bytes, and optionally ADTS AAC bytes, in; KVS-ready Matroska out (a `header`
 * event, then one `fragment` per Cluster, as the chunker emits them). The video is track 1, the audio
 * track 2. The output starts once the first key frame (and the first audio frame) have come: the tracks'
 * CodecPrivate is built from them.
 */
export interface AnnexBMuxer {
  /** Takes a chunk of the video byte stream (see `AnnexBParser.push`: it is kept, not copied). */
  push(chunk: Uint8Array): MuxerEvent[]
  /** Takes a chunk of the ADTS byte stream (with the `audio` option). */
  pushAudio(chunk: Uint8Array): MuxerEvent[]
  /** The audio ended before the video: fragments stop waiting for it. */
  endAudio(): MuxerEvent[]
  /** Ends both inputs: the last fragments. */
  end(): MuxerEvent[]
  /**
   * The input to read next to keep the tracks together in time (and memory flat): the one whose frames so
   * far end earlier. Always `'video'` without audio.
   */
  readonly nextInput: 'video' | 'audio'
  /** The video configuration in use (from the first key frame's parameter sets), once known. */
  readonly videoConfig: VideoConfigEvent | undefined
  /** The audio configuration in use, once known. */
  readonly audioConfig: AudioConfigEvent | undefined
  /** Bytes held by the parsers and the muxer. */
  readonly bufferedBytes: number
  /**
   * Frames left out: video access units before the first key frame or that nothing can decode, frames of a
   * track later than a fragment that could not wait for them, audio when it sent nothing for
   * `maxInterleaveDelayMs` of video (the output then has no audio track).
   */
  readonly droppedFrames: number
}

/** Creates an Annex-B (+ ADTS) muxer. */
export function createAnnexBMuxer(options: AnnexBMuxerOptions = {}): AnnexBMuxer {
  return new AnnexBToMkv(options)
}

const VIDEO_TRACK = 1
const AUDIO_TRACK = 2

class AnnexBToMkv implements AnnexBMuxer {
  readonly #options: AnnexBMuxerOptions
  readonly #video: AnnexBParser
  readonly #audio: AdtsParser | undefined
  #muxer: Muxer | undefined
  #videoConfig: VideoConfigEvent | undefined
  #audioConfig: AudioConfigEvent | undefined
  #audioEnded = false
  #videoEnded = false
  /** Whether the muxer has an audio track: not when the audio sent no frame before it had to start. */
  #audioTrack = false
  /** Audio frames that came after the muxer started without an audio track. */
  #droppedAudio = 0
  /** Decoding time of the first video frame, ms: the video waits at most maxInterleaveDelayMs for the audio. */
  #firstVideoTime: number | undefined
  readonly #maxWaitMs: number
  /** Frames parsed before the muxer could be made (its tracks need both configurations). */
  #held: { track: number; frame: FrameEvent }[] = []
  #heldBytes = 0
  #maxHeldBytes: number
  /** Latest decoding time of each input's frames, ms. */
  #videoTime = Number.NEGATIVE_INFINITY
  #audioTime = Number.NEGATIVE_INFINITY
  #failed: unknown
  #hasFailed = false

  constructor(options: AnnexBMuxerOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
    const audio = options.audio ?? false
    if (typeof audio !== 'boolean') throw invalidOption('audio', 'a boolean', audio)
    this.#options = options
    this.#video = createAnnexBParser({
      codec: options.codec,
      fps: options.fps,
      maxAccessUnitBytes: options.maxAccessUnitBytes,
    })
    this.#audio = audio ? createAdtsParser() : undefined
    this.#maxHeldBytes = options.maxBufferedBytes ?? 128 * 1024 * 1024
    this.#maxWaitMs = options.maxInterleaveDelayMs ?? 10_000
    // The muxer's options are checked now, not when the first frames come.
    createMuxer({ ...muxerOptions(options), tracks: [{ codec: 'h264', width: 16, height: 16 }] })
  }

  get nextInput(): 'video' | 'audio' {
    if (this.#audio === undefined || this.#audioEnded) return 'video'
    if (this.#muxer !== undefined && !this.#audioTrack) return 'video'
    if (this.#videoEnded) return 'audio'
    return this.#audioTime < this.#videoTime ? 'audio' : 'video'
  }

  get videoConfig(): VideoConfigEvent | undefined {
    return this.#videoConfig
  }

  get audioConfig(): AudioConfigEvent | undefined {
    return this.#audioConfig
  }

  get bufferedBytes(): number {
    return (
      this.#video.bufferedBytes +
      (this.#audio?.bufferedBytes ?? 0) +
      this.#heldBytes +
      (this.#muxer?.bufferedBytes ?? 0)
    )
  }

  get droppedFrames(): number {
    return this.#video.droppedFrames + (this.#muxer?.droppedFrames ?? 0) + this.#droppedAudio
  }

  push(chunk: Uint8Array): MuxerEvent[] {
    return this.#run((out) => {
      if (this.#videoEnded) throw new TypeError('push() after end()')
      this.#take(VIDEO_TRACK, () => this.#video.push(chunk), out)
    })
  }

  pushAudio(chunk: Uint8Array): MuxerEvent[] {
    return this.#run((out) => {
      const audio = this.#audio
      if (audio === undefined) throw invalidOption('audio', 'true to push audio', this.#options.audio)
      if (this.#audioEnded) throw new TypeError('pushAudio() after endAudio()')
      this.#take(AUDIO_TRACK, () => audio.push(chunk), out)
    })
  }

  endAudio(): MuxerEvent[] {
    return this.#run((out) => this.#endAudio(out))
  }

  end(): MuxerEvent[] {
    return this.#run((out) => {
      if (!this.#videoEnded) {
        this.#videoEnded = true
        this.#takeEnd(VIDEO_TRACK, this.#video, out)
      }
      this.#endAudio(out)
      if (this.#muxer === undefined && this.#videoConfig !== undefined) this.#start(out)
      if (this.#muxer !== undefined) for (const event of this.#muxer.end()) out.push(event)
    })
  }

  #endAudio(out: MuxerEvent[]): void {
    const audio = this.#audio
    if (audio === undefined || this.#audioEnded) return
    this.#audioEnded = true
    this.#takeEnd(AUDIO_TRACK, audio, out)
    if (this.#muxer !== undefined) {
      if (this.#audioTrack) for (const event of this.#muxer.endTrack(AUDIO_TRACK)) out.push(event)
    } else if (this.#videoConfig !== undefined) {
      this.#start(out)
    }
  }

  #run(step: (out: MuxerEvent[]) => void): MuxerEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: MuxerEvent[] = []
    try {
      step(out)
    } catch (error) {
      if (error instanceof TypeError && out.length === 0) throw error
      // Sticky; the events completed before the error are returned, the error comes from the next call.
      this.#hasFailed = true
      this.#failed = error
      if (out.length === 0) throw error
      return out
    }
    return out
  }

  /**
   * Runs a parser step and passes its events on. A parser returns the events completed before a failure
   * and throws it on its next call, which is this muxer's next call too.
   */
  #take(
    track: number,
    step: () => (VideoConfigEvent | AudioConfigEvent | FrameEvent)[],
    out: MuxerEvent[],
  ): void {
    for (const event of step()) this.#event(track, event, out)
  }

  /**
   * Ends a parser and passes its events on; when `end()` returned events, calls it once more so that an
   * error it held back (input cut short after them) is thrown now: nothing would call the parser again.
   */
  #takeEnd(
    track: number,
    parser: { end(): (VideoConfigEvent | AudioConfigEvent | FrameEvent)[] },
    out: MuxerEvent[],
  ): void {
    const events = parser.end()
    for (const event of events) this.#event(track, event, out)
    if (events.length > 0) for (const event of parser.end()) this.#event(track, event, out)
  }

  #event(track: number, event: VideoConfigEvent | AudioConfigEvent | FrameEvent, out: MuxerEvent[]): void {
    if (event.type === 'config') {
      // The first configuration makes the track; later parameter sets travel in-band with their key frames.
      if (event.codec === 'aac') this.#audioConfig ??= event
      else this.#videoConfig ??= event
      if (
        this.#muxer === undefined &&
        this.#videoConfig !== undefined &&
        (this.#audio === undefined || this.#audioConfig !== undefined || this.#audioEnded)
      ) {
        this.#start(out)
      }
      return
    }
    if (track === VIDEO_TRACK) this.#videoTime = event.dts
    else this.#audioTime = event.dts
    if (track === AUDIO_TRACK && this.#muxer !== undefined && !this.#audioTrack) {
      this.#droppedAudio++
      return
    }
    if (track === VIDEO_TRACK) this.#firstVideoTime ??= event.dts
    if (
      this.#muxer === undefined &&
      track === VIDEO_TRACK &&
      this.#audioConfig === undefined &&
      event.dts - this.#firstVideoTime! > this.#maxWaitMs
    ) {
      // The audio sent nothing for maxInterleaveDelayMs of video: go on without an audio track.
      this.#start(out)
    }
    const muxer = this.#muxer
    if (muxer === undefined) {
      this.#held.push({ track, frame: event })
      this.#heldBytes += event.byteLength
      if (this.#heldBytes > this.#maxHeldBytes) {
        throw new MuxerError(
          'ERR_KVS_MUXER_BUFFER_FULL',
          `${this.#heldBytes} bytes of ${this.#audioConfig === undefined ? 'video' : 'audio'} held while waiting for the first ${this.#audioConfig === undefined ? 'audio frame' : 'video key frame'}, over maxBufferedBytes (${this.#maxHeldBytes})`,
        )
      }
      return
    }
    for (const muxed of muxer.push({
      track,
      pts: event.pts,
      dts: event.dts,
      keyframe: event.keyframe,
      data: event.data,
    })) {
      out.push(muxed)
    }
  }

  /** Both configurations are known (or the audio ended without any): the muxer starts, with the frames held. */
  #start(out: MuxerEvent[]): void {
    const video = this.#videoConfig!
    const tracks: MuxerTrack[] = [
      {
        codec: video.codec,
        codecPrivate: video.codecPrivate,
        width: video.width,
        height: video.height,
        frameDurationMs: video.frameDurationMs,
        name: this.#options.videoTrackName ?? 'kvs_video_track',
        number: VIDEO_TRACK,
      },
    ]
    const audio = this.#audioConfig
    this.#audioTrack = audio !== undefined
    if (audio !== undefined) {
      tracks.push({
        codec: 'aac',
        codecPrivate: audio.codecPrivate,
        sampleRate: audio.sampleRate,
        channels: audio.channels,
        frameDurationMs: audio.frameDurationMs,
        name: this.#options.audioTrackName ?? 'kvs_audio_track',
        number: AUDIO_TRACK,
      })
    }
    const muxer = createMuxer({ ...muxerOptions(this.#options), tracks })
    this.#muxer = muxer
    const held = this.#held
    this.#held = []
    this.#heldBytes = 0
    for (const { track, frame } of held) {
      if (track === AUDIO_TRACK && audio === undefined) continue
      for (const event of muxer.push({
        track,
        pts: frame.pts,
        dts: frame.dts,
        keyframe: frame.keyframe,
        data: frame.data,
      })) {
        out.push(event)
      }
    }
    if (audio !== undefined && this.#audioEnded)
      for (const event of muxer.endTrack(AUDIO_TRACK)) out.push(event)
  }
}

function muxerOptions(options: AnnexBMuxerOptions): Omit<MuxerOptions, 'tracks'> {
  const {
    targetFragmentDurationMs,
    maxFragmentDurationMs,
    maxFragmentBytes,
    timecodeScale,
    maxBufferedBytes,
    maxInterleaveDelayMs,
    title,
    writingApp,
  } = options
  return {
    targetFragmentDurationMs,
    maxFragmentDurationMs,
    maxFragmentBytes,
    timecodeScale,
    maxBufferedBytes,
    maxInterleaveDelayMs,
    title,
    writingApp,
  }
}
