import { invalidOption, numberOption, positiveIntegerOption } from '@kvs-streams/core'
import { MuxerError, messageOf } from './errors.ts'
import type { AnnexBEvent, FrameEvent, VideoConfigEvent } from './events.ts'
import { H264Codec } from './h264-codec.ts'
import { H265Codec } from './h265-codec.ts'
import { ReorderQueue } from './picture-order.ts'
import { StartCodeFinder } from './start-codes.ts'
import type { PendingAccessUnit, VideoCodec } from './video-codec.ts'

/** Options of `createAnnexBParser` and its adapters. */
export interface AnnexBParserOptions {
  /** The codec of the byte stream. Default `'h264'`. */
  codec?: 'h264' | 'h265'
  /**
   * Frames per second, for the timestamps (raw Annex-B has none). Default: the stream's own timing
   * information (H.264 VUI, H.265 VPS) when it has some, else 25.
   */
  fps?: number
  /**
   * Largest access unit (a frame: all its NAL units) accepted, bytes; bytes held for one never exceed it.
   * Larger, or a stream with no start code in this many bytes, fails with `ERR_KVS_ANNEXB_ACCESS_UNIT_TOO_LARGE`
   * or `ERR_KVS_ANNEXB_NO_START_CODE`. Default 16 MiB.
   */
  maxAccessUnitBytes?: number
}

/**
 * An incremental Annex-B parser: H.264 or H.265 byte stream in, `config` and `frame` events out (one frame
 * per access unit, in decoding order, with presentation times derived from the picture order count).
 */
export interface AnnexBParser {
  /**
   * Consumes a chunk of the byte stream. Frames hold views of the chunk (no copy): the caller must not reuse
   * its memory. Throws `MuxerError`: the events completed before the error are returned and the error is
   * thrown by the next call (at once when there are none). After an error every call throws it again.
   */
  push(chunk: Uint8Array): AnnexBEvent[]
  /** Ends the input: the last access unit, and the frames still held for reordering. */
  end(): AnnexBEvent[]
  /** Bytes held: the NAL unit and access unit being read, and frames waiting for their presentation time. */
  readonly bufferedBytes: number
  /** Access units left out because nothing can decode them: before the first key frame, or RASL pictures of a leading CRA. */
  readonly droppedFrames: number
}

/** Creates an Annex-B parser. @see ITU-T H.264 Annex B; ITU-T H.265 Annex B */
export function createAnnexBParser(options: AnnexBParserOptions = {}): AnnexBParser {
  return new AnnexB(options)
}

const DEFAULT_FPS = 25

/** A frame waiting, in decoding order, for its presentation time (known once the reorder queue releases it). */
interface Waiting {
  event: FrameEvent
  ready: boolean
}

class AnnexB implements AnnexBParser {
  readonly #codec: VideoCodec
  readonly #fpsOption: number | undefined
  readonly #maxBytes: number

  // ── Start-code scanning ──
  /** Stream offset of the chunk being pushed. */
  #offset = 0
  /** A start code has been seen: bytes now belong to NAL units. */
  #started = false
  /** Bytes before the first start code (skipped, up to the access unit limit). */
  #leadingBytes = 0
  readonly #finder = new StartCodeFinder()
  /** Zero bytes ending the data seen so far: with a 01 they make a start code, and are not NAL unit data. */
  #zeros = 0

  // ── The NAL unit being read ──
  /** Its bytes so far, as views of the input (trailing zeros are trimmed when its end is found). */
  #nalParts: Uint8Array[] = []
  #nalLength = 0
  /** Stream offset of its first byte. */
  #nalOffset = 0
  /** Its first bytes (header, first slice bits): they decide whether it begins a new access unit. */
  readonly #head = new Uint8Array(3)
  #headLength = 0
  #headDecided = false

  // ── Access units ──
  #au: PendingAccessUnit
  /** A key frame has been seen: frames before it are dropped. */
  #keySeen = false
  /** Parameter set version of the last config event, -1 before the first. */
  #configVersion = -1
  /** Frame rate and where it came from, fixed by the first config event. */
  #fps = DEFAULT_FPS
  #fpsSource: VideoConfigEvent['fpsSource'] = 'default'
  #frameDurationMs = 1000 / DEFAULT_FPS
  /** The reorder bound of the first config: decoding times are shifted back by this many frames. */
  #delayFrames = 0
  /** Frames given a decoding position so far. */
  #decoded = 0
  /** Frames given a presentation position so far. */
  #presented = 0
  readonly #reorder = new ReorderQueue<Waiting>()
  /** Frames in decoding order, until their presentation time is known. */
  #waiting: Waiting[] = []
  #waitingBytes = 0
  #dropped = 0
  #failed: unknown
  #hasFailed = false

  constructor(options: AnnexBParserOptions) {
    const codec = options.codec ?? 'h264'
    if (codec !== 'h264' && codec !== 'h265') throw invalidOption('codec', "'h264' or 'h265'", codec)
    this.#codec = codec === 'h264' ? new H264Codec() : new H265Codec()
    this.#fpsOption =
      options.fps === undefined
        ? undefined
        : numberOption('fps', options.fps, 'a positive number', { above: 0 })
    this.#maxBytes = positiveIntegerOption('maxAccessUnitBytes', options.maxAccessUnitBytes, 16 * 1024 * 1024)
    this.#au = newAccessUnit(0)
  }

  get bufferedBytes(): number {
    return this.#nalLength + this.#au.byteLength + this.#waitingBytes
  }

  get droppedFrames(): number {
    return this.#dropped
  }

  push(chunk: Uint8Array): AnnexBEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: AnnexBEvent[] = []
    try {
      this.#scan(chunk, out)
    } catch (error) {
      return this.#fail(error, out)
    }
    this.#offset += chunk.length
    return out
  }

  end(): AnnexBEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: AnnexBEvent[] = []
    try {
      if (!this.#started) {
        if (this.#leadingBytes > 0) {
          throw new MuxerError(
            'ERR_KVS_ANNEXB_NO_START_CODE',
            `no start code in ${this.#leadingBytes} bytes: not an Annex-B byte stream`,
            { offset: 0 },
          )
        }
      } else {
        this.#trimNal(this.#zeros)
        this.#endNal(out)
        this.#finishAccessUnit(out)
        this.#reorder.flush(this.#present)
        this.#release(out)
        if (!this.#keySeen && this.#dropped > 0) {
          throw new MuxerError(
            'ERR_KVS_ANNEXB_NO_KEY_FRAME',
            `${this.#dropped} access units and no key frame (${this.#codec.codec === 'h264' ? 'IDR' : 'IRAP'}) with its parameter sets: nothing can decode them`,
            { offset: 0 },
          )
        }
      }
    } catch (error) {
      return this.#fail(error, out)
    }
    return out
  }

  /**
   * Records the first error (every later call throws it) and returns the events completed before it, for
   * the failing call to return (the error then comes from the next call); with none, throws it at once.
   */
  #fail(error: unknown, out: AnnexBEvent[]): AnnexBEvent[] {
    let failure = error
    if (!MuxerError.is(error)) {
      failure = new MuxerError('ERR_KVS_ANNEXB_INVALID_NAL_UNIT', messageOf(error), {
        offset: this.#nalOffset,
        cause: error,
      })
    } else if (error.offset < 0) {
      failure = new MuxerError(error.code, error.message, { offset: this.#nalOffset, cause: error.cause })
    }
    this.#hasFailed = true
    this.#failed = failure
    if (out.length === 0) throw failure
    return out
  }

  /**
   * Splits `chunk` at its start codes (found by `StartCodeFinder`, with native `indexOf`): the bytes between
   * them are NAL units; the zero bytes before a start code belong to none (trailing_zero_8bits). A start
   * code may straddle chunks: `#zeros` carries the zero bytes that ended the previous ones.
   */
  #scan(chunk: Uint8Array, out: AnnexBEvent[]): void {
    const length = chunk.length
    const finder = this.#finder
    finder.reset(chunk)
    let pos = 0
    while (pos < length) {
      const one = finder.find(pos, this.#zeros)
      if (one < 0) break
      let dataEnd = one
      while (dataEnd > pos && chunk[dataEnd - 1] === 0) dataEnd--
      this.#append(chunk, pos, dataEnd, out)
      if (dataEnd === pos) this.#trimNal(this.#zeros)
      this.#endNal(out)
      this.#startNal(this.#offset + one + 1)
      pos = one + 1
      this.#zeros = 0
    }
    this.#append(chunk, pos, length, out)
    let dataEnd = length
    while (dataEnd > pos && chunk[dataEnd - 1] === 0) dataEnd--
    this.#zeros = dataEnd === pos ? this.#zeros + (length - pos) : length - dataEnd
  }

  /** Adds `chunk[start, end)` to the NAL unit being read, or skips it before the first start code. */
  #append(chunk: Uint8Array, start: number, end: number, out: AnnexBEvent[]): void {
    if (end <= start) return
    if (!this.#started) {
      this.#leadingBytes += end - start
      if (this.#leadingBytes > this.#maxBytes) {
        throw new MuxerError(
          'ERR_KVS_ANNEXB_NO_START_CODE',
          `no start code in the first ${this.#leadingBytes} bytes: not an Annex-B byte stream`,
          { offset: 0 },
        )
      }
      return
    }
    if (!this.#headDecided) {
      const take = Math.min(end - start, this.#codec.headBytes - this.#headLength)
      for (let i = 0; i < take; i++) this.#head[this.#headLength++] = chunk[start + i]!
      if (this.#headLength === this.#codec.headBytes) this.#decideHead(out)
    }
    this.#nalParts.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))
    this.#nalLength += end - start
    if (this.#au.byteLength + 4 + this.#nalLength > this.#maxBytes) {
      throw new MuxerError(
        'ERR_KVS_ANNEXB_ACCESS_UNIT_TOO_LARGE',
        `an access unit exceeds maxAccessUnitBytes (${this.#maxBytes})`,
        { offset: this.#au.byteLength > 0 ? this.#au.offset : this.#nalOffset },
      )
    }
  }

  /** Removes `count` trailing bytes (zeros before a start code) from the NAL unit being read. */
  #trimNal(count: number): void {
    if (!this.#started || count <= 0) return
    let rest = Math.min(count, this.#nalLength)
    this.#nalLength -= rest
    const parts = this.#nalParts
    while (rest > 0) {
      const last = parts[parts.length - 1]!
      if (last.length <= rest) {
        parts.pop()
        rest -= last.length
      } else {
        parts[parts.length - 1] = last.subarray(0, last.length - rest)
        rest = 0
      }
    }
  }

  #startNal(offset: number): void {
    this.#started = true
    this.#nalParts = []
    this.#nalLength = 0
    this.#nalOffset = offset
    this.#headLength = 0
    this.#headDecided = false
  }

  /** The first bytes of a NAL unit are in: when it begins a new access unit, the current one is complete. */
  #decideHead(out: AnnexBEvent[]): void {
    this.#headDecided = true
    if (this.#codec.beginsAccessUnit(this.#head, this.#headLength) && this.#au.hasVcl) {
      this.#finishAccessUnit(out)
    }
  }

  /** A start code (or the end) ends the NAL unit being read: it joins the access unit. */
  #endNal(out: AnnexBEvent[]): void {
    if (!this.#started || this.#nalLength === 0) return
    if (!this.#headDecided) this.#decideHead(out)
    const au = this.#au
    if (au.byteLength === 0) au.offset = this.#nalOffset
    if (this.#codec.addNal(this.#head, this.#nalParts, this.#nalLength, au)) {
      const length = this.#nalLength
      au.parts.push(
        Uint8Array.of(length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff),
      )
      for (const part of this.#nalParts) au.parts.push(part)
      au.byteLength += 4 + length
    }
    this.#nalParts = []
    this.#nalLength = 0
  }

  /** The access unit is complete: it gets its key-frame flag and order, and waits for its presentation time. */
  #finishAccessUnit(out: AnnexBEvent[]): void {
    const au = this.#au
    this.#au = newAccessUnit(this.#nalOffset)
    if (!au.hasVcl) return
    const info = this.#codec.finishAccessUnit(au)
    if (info.drop !== undefined || (!this.#keySeen && !info.keyframe)) {
      if (info.drop === 'missing-parameter-sets' && this.#keySeen) {
        throw new MuxerError(
          'ERR_KVS_ANNEXB_MISSING_PARAMETER_SET',
          'a slice refers to a parameter set the stream has not sent',
          { offset: au.offset },
        )
      }
      this.#dropped++
      return
    }
    if (info.keyframe) {
      this.#keySeen = true
      if (this.#codec.version !== this.#configVersion) out.push(this.#config())
    }
    const event: FrameEvent = {
      type: 'frame',
      index: this.#decoded,
      pts: 0,
      dts: (this.#decoded - this.#delayFrames) * this.#frameDurationMs,
      durationMs: this.#frameDurationMs,
      keyframe: info.keyframe,
      data: au.parts,
      byteLength: au.byteLength,
      offset: au.offset,
    }
    this.#decoded++
    const waiting: Waiting = { event, ready: false }
    this.#waiting.push(waiting)
    this.#waitingBytes += au.byteLength
    this.#reorder.push(waiting, info.order, info.reorderFrames, this.#present)
    this.#release(out)
  }

  /** The reorder queue outputs a frame: its presentation time is the next one. */
  readonly #present = (waiting: Waiting): void => {
    waiting.event.pts = this.#presented++ * this.#frameDurationMs
    waiting.ready = true
  }

  /** Emits the frames, in decoding order, whose presentation time is known. */
  #release(out: AnnexBEvent[]): void {
    const waiting = this.#waiting
    let count = 0
    while (count < waiting.length && waiting[count]!.ready) {
      const { event } = waiting[count]!
      this.#waitingBytes -= event.byteLength
      out.push(event)
      count++
    }
    if (count > 0) waiting.splice(0, count)
  }

  #config(): VideoConfigEvent {
    const config = this.#codec.config()
    if (this.#configVersion < 0) {
      // Timing is fixed by the first configuration: later ones cannot move frames already timed.
      if (this.#fpsOption !== undefined) {
        this.#fps = this.#fpsOption
        this.#fpsSource = 'option'
      } else if (config.fps !== undefined && config.fps > 0 && config.fps <= 1000) {
        this.#fps = config.fps
        this.#fpsSource = 'stream'
      }
      this.#frameDurationMs = 1000 / this.#fps
      this.#delayFrames = config.reorderFrames
    }
    this.#configVersion = this.#codec.version
    return {
      type: 'config',
      codec: this.#codec.codec,
      codecId: this.#codec.codecId,
      codecPrivate: config.codecPrivate,
      width: config.width,
      height: config.height,
      fps: this.#fps,
      fpsSource: this.#fpsSource,
      frameDurationMs: this.#frameDurationMs,
      profile: config.profile,
      level: config.level,
      reorderFrames: config.reorderFrames,
    }
  }
}

function newAccessUnit(offset: number): PendingAccessUnit {
  return { parts: [], byteLength: 0, offset, hasVcl: false, picture: undefined }
}
