type Callback = (error?: Error | null) => void

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

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    // If undici stops pulling early (the request failed, or the response ended first), later writes queue up
    // to `highWaterMark` and then wait: the owner of the queue learns of the end from the response side.
    while (true) {
      if (this.#error !== undefined) throw this.#error
      if (this.#head < this.#chunks.length) {
        const chunk = this.#chunks[this.#head]!
        this.#chunks[this.#head++] = undefined
        if (this.#head === this.#chunks.length) {
          this.#chunks = []
          this.#head = 0
        } else if (this.#head >= 1024) {
          this.#chunks = this.#chunks.slice(this.#head)
          this.#head = 0
        }
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
