/**
 * Detects a stale PutMedia connection: data was sent (or waits to be sent) and no response byte has arrived for
 * `timeoutMs` since (PIC's `connectionStalenessDuration`, ack-based). One timer per session, re-armed lazily: acks only clear a
 * field, so a busy connection costs no timer churn.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/producer-reference-structures-stream.html
 */
export class StalenessTimer {
  readonly #timeoutMs: number
  readonly #onStale: () => void
  readonly #now: () => number
  /** When the oldest data sent since the last response byte was sent; undefined when nothing is unanswered. */
  #pendingSince: number | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /** `timeoutMs` 0 disables the timer. */
  constructor(timeoutMs: number, onStale: () => void, now: () => number = performance.now.bind(performance)) {
    this.#timeoutMs = timeoutMs
    this.#onStale = onStale
    this.#now = now
  }

  /** Data is being sent. */
  noteSent(): void {
    if (this.#timeoutMs === 0 || this.#stopped || this.#pendingSince !== undefined) return
    this.#pendingSince = this.#now()
    if (this.#timer === undefined) this.#arm(this.#timeoutMs)
  }

  /**
   * A response byte arrived: everything sent so far counts as answered. With `stillQueued`, data waits to be
   * sent (the socket is not taking it): it is unanswered from now on, as if sent now, so a connection that
   * stops taking bytes right after an answer is still found stale.
   */
  noteResponse(stillQueued = false): void {
    this.#pendingSince = undefined
    if (stillQueued) this.noteSent()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), delayMs)
    this.#timer.unref()
  }

  #check(): void {
    this.#timer = undefined
    if (this.#stopped || this.#pendingSince === undefined) return
    const elapsed = this.#now() - this.#pendingSince
    if (elapsed >= this.#timeoutMs) {
      this.stop()
      this.#onStale()
    } else {
      this.#arm(this.#timeoutMs - elapsed)
    }
  }
}
