/**
 * Writes a Matroska Cluster of SimpleBlocks as a list of parts: the Cluster header and each block header are
 * small new arrays, the frames' bytes are passed through as given (no copy). Shared by the muxer and any
 * code that rebuilds clusters (a repackager).
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-5.1.3 Cluster; §10.2 SimpleBlock structure
 */

/** One frame of a Cluster. */
export interface ClusterBlock {
  /** TrackNumber (1 to 127 fit the one-byte form PIC writes; larger numbers take a wider vint). */
  track: number
  /**
   * The frame's presentation time in TimecodeScale units, absolute: it is written relative to the Cluster
   * timecode, which must leave it within a signed 16-bit integer (-32768 to 32767).
   */
  timecode: number
  keyframe: boolean
  /** The frame's bytes, one array or parts in order. */
  data: Uint8Array | readonly Uint8Array[]
  /** Bytes in `data`; computed when omitted. */
  byteLength?: number
}

/** A written Cluster: its bytes as parts in order, and their total length. */
export interface WrittenCluster {
  parts: Uint8Array[]
  byteLength: number
}

const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75]
const TIMECODE_ID = 0xe7
const SIMPLE_BLOCK_ID = 0xa3
/** The Cluster's size is always written 8 bytes wide: one layout for every size. */
const CLUSTER_SIZE_WIDTH = 8

/** Bytes of the smallest EBML vint that holds `value` (the all-ones value of a width is reserved). */
function vintWidth(value: number): number {
  let width = 1
  while (value >= 2 ** (7 * width) - 1) width++
  return width
}

/** Writes `value` as a `width`-byte EBML vint at `out[at]`. */
function writeVint(out: Uint8Array, at: number, value: number, width: number): void {
  let rest = value
  for (let i = width - 1; i > 0; i--) {
    out[at + i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  out[at] = (0x80 >> (width - 1)) | rest
}

/** Bytes a SimpleBlock of `dataLength` frame bytes on `track` takes, element header included. */
export function simpleBlockSize(track: number, dataLength: number): number {
  const payload = vintWidth(track) + 3 + dataLength
  return 1 + vintWidth(payload) + payload
}

function byteLengthOf(data: Uint8Array | readonly Uint8Array[]): number {
  if (data instanceof Uint8Array) return data.length
  let length = 0
  for (const part of data) length += part.length
  return length
}

/**
 * Writes a Cluster (known size) with its Timecode and one SimpleBlock per block, in the order given. Throws a
 * `RangeError` when a block's timecode relative to the Cluster's does not fit a signed 16-bit integer, or a
 * timecode or track number is not a non-negative safe integer.
 */
export function writeCluster(timecode: number, blocks: readonly ClusterBlock[]): WrittenCluster {
  if (!Number.isSafeInteger(timecode) || timecode < 0) {
    throw new RangeError(`timecode must be a non-negative safe integer, got ${timecode}`)
  }
  // Timecode element: id, 1-byte size, then the value in as few bytes as it needs (at least one).
  let timecodeBytes = 1
  while (timecode >= 2 ** (8 * timecodeBytes)) timecodeBytes++
  let headersLength = 0
  let payloadLength = 2 + timecodeBytes
  const lengths = new Array<number>(blocks.length)
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!
    if (!Number.isSafeInteger(block.track) || block.track < 1) {
      throw new RangeError(`track must be a positive safe integer, got ${block.track}`)
    }
    const relative = block.timecode - timecode
    if (!Number.isInteger(relative) || relative < -32768 || relative > 32767) {
      throw new RangeError(
        `block timecode ${block.timecode} is ${relative} from the cluster's ${timecode}: not a signed 16-bit integer`,
      )
    }
    const dataLength = block.byteLength ?? byteLengthOf(block.data)
    lengths[i] = dataLength
    const payload = vintWidth(block.track) + 3 + dataLength
    const header = 1 + vintWidth(payload) + vintWidth(block.track) + 3
    headersLength += header
    payloadLength += header + dataLength
  }
  const headLength = CLUSTER_ID.length + CLUSTER_SIZE_WIDTH + 2 + timecodeBytes
  const head = new Uint8Array(headLength + headersLength)
  head.set(CLUSTER_ID, 0)
  writeVint(head, CLUSTER_ID.length, payloadLength, CLUSTER_SIZE_WIDTH)
  let at = CLUSTER_ID.length + CLUSTER_SIZE_WIDTH
  head[at++] = TIMECODE_ID
  head[at++] = 0x80 | timecodeBytes
  let rest = timecode
  for (let i = timecodeBytes - 1; i >= 0; i--) {
    head[at + i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  at += timecodeBytes
  const parts: Uint8Array[] = [head.subarray(0, at)]
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!
    const dataLength = lengths[i]!
    const trackWidth = vintWidth(block.track)
    const payload = trackWidth + 3 + dataLength
    const start = at
    head[at++] = SIMPLE_BLOCK_ID
    const sizeWidth = vintWidth(payload)
    writeVint(head, at, payload, sizeWidth)
    at += sizeWidth
    writeVint(head, at, block.track, trackWidth)
    at += trackWidth
    const relative = block.timecode - timecode
    head[at++] = (relative >> 8) & 0xff
    head[at++] = relative & 0xff
    head[at++] = block.keyframe ? 0x80 : 0
    parts.push(head.subarray(start, at))
    if (block.data instanceof Uint8Array) parts.push(block.data)
    else for (const part of block.data) parts.push(part)
  }
  return { parts, byteLength: CLUSTER_ID.length + CLUSTER_SIZE_WIDTH + payloadLength }
}
