/** A container or stream format that `kvs put` cannot send as it is, and how to turn it into Matroska. */
export interface ForeignFormat {
  /** What the input is, as the message says it, e.g. `an MP4 file`. */
  description: string
  /** The file name extension of the format, for an example file name. */
  extension: string
  /** ffmpeg options to put before `-i` (raw H.264 has no timestamps: it needs a frame rate). */
  inputOptions: string
}

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, end))

/** ISO BMFF top-level boxes a file can start with (`ftyp` first in MP4; old QuickTime files start elsewhere). */
const MOV_BOXES = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'])

/** H.264 NAL unit types a raw Annex B stream starts with: slices, SEI, SPS, PPS, access unit delimiter. */
const H264_FIRST_NAL_TYPES = new Set([1, 5, 6, 7, 8, 9])

/**
 * Recognises MP4, QuickTime MOV, MPEG-TS and raw H.264 (Annex B) by their first bytes (16 are enough), for a
 * message that names what the input is instead of the Matroska parser's complaint. `undefined` for anything
 * else, Matroska included.
 */
export function detectForeignFormat(head: Uint8Array): ForeignFormat | undefined {
  if (head.byteLength >= 8) {
    const box = ascii(head, 4, 8)
    if (box === 'ftyp' && head.byteLength >= 12) {
      return ascii(head, 8, 12) === 'qt  '
        ? { description: 'a QuickTime (MOV) file', extension: 'mov', inputOptions: '' }
        : { description: 'an MP4 file', extension: 'mp4', inputOptions: '' }
    }
    if (MOV_BOXES.has(box))
      return { description: 'a QuickTime (MOV) file', extension: 'mov', inputOptions: '' }
  }
  // MPEG-TS: 188-byte packets, each starting with the sync byte 0x47.
  if (head[0] === 0x47 && (head.byteLength <= 188 || head[188] === 0x47) && (head[1]! & 0x80) === 0) {
    return { description: 'an MPEG transport stream (TS)', extension: 'ts', inputOptions: '' }
  }
  const start =
    head[0] === 0 && head[1] === 0 && head[2] === 1
      ? 3
      : head[0] === 0 && head[1] === 0 && head[2] === 0 && head[3] === 1
        ? 4
        : 0
  if (start > 0 && head.byteLength > start && H264_FIRST_NAL_TYPES.has(head[start]! & 0x1f)) {
    return { description: 'raw H.264 (Annex B)', extension: 'h264', inputOptions: '-f h264 -framerate 25 ' }
  }
  return undefined
}
