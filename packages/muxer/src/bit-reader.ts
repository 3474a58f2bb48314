/**
 * Bit-level reading of H.264/H.265 syntax: the RBSP of a NAL unit (emulation-prevention bytes removed) and a
 * reader for fixed-width fields and Exp-Golomb codes (ITU-T H.264 §7.2, §9.1; H.265 §7.2, §9.2).
 */

/** Thrown by `BitReader` when a field runs past the end of its data; callers turn it into a typed error. */
export class BitstreamOverrun extends Error {
  override name = 'BitstreamOverrun'
}

/** Thrown by `BitReader` for an Exp-Golomb code wider than 32 bits, which no valid stream holds. */
export class InvalidExpGolomb extends Error {
  override name = 'InvalidExpGolomb'
}

/**
 * The RBSP of `nal[start, end)`: every emulation-prevention byte (the `03` of `00 00 03`) removed. At most
 * `limit` output bytes are produced (the slice header needs only the first few). Returns a new array.
 * @see ITU-T H.264 §7.4.1 (emulation_prevention_three_byte)
 */
export function unescapeRbsp(nal: Uint8Array, start = 0, end = nal.length, limit = end - start): Uint8Array {
  const out = new Uint8Array(Math.min(limit, end - start))
  let length = 0
  let zeros = 0
  for (let i = start; i < end && length < out.length; i++) {
    const byte = nal[i]!
    if (zeros >= 2 && byte === 3) {
      zeros = 0
      continue
    }
    out[length++] = byte
    zeros = byte === 0 ? zeros + 1 : 0
  }
  return length === out.length ? out : out.subarray(0, length)
}

/** Reads bits MSB first from an RBSP. Reads past the end throw `BitstreamOverrun`. */
export class BitReader {
  readonly #data: Uint8Array
  /** Position of the next bit to read, from the start of the data. */
  #bit = 0

  constructor(data: Uint8Array, startByte = 0) {
    this.#data = data
    this.#bit = startByte * 8
  }

  /** Bits not read yet. */
  get bitsLeft(): number {
    return this.#data.length * 8 - this.#bit
  }

  /** One bit, `u(1)`. */
  bit(): number {
    const bit = this.#bit
    if (bit >= this.#data.length * 8) throw new BitstreamOverrun('read past the end of the data')
    this.#bit = bit + 1
    return (this.#data[bit >> 3]! >> (7 - (bit & 7))) & 1
  }

  /** A boolean flag, `u(1)`. */
  flag(): boolean {
    return this.bit() === 1
  }

  /** An unsigned `count`-bit field, `u(n)` for n up to 32. */
  bits(count: number): number {
    if (count === 0) return 0
    if (this.#bit + count > this.#data.length * 8) throw new BitstreamOverrun('read past the end of the data')
    let value = 0
    for (let i = 0; i < count; i++) {
      const bit = this.#bit++
      value = value * 2 + ((this.#data[bit >> 3]! >> (7 - (bit & 7))) & 1)
    }
    return value
  }

  /** Skips `count` bits. */
  skip(count: number): void {
    if (this.#bit + count > this.#data.length * 8) throw new BitstreamOverrun('read past the end of the data')
    this.#bit += count
  }

  /** An unsigned Exp-Golomb code, `ue(v)` (0 to 2^32 - 2). */
  ue(): number {
    let zeros = 0
    while (this.bit() === 0) {
      zeros++
      if (zeros > 31) throw new InvalidExpGolomb('Exp-Golomb code wider than 32 bits')
    }
    return 2 ** zeros - 1 + this.bits(zeros)
  }

  /** A signed Exp-Golomb code, `se(v)`. */
  se(): number {
    const code = this.ue()
    return code % 2 === 1 ? (code + 1) / 2 : -(code / 2)
  }
}
