import type { ServerResponse } from 'node:http'
import type { GetMediaFaults } from '../options.ts'

/**
 * The body of a media response (GetMedia, GetMediaForFragmentList): `200`, `Content-Type: video/webm`, chunked,
 * each write one HTTP chunk (a fragment read from a file takes one per piece read). Writes wait for the client
 * to drain (backpressure), and GetMedia faults cut the body short: the connection is destroyed after the bytes
 * the fault allows, without a terminating chunk.
 */
export class MediaResponse {
  readonly #response: ServerResponse
  /** Body bytes after which the connection is dropped (fault injection), or Infinity. */
  #budget: number
  /** The fragment chunk (1-based) cut in half by `dropInFragment`, or 0. */
  readonly #dropInFragment: number
  /** Body bytes written so far. */
  #bytes = 0
  /** Fragment chunks written so far. */
  #chunks = 0
  /** The client went away, or a fault dropped the connection: nothing more is written. */
  #gone = false
  /** Resolves a write waiting for 'drain' (also on close and abort). */
  #drained: (() => void) | undefined
  /** Calls waiting for the socket to take written bytes (see `write`); all are called on close. */
  readonly #flushWaiters = new Set<() => void>()

  constructor(response: ServerResponse, faults: GetMediaFaults = {}) {
    this.#response = response
    this.#budget = faults.dropAfterBytes ?? Number.POSITIVE_INFINITY
    this.#dropInFragment = faults.dropInFragment ?? 0
    response.on('close', () => {
      this.#gone = true
      this.#drained?.()
      for (const flushed of [...this.#flushWaiters]) flushed()
    })
    // A write racing a vanished client fails on the socket; 'close' above already ends the response.
    response.on('error', () => {})
  }

  /** Whether the client is gone (closed, reset) or the connection was dropped by a fault. */
  get gone(): boolean {
    return this.#gone
  }

  /** Whether a write waits for the client to drain. */
  get waiting(): boolean {
    return this.#drained !== undefined
  }

  /** Body bytes written so far. */
  get bytesWritten(): number {
    return this.#bytes
  }

  /** Sends the status line and headers. */
  start(): void {
    this.#response.writeHead(200, { 'content-type': 'video/webm', 'transfer-encoding': 'chunked' })
    this.#response.flushHeaders()
    if (this.#budget <= 0) this.#drop()
  }

  /**
   * Writes the parts of one fragment (or error) chunk and waits until the client has taken them. Resolves
   * false when nothing more can be written: the client is gone or a fault dropped the connection.
   */
  async writeChunk(parts: readonly Uint8Array[], options: { fragment?: boolean } = {}): Promise<boolean> {
    if (this.#gone) return false
    if (options.fragment !== false) {
      let total = 0
      for (const part of parts) total += part.length
      this.startFragment(total)
    }
    return this.write(parts)
  }

  /**
   * Counts a fragment chunk of `total` bytes that the next `write` calls carry (the `dropInFragment` fault cuts
   * the one it names in half).
   */
  startFragment(total: number): void {
    if (++this.#chunks === this.#dropInFragment) {
      this.#budget = Math.min(this.#budget, this.#bytes + Math.floor(total / 2))
    }
  }

  /**
   * Writes parts (one HTTP chunk) and waits until the client drained them if they filled the buffers. Resolves
   * false when nothing more can be written. `flushed` is called once the socket has taken these bytes, so
   * that their memory can be reused (or once the response closed, or at once when nothing was written).
   */
  async write(parts: readonly Uint8Array[], flushed?: () => void): Promise<boolean> {
    if (this.#gone) {
      flushed?.()
      return false
    }
    const response = this.#response
    const pieces: Uint8Array[] = []
    for (const part of parts) {
      const room = this.#budget - this.#bytes
      const bytes = part.length > room ? part.subarray(0, room) : part
      if (bytes.length > 0) pieces.push(bytes)
      this.#bytes += bytes.length
      if (bytes.length < part.length) break
    }
    let ready = true
    let callback: (() => void) | undefined
    if (flushed !== undefined) {
      if (pieces.length === 0) flushed()
      else {
        let called = false
        callback = () => {
          if (called) return
          called = true
          this.#flushWaiters.delete(callback!)
          flushed()
        }
        this.#flushWaiters.add(callback)
      }
    }
    response.cork()
    for (const [index, bytes] of pieces.entries()) {
      ready =
        index === pieces.length - 1 && callback !== undefined
          ? response.write(bytes, callback)
          : response.write(bytes)
    }
    response.uncork()
    if (this.#bytes >= this.#budget) {
      this.#drop()
      return false
    }
    // Node 22 and 24 can answer a corked write with false and then flush everything on uncork, after which the
    // response emits no 'drain' (nothing is left to drain): wait only while bytes are still queued, and for
    // whichever drains first, the response or its socket.
    const socket = response.socket
    const queued = response.writableLength > 0 || (socket !== null && socket.writableLength > 0)
    if (!ready && queued && !this.#gone) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done)
          socket?.off('drain', done)
          this.#drained = undefined
          resolve()
        }
        this.#drained = done
        response.on('drain', done)
        socket?.on('drain', done)
      })
    }
    return !this.#gone
  }

  /** Ends the body with its terminating chunk (when the client is still there). */
  end(): void {
    if (!this.#gone && !this.#response.writableEnded) this.#response.end()
  }

  /** Destroys the connection at once (emulator shutdown with a write stuck on a client that does not read). */
  destroy(): void {
    this.#gone = true
    this.#response.destroy()
    this.#drained?.()
  }

  /** A fault: the bytes written so far reach the client, then the connection disappears. */
  #drop(): void {
    this.#gone = true
    const socket = this.#response.socket
    this.#drained?.()
    if (socket === null) return
    setImmediate(() => {
      if (socket.writableLength === 0) socket.destroy()
      else socket.once('drain', () => socket.destroy())
    })
  }
}
