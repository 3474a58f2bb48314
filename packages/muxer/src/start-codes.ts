/**
 * Finds Annex-B start codes (`00 00 01`) with native `indexOf`, so no JS loop visits every byte and no call
 * is made per stray `01` byte (one in ~256 of entropy-coded data). Two ways, with the same results:
 *
 * - where the runtime has `Buffer` (Node.js, Bun, Deno's Node globals), `Buffer.prototype.indexOf` with the
 *   3-byte needle, which is native substring search: 5–10 GB/s;
 * - elsewhere (browsers), `Uint16Array.prototype.indexOf` over a 16-bit view of the bytes: ~2–3 GB/s.
 *
 * The second works because a start code's two zeros and its `01` span three bytes, so one of two aligned 16-bit words lies inside it:
 * `00 00` (the zeros start at an even address) or `00 01` (they start at an odd one). Inside a NAL unit both
 * words are rare (emulation prevention forbids `00 00 00`–`00 00 03` there; `00 01` on an even address is one
 * pair in 65,536), so `Uint16Array.prototype.indexOf` over the chunk, once for each word, finds every start
 * code with almost no false candidate; each candidate is then checked on the bytes.
 * @see ITU-T H.264 §B.2; ITU-T H.265 §B.2
 */

/** The `00 01` byte pair read as a 16-bit word in this platform's byte order. */
const ZERO_ONE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 0x0100 : 0x0001
const UNKNOWN = -2
/** Chunks shorter than this are searched with a byte `indexOf(1)`: a 16-bit view costs more than it saves. */
const SMALL = 64

/** `Buffer.prototype.indexOf`, where the runtime has it (its module is not imported: the core stays portable). */
interface BufferLike {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array
  prototype: { indexOf(value: Uint8Array, byteOffset: number): number }
  isBuffer(value: unknown): boolean
}
const NativeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer
const NEEDLE = Uint8Array.of(0, 0, 1)

/** How `StartCodeFinder` searches: `'auto'` picks `'needle'` where `Buffer` exists, else `'words'`. */
export type StartCodeSearch = 'auto' | 'needle' | 'words'

/** Finds the start codes of one chunk after another; reuses its searches within a chunk. */
export class StartCodeFinder {
  readonly #needle: boolean
  #chunk: Uint8Array = new Uint8Array(0)
  /** The chunk as a `Buffer` (a view, no copy), for the needle search. */
  #haystack: Uint8Array | undefined
  #words: Uint16Array | undefined
  /** Index in the chunk of the first byte at an even address: words[w] covers bytes first + 2w, first + 2w + 1. */
  #first = 0
  /** Next word index holding `00 00` / `00 01` at or after the last search start, -1 for none, or UNKNOWN. */
  #zeroWord = UNKNOWN
  #oneWord = UNKNOWN

  constructor(search: StartCodeSearch = 'auto') {
    if (search === 'needle' && NativeBuffer === undefined) throw new TypeError('no Buffer in this runtime')
    this.#needle = search === 'needle' || (search === 'auto' && NativeBuffer !== undefined)
  }

  /** Starts searching a new chunk. */
  reset(chunk: Uint8Array): void {
    this.#chunk = chunk
    this.#zeroWord = UNKNOWN
    this.#oneWord = UNKNOWN
    this.#words = undefined
    this.#haystack = undefined
    if (chunk.length < SMALL) return
    if (this.#needle) {
      this.#haystack = NativeBuffer!.isBuffer(chunk)
        ? chunk
        : NativeBuffer!.from(chunk.buffer, chunk.byteOffset, chunk.length)
      return
    }
    const first = chunk.byteOffset & 1
    this.#first = first
    this.#words = new Uint16Array(chunk.buffer, chunk.byteOffset + first, (chunk.length - first) >> 1)
  }

  /**
   * Index of the `01` of the first start code whose `01` is at or after `from`, or -1. `carry` counts the
   * zero bytes just before the chunk (the end of the previous one), which can complete a start code.
   */
  find(from: number, carry: number): number {
    const chunk = this.#chunk
    const length = chunk.length
    if (from >= length) return -1
    const words = this.#words
    const haystack = this.#haystack
    if (words === undefined && haystack === undefined) {
      for (let one = chunk.indexOf(1, from); one >= 0; one = chunk.indexOf(1, one + 1)) {
        if (this.#zerosBefore(one, carry) >= 2) return one
      }
      return -1
    }
    // A start code whose zeros begin before `from` (in the carry, or one byte before): checked on the bytes.
    for (let at = from; at < from + 2 && at < length; at++) {
      if (chunk[at] === 1 && this.#zerosBefore(at, carry) >= 2) return at
    }
    if (haystack !== undefined) {
      const found = NativeBuffer!.prototype.indexOf.call(haystack, NEEDLE, from)
      return found < 0 ? -1 : found + 2
    }
    if (words === undefined) return -1
    const first = this.#first
    const start = Math.max(0, (from - first + 1) >> 1)
    while (true) {
      if (this.#zeroWord !== -1 && this.#zeroWord < start) this.#zeroWord = words.indexOf(0, start)
      if (this.#oneWord !== -1 && this.#oneWord < start) this.#oneWord = words.indexOf(ZERO_ONE, start)
      const zero = this.#zeroWord
      const one = this.#oneWord
      if (zero < 0 && one < 0) return -1
      if (zero >= 0 && (one < 0 || zero < one)) {
        // `00 00` at byte b: the start code's 01 is the first non-zero byte after it, if it is a 01.
        let at = first + 2 * zero + 2
        while (at < length && chunk[at] === 0) at++
        this.#zeroWord = UNKNOWN
        if (at >= length) {
          this.#zeroWord = -1
          continue
        }
        if (chunk[at] === 1) return at
        this.#skipTo(words, at, start)
        continue
      }
      // `00 01` at byte c: a start code when the byte before c is zero too.
      const at = first + 2 * one + 1
      this.#oneWord = UNKNOWN
      if (this.#zerosBefore(at, carry) >= 2) return at
      this.#skipTo(words, at + 1, start)
    }
  }

  /** Moves both searches on to words starting at or after byte `at` (they never go back before `start`). */
  #skipTo(words: Uint16Array, at: number, start: number): void {
    const word = Math.max(start, (at - this.#first + 1) >> 1)
    if (this.#zeroWord !== -1 && (this.#zeroWord === UNKNOWN || this.#zeroWord < word)) {
      this.#zeroWord = words.indexOf(0, word)
    }
    if (this.#oneWord !== -1 && (this.#oneWord === UNKNOWN || this.#oneWord < word)) {
      this.#oneWord = words.indexOf(ZERO_ONE, word)
    }
  }

  /** Zero bytes just before `index`, in the chunk and, when they reach its start, the carry. */
  #zerosBefore(index: number, carry: number): number {
    const chunk = this.#chunk
    let at = index
    while (at > 0 && chunk[at - 1] === 0) at--
    return index - at + (at === 0 ? carry : 0)
  }
}
