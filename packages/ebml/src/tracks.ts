import { ElementId } from './ids.ts'
import { readFloat, readString, readUint } from './leaf.ts'

/** What a Matroska TrackEntry says about its track (the fields the KVS packages use). */
export interface TrackEntryInfo {
  /** TrackNumber, the number blocks refer to. */
  number: number
  /** Matroska TrackType: 1 video, 2 audio, 17 subtitle, … (0 when absent). */
  type: number
  /** CodecID with its NUL padding removed, e.g. `V_MPEG4/ISO/AVC`. */
  codecId: string
  /** CodecPrivate, copied into a plain `Uint8Array` (it outlives the chunk it came in). */
  codecPrivate?: Uint8Array
  /** Video PixelWidth / PixelHeight. */
  width?: number
  height?: number
  /** Audio SamplingFrequency (Hz) and Channels. */
  samplingFrequency?: number
  channels?: number
  /** Track Name. */
  name?: string
  /** DefaultDuration in nanoseconds: the duration of frames without a BlockDuration. */
  defaultDurationNs?: number
}

/** A TrackEntry with nothing read yet: number 0 (no track), type 0, empty codec id. */
export function newTrackEntry(): TrackEntryInfo {
  return { number: 0, type: 0, codecId: '' }
}

const TRACK_NUMBER = ElementId.TrackNumber as number
const TRACK_TYPE = ElementId.TrackType as number
const CODEC_ID = ElementId.CodecID as number
const CODEC_PRIVATE = ElementId.CodecPrivate as number
const PIXEL_WIDTH = ElementId.PixelWidth as number
const PIXEL_HEIGHT = ElementId.PixelHeight as number
const SAMPLING_FREQUENCY = ElementId.SamplingFrequency as number
const CHANNELS = ElementId.Channels as number
const NAME = ElementId.Name as number
const DEFAULT_DURATION = ElementId.DefaultDuration as number

/**
 * Ids of the leaves inside a TrackEntry (and its Video and Audio masters) that `readTrackEntryField` reads:
 * a reader's `dataMode` must deliver them whole.
 */
export const TRACK_ENTRY_FIELD_IDS: ReadonlySet<number> = new Set([
  TRACK_NUMBER,
  TRACK_TYPE,
  CODEC_ID,
  CODEC_PRIVATE,
  PIXEL_WIDTH,
  PIXEL_HEIGHT,
  SAMPLING_FREQUENCY,
  CHANNELS,
  NAME,
  DEFAULT_DURATION,
])

/**
 * Applies one leaf read inside a TrackEntry to `entry`; ids it does not know are ignored (returns false).
 * A malformed value (an integer over 8 bytes, a float of another size than 0, 4 or 8) throws `EbmlError`
 * `ERR_KVS_EBML_INVALID_DATA` with the element's offset and id.
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-5.1.4.1
 */
export function readTrackEntryField(
  entry: TrackEntryInfo,
  id: number,
  data: Uint8Array,
  offset: number,
): boolean {
  switch (id) {
    case TRACK_NUMBER:
      entry.number = readUint(data, offset, id)
      return true
    case TRACK_TYPE:
      entry.type = readUint(data, offset, id)
      return true
    case CODEC_ID:
      entry.codecId = readString(data)
      return true
    case CODEC_PRIVATE:
      // A plain copy: `slice()` on a Node Buffer would be a view of the caller's chunk.
      entry.codecPrivate = new Uint8Array(data)
      return true
    case PIXEL_WIDTH:
      entry.width = readUint(data, offset, id)
      return true
    case PIXEL_HEIGHT:
      entry.height = readUint(data, offset, id)
      return true
    case SAMPLING_FREQUENCY:
      entry.samplingFrequency = readFloat(data, offset, id)
      return true
    case CHANNELS:
      entry.channels = readUint(data, offset, id)
      return true
    case NAME:
      entry.name = readString(data)
      return true
    case DEFAULT_DURATION:
      entry.defaultDurationNs = readUint(data, offset, id)
      return true
    default:
      return false
  }
}
