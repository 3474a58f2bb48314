import { Fmp4Error } from './errors.ts'

const MAX_UINT32 = 0xffff_ffff

/**
 * Writes ISO BMFF boxes into one growing buffer: `start(type)` reserves the 32-bit size, `end()` patches
 * it. Only headers and tables go through it; sample data is never copied here (media segments and files
 * return it as views beside the box bytes).
 * @see ISO/IEC 14496-12 §4.2 (Object structure)
 */
export class BoxWriter {
  /** The buffer; grows by doubling. */
  #bytes: Uint8Array
  #view: DataView
  /** Bytes written so far. */
  #length = 0
  // Every write reserves its bytes first: growing replaces #bytes and #view, so neither may be read before.
  /** Offsets of the boxes opened and not yet ended, innermost last. */
  readonly #open: number[] = []

  constructor(initialSize = 512) {
    this.#bytes = new Uint8Array(initialSize)
    this.#view = new DataView(this.#bytes.buffer)
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length
  }

  #reserve(count: number): number {
    const at = this.#length
    const needed = at + count
    if (needed > this.#bytes.length) {
      let size = this.#bytes.length * 2
      while (size < needed) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.#bytes.subarray(0, at))
      this.#bytes = grown
      this.#view = new DataView(grown.buffer)
    }
    this.#length = needed
    return at
  }

  u8(value: number): this {
    const at = this.#reserve(1)
    this.#bytes[at] = value
    return this
  }

  u16(value: number): this {
    const at = this.#reserve(2)
    this.#view.setUint16(at, value)
    return this
  }

  u24(value: number): this {
    const at = this.#reserve(3)
    this.#bytes[at] = (value >>> 16) & 0xff
    this.#bytes[at + 1] = (value >>> 8) & 0xff
    this.#bytes[at + 2] = value & 0xff
    return this
  }

  u32(value: number): this {
    const at = this.#reserve(4)
    this.#view.setUint32(at, value >>> 0)
    return this
  }

  i32(value: number): this {
    const at = this.#reserve(4)
    this.#view.setInt32(at, value)
    return this
  }

  /** A 64-bit unsigned integer from a safe integer. */
  u64(value: number): this {
    const at = this.#reserve(8)
    this.#view.setUint32(at, Math.floor(value / 2 ** 32))
    this.#view.setUint32(at + 4, value % 2 ** 32)
    return this
  }

  bytes(data: Uint8Array): this {
    const at = this.#reserve(data.length)
    this.#bytes.set(data, at)
    return this
  }

  /** Zero bytes. */
  zeros(count: number): this {
    const at = this.#reserve(count)
    this.#bytes.fill(0, at, this.#length)
    return this
  }

  /** A four-character code or other ASCII text, one byte per character. */
  ascii(text: string): this {
    const at = this.#reserve(text.length)
    for (let i = 0; i < text.length; i++) this.#bytes[at + i] = text.charCodeAt(i) & 0xff
    return this
  }

  /** Opens a box: its size is patched by the matching `end()`. */
  start(type: string): this {
    this.#open.push(this.#length)
    return this.u32(0).ascii(type)
  }

  /** Opens a full box (version and 24-bit flags after the type). */
  startFull(type: string, version: number, flags: number): this {
    return this.start(type).u8(version).u24(flags)
  }

  /** Closes the innermost open box; returns its offset. */
  end(): number {
    const at = this.#open.pop()
    if (at === undefined) throw new Error('BoxWriter.end() without an open box')
    this.setU32(at, this.#length - at)
    return at
  }

  /** Overwrites a 32-bit field written earlier (a size or a data offset). */
  setU32(at: number, value: number): void {
    if (value > MAX_UINT32 || value < 0) {
      throw new Fmp4Error('ERR_KVS_FMP4_TOO_LARGE', `a box field needs ${value}, more than 32 bits hold`)
    }
    this.#view.setUint32(at, value)
  }

  /** The bytes written (a view of the buffer; the writer must not be used afterwards). */
  finish(): Uint8Array {
    if (this.#open.length > 0) throw new Error(`BoxWriter.finish() with ${this.#open.length} open boxes`)
    return this.#bytes.subarray(0, this.#length)
  }
}
