type Callback = (error?: Error | null) => void

/**
 * Queued chunks smaller than this are copied together (up to `COALESCE_MAX_BYTES`) before they go to the
 * socket. A fragment of a live source arrives as one view per frame (25 per second at 1 Mbps: ~5 KB each),
 * and each chunk handed to undici costs a socket write (a system call, and on loopback the receiver's work
 * too) and an async-iterator round trip: tens of microseconds, against about one for copying 5 KB. Larger
 * chunks (a file read, a whole cluster) go as they are, without a copy.
 */
export const COALESCE_BELOW_BYTES = 16 * 1024
/** The most bytes small chunks are joined into. */
export const COALESCE_MAX_BYTES = 64 * 1024

/**
 * The request body of a streaming upload: bytes accepted from a writer, handed to undici one chunk at a time
 * as an async iterable. undici pulls the next chunk only once the socket has accepted the previous one, so
 * `queuedBytes` counts what the writer gave and the socket has not yet taken. A write's callback is held
 * while `queuedBytes` is above `highWaterMark` and released as the socket takes data: a slow network slows
 * the writer, and memory stays within `highWaterMark` plus one write.
 */
export class BodyQueue implements AsyncIterable<Buffer> {
  readonly highWaterMark: number
  /** Chunks not yet handed to undici; `#head` is the next one (the array is compacted now and then). */
  #chunks: (Buffer | undefined)[] = []
  #head = 0
  /** Bytes accepted from the writer and not yet taken by the socket (the chunk undici holds included). */
  #queuedBytes = 0
  /** The callback of the write that took the queue over `highWaterMark`, released once it is back under. */
  #heldCallback: Callback | undefined
  /** Wakes the iterator when it waits for data. */
  #wake: (() => void) | undefined
  /** `end()`'s callback: the writer is done; called once the socket has taken every chunk. */
  #endCallback: Callback | undefined
  #ended = false
  /** Set by `destroy()`: held and later writes fail with it, and the iterator throws it. */
  #error: Error | undefined
  /** Whether every chunk was handed over and the end reached. */
  #finished = false
  /** Called with each chunk just before it is handed to the socket. */
  readonly #onChunk: (byteLength: number) => void

  constructor(highWaterMark: number, onChunk: (byteLength: number) => void = () => {}) {
    this.highWaterMark = highWaterMark
    this.#onChunk = onChunk
  }

  /** Bytes accepted and not yet taken by the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** Whether the writer ended and the socket took every byte. */
  get finished(): boolean {
    return this.#finished
  }

  /** Queues one write's chunks; `callback` runs now when under `highWaterMark`, else once the socket catches up. */
  push(chunks: readonly Uint8Array[], callback: Callback): void {
    if (this.#error !== undefined) {
      callback(this.#error)
      return
    }
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue
      this.#chunks.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      )
      this.#queuedBytes += chunk.byteLength
    }
    this.#notify()
    if (this.#queuedBytes <= this.highWaterMark) callback()
    else this.#heldCallback = callback
  }

  /** The writer is done; `callback` runs once the socket has taken every chunk. */
  end(callback: Callback): void {
    if (this.#error !== undefined) {
      callback(this.#error)
      return
    }
    this.#ended = true
    this.#endCallback = callback
    this.#notify()
  }

  /** Fails held and later writes with `error` and stops the iterator. */
  destroy(error: Error): void {
    if (this.#error !== undefined) return
    this.#error = error
    this.#chunks = []
    this.#head = 0
    this.#queuedBytes = 0
    const held = this.#heldCallback
    const end = this.#endCallback
    this.#heldCallback = undefined
    this.#endCallback = undefined
    held?.(error)
    end?.(error)
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #taken(byteLength: number): void {
    this.#queuedBytes -= byteLength
    if (this.#heldCallback !== undefined && this.#queuedBytes <= this.highWaterMark) {
      const callback = this.#heldCallback
      this.#heldCallback = undefined
      callback()
    }
  }

  /** The next queued chunk, removed from the queue (the array is compacted now and then). */
  #shift(): Buffer {
    const chunk = this.#chunks[this.#head]!
    this.#chunks[this.#head++] = undefined
    if (this.#head === this.#chunks.length) {
      this.#chunks = []
      this.#head = 0
    } else if (this.#head >= 1024) {
      this.#chunks = this.#chunks.slice(this.#head)
      this.#head = 0
    }
    return chunk
  }

  /**
   * The next chunk to hand to the socket: a queued chunk as it is, or several small queued chunks copied into
   * one (see `COALESCE_BELOW_BYTES`).
   */
  #next(): Buffer {
    const first = this.#shift()
    if (first.byteLength >= COALESCE_BELOW_BYTES) return first
    // How many of the chunks after `first` join it (read before any shift compacts the array).
    let total = first.byteLength
    let count = 0
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const length = this.#chunks[i]!.byteLength
      if (length >= COALESCE_BELOW_BYTES || total + length > COALESCE_MAX_BYTES) break
      total += length
      count++
    }
    if (count === 0) return first
    const joined = Buffer.allocUnsafe(total)
    joined.set(first, 0)
    let offset = first.byteLength
    for (let i = 0; i < count; i++) {
      const chunk = this.#shift()
      joined.set(chunk, offset)
      offset += chunk.byteLength
    }
    return joined
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    // If undici stops pulling early (the request failed, or the response ended first), later writes queue up
    // to `highWaterMark` and then wait: the owner of the queue learns of the end from the response side.
    while (true) {
      if (this.#error !== undefined) throw this.#error
      if (this.#head < this.#chunks.length) {
        const chunk = this.#next()
        this.#onChunk(chunk.byteLength)
        yield chunk
        // undici asked for the next chunk: the socket has accepted this one.
        if (this.#error === undefined) this.#taken(chunk.byteLength)
        continue
      }
      if (this.#ended) {
        this.#finished = true
        const end = this.#endCallback
        this.#endCallback = undefined
        end?.()
        return
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }
}
