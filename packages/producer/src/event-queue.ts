import { ProducerError } from './errors.ts'

/** Default bound of the events queued for one `events()` consumer. */
export const DEFAULT_MAX_QUEUED_EVENTS = 10_000

/**
 * One consumer of `events()`: events are queued as they happen and handed out in order. The queue is bounded:
 * a consumer more than `maxQueued` events behind gets `ERR_KVS_PRODUCER_EVENTS_OVERFLOW` (thrown by `next()`
 * after the queued events) rather than letting memory grow.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #maxQueued: number
  readonly #onDone: (queue: EventQueue<T>) => void
  /** Events not yet handed out; `#head` is the next one. */
  #items: T[] = []
  #head = 0
  /** No more events will come (the producer closed, or the consumer returned). */
  #ended = false
  #error: Error | undefined
  /** Resolves a `next()` that waits for an event. */
  #wake: (() => void) | undefined

  constructor(maxQueued: number, onDone: (queue: EventQueue<T>) => void) {
    this.#maxQueued = maxQueued
    this.#onDone = onDone
  }

  push(item: T): void {
    if (this.#ended) return
    if (this.#items.length - this.#head >= this.#maxQueued) {
      this.#error = new ProducerError(
        'ERR_KVS_PRODUCER_EVENTS_OVERFLOW',
        `An events() consumer fell more than ${this.#maxQueued} events behind`,
      )
      this.end()
      return
    }
    this.#items.push(item)
    this.#notify()
  }

  /** No more events: `next()` finishes once the queued ones are read. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#onDone(this)
    this.#notify()
  }

  async next(): Promise<IteratorResult<T>> {
    while (this.#head === this.#items.length && !this.#ended) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head++]!
      if (this.#head === this.#items.length) {
        this.#items = []
        this.#head = 0
      }
      return { done: false, value }
    }
    const error = this.#error
    if (error !== undefined) {
      this.#error = undefined
      throw error
    }
    return { done: true, value: undefined }
  }

  async return(): Promise<IteratorResult<T>> {
    this.#items = []
    this.#head = 0
    this.#error = undefined
    this.end()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
