/** A container or stream format that `kvs put` cannot send as it is, and how to turn it into Matroska. */
export interface ForeignFormat {
  /** What the input is, as the message says it, e.g. `an MP4 file`. */
  description: string
  /** The file name extension of the format, for an example file name. */
  extension: string
  /** ffmpeg options to put before `-i`. */
  inputOptions: string
}

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  String.fromCharCode(...bytes.subarray(start, end))

/** ISO BMFF top-level boxes a file can start with (`ftyp` first in MP4; old QuickTime files start elsewhere). */
const MOV_BOXES = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'])

/**
 * Recognises MP4, QuickTime MOV and MPEG-TS by their first bytes (16 are enough), for a message that names
 * what the input is instead of the Matroska parser's complaint. `undefined` for anything else: Matroska and
 * the raw streams `kvs put` muxes itself (see `detectFormat` of `@kvs-streams/muxer`) included.
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
  return undefined
}
