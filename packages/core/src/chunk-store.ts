/**
 * Keeps the chunks of a byte stream from some offset on, so that ranges of the stream can be handed out
 * later as views of those chunks (no copy) or joined once. Used to cut fragments out of a stream without
 * re-concatenating on every chunk. The caller bounds memory by releasing what it no longer needs.
 */
export class ChunkStore {
  /** Retained chunks, oldest first. */
  #chunks: Uint8Array[] = []
  /** Absolute stream offset of each retained chunk's first byte. */
  #starts: number[] = []
  /** Index of the first retained chunk (earlier slots are released; compacted now and then). */
  #head = 0
  /** Absolute offset one past the last appended byte. */
  #end = 0
  /** Bytes retained. */
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
    this.#chunks.push(chunk)
    this.#starts.push(this.#end)
    this.#end += chunk.length
    this.#retained += chunk.length
  }

  /** Views covering `[start, end)`, in order. Throws a RangeError when part of it was released. */
  slice(start: number, end: number): Uint8Array[] {
    const parts: Uint8Array[] = []
    if (end <= start) return parts
    let i = this.#find(start)
    let at = start
    while (at < end) {
      const chunk = this.#chunks[i]
      if (chunk === undefined) throw new RangeError(`bytes ${at}..${end} are not in the store`)
      const chunkStart = this.#starts[i]!
      const from = at - chunkStart
      const to = Math.min(chunk.length, end - chunkStart)
      parts.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to))
      at = chunkStart + to
      i++
    }
    return parts
  }

  /** `[start, end)` as one array: a view when it lies in one chunk, else joined once. */
  copy(start: number, end: number): Uint8Array {
    const parts = this.slice(start, end)
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
      head = 0
    }
    this.#head = head
  }

  #find(offset: number): number {
    const starts = this.#starts
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

const EMPTY = new Uint8Array(0)

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
