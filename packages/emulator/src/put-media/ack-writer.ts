import type { ServerResponse } from 'node:http'
import { type Ack, encodeAck } from '@kvs-streams/acks'

/**
 * Writes acks to a chunked PutMedia response, each as its own HTTP chunk (`JSON\n`, as the service does), in
 * the order they are given. With `delayMs`, each ack goes out `delayMs` after it was given (a fault for tests).
 */
export class AckWriter {
  readonly #response: ServerResponse
  readonly #delayMs: number
  readonly #clock: () => number
  /** Settles once every ack given so far was written (or dropped after close). */
  #tail: Promise<void> = Promise.resolve()
  /** Delays in progress, so close() can cancel them and let the chain settle. */
  readonly #sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>()
  readonly #onAck: ((ack: Ack) => void) | undefined
  #closed = false

  /** `onAck` sees every ack given to {@link write} while the writer is open (for the console's recent acks). */
  constructor(
    response: ServerResponse,
    options: { delayMs?: number; clock: () => number; onAck?: (ack: Ack) => void },
  ) {
    this.#response = response
    this.#delayMs = options.delayMs ?? 0
    this.#clock = options.clock
    this.#onAck = options.onAck
  }

  write(ack: Ack): void {
    if (this.#closed) return
    this.#onAck?.(ack)
    const bytes = encodeAck(ack)
    if (this.#delayMs === 0) {
      this.#emit(bytes)
      return
    }
    const due = this.#clock() + this.#delayMs
    this.#tail = this.#tail.then(() => this.#sleepUntil(due)).then(() => this.#emit(bytes))
  }

  /** Resolves when every ack given so far has been written. */
  flushed(): Promise<void> {
    return this.#tail
  }

  /** Drops acks not yet written; later writes are ignored. */
  close(): void {
    this.#closed = true
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer)
      sleep.resolve()
    }
    this.#sleeps.clear()
  }

  #emit(bytes: Uint8Array): void {
    const response = this.#response
    if (this.#closed || response.writableEnded || response.destroyed) return
    response.write(bytes)
  }

  #sleepUntil(due: number): Promise<void> {
    const wait = due - this.#clock()
    if (wait <= 0 || this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const sleep = {
        resolve,
        timer: setTimeout(() => {
          this.#sleeps.delete(sleep)
          resolve()
        }, wait),
      }
      this.#sleeps.add(sleep)
    })
  }
}
