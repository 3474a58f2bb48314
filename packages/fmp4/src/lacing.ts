import type { Lacing } from '@kvs-streams/ebml'
import { Fmp4Error } from './errors.ts'

/**
 * The frames of a laced block, as views of `data` (the block payload from its lacing header on, as the
 * Matroska reader delivers a laced block). Throws `ERR_KVS_FMP4_INVALID_LACING` when the sizes do not fit.
 * @see https://www.rfc-editor.org/rfc/rfc9559#section-10.3 (Block lacing)
 */
export function splitLacedFrames(data: Uint8Array, lacing: Lacing, trackNumber: number): Uint8Array[] {
  if (lacing === 'none') return [data]
  const fail = (problem: string) =>
    new Fmp4Error(
      'ERR_KVS_FMP4_INVALID_LACING',
      `a ${lacing}-laced block of track ${trackNumber}: ${problem}`,
      {
        trackNumber,
      },
    )
  if (data.length === 0) throw fail('no lacing header')
  const count = data[0]! + 1
  let at = 1
  const sizes: number[] = []
  if (lacing === 'fixed') {
    const total = data.length - 1
    if (total % count !== 0) throw fail(`${total} bytes do not split into ${count} equal frames`)
    for (let i = 0; i < count - 1; i++) sizes.push(total / count)
  } else if (lacing === 'xiph') {
    for (let i = 0; i < count - 1; i++) {
      let size = 0
      let byte: number
      do {
        byte = data[at++] ?? -1
        if (byte < 0) throw fail('the lacing header runs past the block')
        size += byte
      } while (byte === 255)
      sizes.push(size)
    }
  } else {
    let previous = 0
    for (let i = 0; i < count - 1; i++) {
      const first = data[at]
      if (first === undefined || first === 0) throw fail('an EBML lace size is missing or too long')
      const length = Math.clz32(first) - 23
      if (at + length > data.length) throw fail('the lacing header runs past the block')
      let value = first & (0xff >> length)
      for (let j = 1; j < length; j++) value = value * 256 + data[at + j]!
      at += length
      // The first size is unsigned; the next ones are differences, signed by subtracting half the range.
      previous = i === 0 ? value : previous + value - (2 ** (7 * length - 1) - 1)
      if (previous < 0) throw fail('a negative lace size')
      sizes.push(previous)
    }
  }
  const frames: Uint8Array[] = []
  for (const size of sizes) {
    if (at + size > data.length) throw fail('the lace sizes exceed the block')
    frames.push(data.subarray(at, at + size))
    at += size
  }
  frames.push(data.subarray(at))
  return frames
}
