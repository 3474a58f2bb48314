import { EbmlError } from './errors.ts'

const utf8 = new TextDecoder('utf-8')

function invalid(message: string, offset = -1, elementId?: number): EbmlError {
  return new EbmlError('ERR_KVS_EBML_INVALID_DATA', message, { offset, elementId })
}

/**
 * Reads an unsigned integer element (0–8 bytes, big-endian). Exact up to 2^53; see `readBigUint`. Pass the
 * element's stream `offset` and id to have them in the error a malformed value raises.
 */
export function readUint(data: Uint8Array, offset = -1, elementId?: number): number {
  if (data.length > 8) throw invalid(`unsigned integer of ${data.length} bytes`, offset, elementId)
  let value = 0
  for (let i = 0; i < data.length; i++) value = value * 256 + data[i]!
  return value
}

/** Reads an unsigned integer element exactly, as a bigint. */
export function readBigUint(data: Uint8Array): bigint {
  if (data.length > 8) throw invalid(`unsigned integer of ${data.length} bytes`)
  let value = 0n
  for (let i = 0; i < data.length; i++) value = (value << 8n) | BigInt(data[i]!)
  return value
}

/** Reads a signed (two's complement) integer element of 0–8 bytes. Exact for magnitudes up to 2^53. */
export function readInt(data: Uint8Array): number {
  if (data.length === 0) return 0
  if (data.length > 8) throw invalid(`signed integer of ${data.length} bytes`)
  if ((data[0]! & 0x80) === 0) return readUint(data)
  // Negative: -(~value + 1), summed from the inverted bytes so that small magnitudes stay exact.
  let inverted = 0
  for (let i = 0; i < data.length; i++) inverted = inverted * 256 + (~data[i]! & 0xff)
  return -(inverted + 1)
}

/**
 * Reads a float element: 0 bytes is 0, else a big-endian IEEE 754 float of 4 or 8 bytes. Pass the element's
 * stream `offset` and id to have them in the error a malformed value raises.
 */
export function readFloat(data: Uint8Array, offset = -1, elementId?: number): number {
  if (data.length === 0) return 0
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (data.length === 4) return view.getFloat32(0)
  if (data.length === 8) return view.getFloat64(0)
  throw invalid(`float of ${data.length} bytes`, offset, elementId)
}

/** Reads a String or UTF-8 element, dropping the NUL padding Matroska allows after the value. */
export function readString(data: Uint8Array): string {
  const nul = data.indexOf(0)
  return utf8.decode(nul === -1 ? data : data.subarray(0, nul))
}

/** Matroska dates count nanoseconds from 2001-01-01T00:00:00Z. */
const DATE_EPOCH_MS = Date.UTC(2001, 0, 1)

/** Reads a Date element (signed nanoseconds since 2001-01-01T00:00:00 UTC). */
export function readDate(data: Uint8Array): Date {
  if (data.length === 0) return new Date(DATE_EPOCH_MS)
  if (data.length !== 8) throw invalid(`date of ${data.length} bytes`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return new Date(DATE_EPOCH_MS + Number(view.getBigInt64(0) / 1_000_000n))
}

/** Lacing of a Block or SimpleBlock. */
export type Lacing = 'none' | 'xiph' | 'fixed' | 'ebml'
const lacings: readonly Lacing[] = ['none', 'xiph', 'fixed', 'ebml']

/** The header of a SimpleBlock or Block payload. */
export interface BlockHeader {
  /** Track number. */
  track: number
  /** Timecode relative to the cluster's, in TimecodeScale units (int16). */
  timecode: number
  /** The raw flags byte. */
  flags: number
  /** SimpleBlock key-frame flag (always false for a Block, whose key-frame status is its BlockGroup's). */
  keyframe: boolean
  invisible: boolean
  discardable: boolean
  lacing: Lacing
  /** Bytes before the frame data (or before the lacing header). */
  headerSize: number
}

/** The fields `readBlockHeaderAt` fills in: a caller keeps one and reuses it for every block. */
export interface BlockHeaderFields {
  /** Track number. */
  track: number
  /** Timecode relative to the cluster's, in TimecodeScale units (int16). */
  timecode: number
  /** The raw flags byte. */
  flags: number
}

/**
 * Reads the header of the SimpleBlock or Block payload that starts at `data[start]` and has `length` bytes
 * (track number vint, int16 relative timecode, flags) into `into`, allocating nothing: for loops over many
 * blocks. Returns the header's size in bytes (4 to 11), `0` when the payload is shorter than its header, or
 * `-1` when the track number's first byte is 0 (a vint wider than 8 bytes). Reads at most 11 bytes, all
 * inside `[start, start + length)`, so `data` may hold only the start of a longer payload.
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-10
 */
export function readBlockHeaderAt(
  data: Uint8Array,
  start: number,
  length: number,
  into: BlockHeaderFields,
): number {
  if (length <= 0) return 0
  const first = data[start]!
  if (first === 0) return -1
  const trackLength = Math.clz32(first) - 23
  if (length < trackLength + 3) return 0
  let track = first & (0xff >> trackLength)
  for (let i = 1; i < trackLength; i++) track = track * 256 + data[start + i]!
  into.track = track
  into.timecode = (((data[start + trackLength]! << 8) | data[start + trackLength + 1]!) << 16) >> 16
  into.flags = data[start + trackLength + 2]!
  return trackLength + 3
}

/**
 * Reads the header of a SimpleBlock or Block payload: track number vint, int16 relative timecode, flags.
 * Returns `undefined` when `data` is too short to hold it.
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-10
 */
export function readBlockHeader(data: Uint8Array, simpleBlock = true): BlockHeader | undefined {
  const fields: BlockHeaderFields = { track: 0, timecode: 0, flags: 0 }
  const headerSize = readBlockHeaderAt(data, 0, data.length, fields)
  if (headerSize < 0) throw invalid('block track number wider than 8 bytes')
  if (headerSize === 0) return undefined
  const { track, timecode, flags } = fields
  return {
    track,
    timecode,
    flags,
    keyframe: simpleBlock && (flags & 0x80) !== 0,
    invisible: (flags & 0x08) !== 0,
    discardable: simpleBlock && (flags & 0x01) !== 0,
    lacing: lacings[(flags >> 1) & 3]!,
    headerSize,
  }
}
