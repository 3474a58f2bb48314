import { concatBytes } from '@kvs-streams/core'

const EMPTY = new Uint8Array(0)

/**
 * The input chunks from some offset on, handing out ranges of the stream as views of them. Like the ebml
 * package's `ChunkStore`, tuned for the repackager's access pattern: many short ranges per fragment (one or
 * two per frame), mostly in increasing order, so the chunk holding the previous range is tried first, and
 * ranges are appended to the caller's list instead of returned in a new one. Chunks are kept as plain
 * `Uint8Array` views (a Node `Buffer` is viewed as one): `subarray` of a `Buffer` builds a `Buffer`, several
 * times slower.
 */
export class ViewStore {
  /** Retained chunks, oldest first (released slots hold an empty array until compacted). */
  #chunks: Uint8Array[] = []
  /** Absolute stream offset of each retained chunk's first byte. */
  #starts: number[] = []
  /** Index of the first retained chunk. */
  #head = 0
  /** Index of the chunk the last range started in: the next range most likely starts there too. */
  #hint = 0
  /** Absolute offset one past the last appended byte. */
  #end = 0
  #retained = 0

  /** Absolute offset one past the last byte appended. */
  get end(): number {
    return this.#end
  }

  /** Bytes currently held. */
  get retainedBytes(): number {
    return this.#retained
  }

  /** Appends the next chunk of the stream. */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    const view =
      Object.getPrototypeOf(chunk) === Uint8Array.prototype
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    this.#chunks.push(view)
    this.#starts.push(this.#end)
    this.#end += chunk.length
    this.#retained += chunk.length
  }

  /**
   * Appends to `parts` the views covering `[start, end)`, in order. The common case, a range inside the chunk
   * of the range before, costs one comparison and one `subarray`.
   */
  pushViews(parts: Uint8Array[], start: number, end: number): void {
    if (end <= start) return
    const hint = this.#hint
    const chunk = this.#chunks[hint]
    if (chunk !== undefined) {
      const chunkStart = this.#starts[hint]!
      if (start >= chunkStart && end <= chunkStart + chunk.length) {
        parts.push(chunk.subarray(start - chunkStart, end - chunkStart))
        return
      }
    }
    this.viewsInto(parts, start, end)
  }

  /** Appends to `parts` the views covering `[start, end)`, in order. */
  viewsInto(parts: Uint8Array[], start: number, end: number): void {
    if (end <= start) return
    let i = this.#find(start)
    this.#hint = i
    let at = start
    const chunks = this.#chunks
    const starts = this.#starts
    while (at < end) {
      const chunk = chunks[i]
      if (chunk === undefined) throw new RangeError(`bytes ${at}..${end} are not in the store`)
      const chunkStart = starts[i]!
      const from = at - chunkStart
      const to = Math.min(chunk.length, end - chunkStart)
      parts.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to))
      at = chunkStart + to
      i++
    }
  }

  /** `[start, end)` as one array: a view when it lies in one chunk, else joined once. */
  copy(start: number, end: number): Uint8Array {
    const parts: Uint8Array[] = []
    this.viewsInto(parts, start, end)
    if (parts.length === 1) return parts[0]!
    return concatBytes(parts)
  }

  /** Drops every chunk that ends at or before `offset`. */
  release(offset: number): void {
    let head = this.#head
    const chunks = this.#chunks
    while (head < chunks.length && this.#starts[head]! + chunks[head]!.length <= offset) {
      this.#retained -= chunks[head]!.length
      chunks[head] = EMPTY
      head++
    }
    if (head > 64 && head * 2 > chunks.length) {
      this.#chunks = chunks.slice(head)
      this.#starts = this.#starts.slice(head)
      this.#hint = Math.max(0, this.#hint - head)
      head = 0
    }
    this.#head = head
    if (this.#hint < head) this.#hint = head
  }

  /** Index of the chunk holding byte `offset`. */
  #find(offset: number): number {
    const starts = this.#starts
    const hint = this.#hint
    const hintStart = starts[hint]
    if (
      hint >= this.#head &&
      hintStart !== undefined &&
      offset >= hintStart &&
      offset < hintStart + this.#chunks[hint]!.length
    ) {
      return hint
    }
    let low = this.#head
    let high = starts.length - 1
    if (high < low || offset < starts[low]!) throw new RangeError(`byte ${offset} is not in the store`)
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if (starts[middle]! <= offset) low = middle
      else high = middle - 1
    }
    return low
  }
}
