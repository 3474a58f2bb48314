/**
 * Reads bits MSB first from an RBSP (a NAL unit payload with its emulation-prevention bytes removed), with
 * Exp-Golomb codes for H.264 and H.265 parameter sets. Reading past the end throws a `RangeError`; callers
 * turn it into their own error.
 * @see ITU-T H.264 §7.2 and §9.1 (Exp-Golomb)
 */
export class BitReader {
  readonly #bytes: Uint8Array
  /** Next bit to read, counted from the first byte's most significant bit. */
  #position = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  bit(): number {
    const byte = this.#bytes[this.#position >>> 3]
    if (byte === undefined) throw new RangeError('read past the end of the parameter set')
    const value = (byte >>> (7 - (this.#position & 7))) & 1
    this.#position++
    return value
  }

  /** `count` bits (at most 32) as an unsigned number. */
  bits(count: number): number {
    let value = 0
    for (let i = 0; i < count; i++) value = value * 2 + this.bit()
    return value
  }

  skip(count: number): void {
    if (this.#position + count > this.#bytes.length * 8)
      throw new RangeError('read past the end of the parameter set')
    this.#position += count
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(): number {
    let zeros = 0
    while (this.bit() === 0) {
      zeros++
      if (zeros > 31) throw new RangeError('Exp-Golomb code longer than 32 bits')
    }
    return 2 ** zeros - 1 + this.bits(zeros)
  }

  /** se(v): signed Exp-Golomb. */
  se(): number {
    const code = this.ue()
    return code % 2 === 1 ? (code + 1) / 2 : -(code / 2)
  }
}

/** A NAL unit's payload without its emulation-prevention bytes (`00 00 03` → `00 00`). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let zeros = 0
  let escapes = 0
  for (let i = 0; i < nal.length; i++) {
    const byte = nal[i]!
    if (zeros >= 2 && byte === 3) {
      escapes++
      zeros = 0
      continue
    }
    zeros = byte === 0 ? zeros + 1 : 0
  }
  if (escapes === 0) return nal
  const out = new Uint8Array(nal.length - escapes)
  let at = 0
  zeros = 0
  for (let i = 0; i < nal.length; i++) {
    const byte = nal[i]!
    if (zeros >= 2 && byte === 3) {
      zeros = 0
      continue
    }
    out[at++] = byte
    zeros = byte === 0 ? zeros + 1 : 0
  }
  return out
}

/** Two hex digits. */
export function hex2(value: number): string {
  return value.toString(16).padStart(2, '0')
}
