import { MuxerError } from './errors.ts'
import type { AdtsEvent, AudioConfigEvent, FrameEvent } from './events.ts'

/**
 * An incremental ADTS parser: an AAC byte stream (`ffmpeg -c:a aac -f adts`, GStreamer `aacparse` with
 * `stream-format=adts`) in, a `config` event and one `frame` event per AAC frame out, timed by its sample
 * count (1024 samples per frame).
 */
export interface AdtsParser {
  /**
   * Consumes a chunk. Frames hold views of the chunk (no copy): the caller must not reuse its memory. Throws
   * `MuxerError`: the events completed before the error are returned and the error is thrown by the next
   * call (at once when there are none). After an error every call throws that error again.
   */
  push(chunk: Uint8Array): AdtsEvent[]
  /** Ends the input; throws `ERR_KVS_ADTS_TRUNCATED` when it stops inside a frame. */
  end(): AdtsEvent[]
  /** Bytes held for the frame being read (at most one ADTS frame, 8191 bytes). */
  readonly bufferedBytes: number
}

/** Creates an ADTS parser. @see ISO/IEC 13818-7 §6.2 (adts_frame); ISO/IEC 14496-3 §1.6.2.1 (AudioSpecificConfig) */
export function createAdtsParser(): AdtsParser {
  return new Adts()
}

/** Sampling frequencies by sampling_frequency_index (ISO/IEC 14496-3 Table 1.18). */
export const ADTS_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
]

const SAMPLES_PER_FRAME = 1024

/** The fields of an ADTS header every frame of a stream must share. */
interface AdtsFormat {
  objectType: number
  frequencyIndex: number
  channelConfiguration: number
}

class Adts implements AdtsParser {
  /** Stream offset of the chunk being pushed. */
  #offset = 0
  /** The header being read, when it spans chunks. */
  readonly #header = new Uint8Array(9)
  #headerLength = 0
  /** 7, or 9 once the header says it carries a CRC. */
  #headerSize = 7
  /** Payload bytes still to read for the current frame; -1 while reading a header. */
  #payloadLeft = -1
  #payloadParts: Uint8Array[] = []
  #payloadLength = 0
  /** Stream offset of the current frame's header. */
  #frameOffset = 0
  #format: AdtsFormat | undefined
  #sampleRate = 0
  /** Samples in the frames emitted so far: the next frame's time. */
  #samples = 0
  #index = 0
  #failed: unknown
  #hasFailed = false

  get bufferedBytes(): number {
    return this.#headerLength + this.#payloadLength
  }

  push(chunk: Uint8Array): AdtsEvent[] {
    if (this.#hasFailed) throw this.#failed
    const out: AdtsEvent[] = []
    try {
      this.#read(chunk, out)
    } catch (error) {
      // Sticky; the frames completed before the error are returned, the error comes from the next call.
      this.#hasFailed = true
      this.#failed = error
      if (out.length === 0) throw error
      return out
    }
    this.#offset += chunk.length
    return out
  }

  end(): AdtsEvent[] {
    if (this.#hasFailed) throw this.#failed
    if (this.#headerLength > 0 || this.#payloadLeft >= 0) {
      const error = new MuxerError('ERR_KVS_ADTS_TRUNCATED', 'the stream ends inside an ADTS frame', {
        offset: this.#frameOffset,
      })
      this.#hasFailed = true
      this.#failed = error
      throw error
    }
    return []
  }

  #read(chunk: Uint8Array, out: AdtsEvent[]): void {
    const length = chunk.length
    let pos = 0
    while (pos < length) {
      if (this.#payloadLeft < 0) {
        if (this.#headerLength === 0 && length - pos >= 9) {
          // The whole header is in this chunk: read it in place.
          this.#frameOffset = this.#offset + pos
          pos += this.#parseHeader(chunk, pos)
        } else {
          if (this.#headerLength === 0) this.#frameOffset = this.#offset + pos
          while (pos < length && this.#headerLength < this.#headerSize) {
            this.#header[this.#headerLength++] = chunk[pos++]!
            if (this.#headerLength === 2) this.#checkSync(this.#header, 0)
            if (this.#headerLength === 7 && (this.#header[1]! & 1) === 0) this.#headerSize = 9
          }
          if (this.#headerLength < this.#headerSize) return
          this.#parseHeader(this.#header, 0)
          this.#headerLength = 0
          this.#headerSize = 7
        }
      }
      const take = Math.min(this.#payloadLeft, length - pos)
      if (take > 0) {
        this.#payloadParts.push(chunk.subarray(pos, pos + take))
        this.#payloadLength += take
        this.#payloadLeft -= take
        pos += take
      }
      if (this.#payloadLeft === 0) this.#emit(out)
    }
  }

  #checkSync(bytes: Uint8Array, at: number): void {
    // syncword 0xFFF, then ID (any), layer 00: anything else is not an ADTS header.
    if (bytes[at] !== 0xff || (bytes[at + 1]! & 0xf6) !== 0xf0) {
      throw new MuxerError(
        'ERR_KVS_ADTS_BAD_SYNC',
        'no ADTS sync word (0xFFF, layer 0) where a frame should start: not an ADTS stream, or a corrupt frame length before it',
        { offset: this.#frameOffset },
      )
    }
  }

  /** Reads the header at `bytes[at]`, sets the payload to read, returns the header's size. */
  #parseHeader(bytes: Uint8Array, at: number): number {
    this.#checkSync(bytes, at)
    const headerSize = (bytes[at + 1]! & 1) === 1 ? 7 : 9
    const b2 = bytes[at + 2]!
    const b3 = bytes[at + 3]!
    const objectType = (b2 >> 6) + 1
    const frequencyIndex = (b2 >> 2) & 0x0f
    const channelConfiguration = ((b2 & 1) << 2) | (b3 >> 6)
    const frameLength = ((b3 & 3) << 11) | (bytes[at + 4]! << 3) | (bytes[at + 5]! >> 5)
    const rawDataBlocks = (bytes[at + 6]! & 3) + 1
    const offset = this.#frameOffset
    if (frequencyIndex >= ADTS_SAMPLE_RATES.length) {
      throw new MuxerError(
        'ERR_KVS_ADTS_INVALID_HEADER',
        `sampling_frequency_index ${frequencyIndex} is reserved`,
        {
          offset,
        },
      )
    }
    if (frameLength <= headerSize) {
      throw new MuxerError(
        'ERR_KVS_ADTS_INVALID_HEADER',
        `frame_length ${frameLength} leaves no room for data after the ${headerSize}-byte header`,
        { offset },
      )
    }
    if (rawDataBlocks !== 1) {
      throw new MuxerError(
        'ERR_KVS_ADTS_UNSUPPORTED',
        `${rawDataBlocks} raw data blocks in one ADTS frame: only one is supported`,
        { offset },
      )
    }
    if (channelConfiguration === 0) {
      throw new MuxerError(
        'ERR_KVS_ADTS_UNSUPPORTED',
        'channel_configuration 0 (channels given by an in-band program config element) is not supported',
        { offset },
      )
    }
    const format = this.#format
    if (format === undefined) {
      this.#format = { objectType, frequencyIndex, channelConfiguration }
      this.#sampleRate = ADTS_SAMPLE_RATES[frequencyIndex]!
    } else if (
      format.objectType !== objectType ||
      format.frequencyIndex !== frequencyIndex ||
      format.channelConfiguration !== channelConfiguration
    ) {
      throw new MuxerError(
        'ERR_KVS_ADTS_CONFIG_CHANGED',
        `the stream changed from object type ${format.objectType}, ${ADTS_SAMPLE_RATES[format.frequencyIndex]} Hz, channel configuration ${format.channelConfiguration} to ${objectType}, ${ADTS_SAMPLE_RATES[frequencyIndex]} Hz, ${channelConfiguration}: a track cannot change its AudioSpecificConfig (or the header is corrupt)`,
        { offset },
      )
    }
    this.#payloadLeft = frameLength - headerSize
    return headerSize
  }

  #emit(out: AdtsEvent[]): void {
    if (this.#index === 0) out.push(this.#config())
    const rate = this.#sampleRate
    const pts = (this.#samples * 1000) / rate
    const frame: FrameEvent = {
      type: 'frame',
      index: this.#index++,
      pts,
      dts: pts,
      durationMs: (SAMPLES_PER_FRAME * 1000) / rate,
      keyframe: true,
      data: this.#payloadParts,
      byteLength: this.#payloadLength,
      offset: this.#frameOffset,
    }
    this.#samples += SAMPLES_PER_FRAME
    out.push(frame)
    this.#payloadParts = []
    this.#payloadLength = 0
    this.#payloadLeft = -1
  }

  #config(): AudioConfigEvent {
    const format = this.#format!
    const channels = format.channelConfiguration === 7 ? 8 : format.channelConfiguration
    return {
      type: 'config',
      codec: 'aac',
      codecId: 'A_AAC',
      codecPrivate: audioSpecificConfig(
        format.objectType,
        format.frequencyIndex,
        format.channelConfiguration,
      ),
      objectType: format.objectType,
      sampleRate: this.#sampleRate,
      channels,
      frameDurationMs: (SAMPLES_PER_FRAME * 1000) / this.#sampleRate,
    }
  }
}

/**
 * The 2-byte AudioSpecificConfig for an object type, sampling frequency index and channel configuration
 * (frameLengthFlag, dependsOnCoreCoder and extensionFlag 0).
 * @see ISO/IEC 14496-3 §1.6.2.1
 */
export function audioSpecificConfig(
  objectType: number,
  frequencyIndex: number,
  channelConfiguration: number,
): Uint8Array {
  const value = (objectType << 11) | (frequencyIndex << 7) | (channelConfiguration << 3)
  return Uint8Array.of(value >> 8, value & 0xff)
}
