/** What `detectFormat` recognises. */
export type StreamFormat = 'h264' | 'h265' | 'aac' | 'mkv'

/** The first NAL unit header bytes an H.265 stream starts with: VPS, SPS, PPS, AUD, SEI, IRAP slices. */
const H265_FIRST = new Set([0x40, 0x42, 0x44, 0x46, 0x4e, 0x20, 0x22, 0x24, 0x26, 0x28, 0x2a])
/** nal_unit_type values an H.264 stream starts with: slices, IDR, SEI, SPS, PPS, AUD. */
const H264_FIRST = new Set([1, 5, 6, 7, 8, 9])

/**
 * The format of a byte stream from its first bytes (a few dozen are enough; give what the first read
 * returned): Matroska/WebM (EBML magic `1A 45 DF A3`), ADTS AAC (sync word `FFF`, layer 0), or an Annex-B
 * H.264 or H.265 stream (optional zero bytes, a start code, then a NAL unit header either codec starts
 * with). Undefined when none fits.
 */
export function detectFormat(head: Uint8Array): StreamFormat | undefined {
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3)
    return 'mkv'
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xf6) === 0xf0) return 'aac'
  let at = 0
  while (at < head.length && head[at] === 0) at++
  if (at < 2 || head[at] !== 1 || at + 2 >= head.length) return undefined
  const first = head[at + 1]!
  const second = head[at + 2]!
  if (H265_FIRST.has(first) && second === 0x01) return 'h265'
  if ((first & 0x80) === 0 && H264_FIRST.has(first & 0x1f)) return 'h264'
  return undefined
}
