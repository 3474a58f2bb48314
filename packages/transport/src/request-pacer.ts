/**
 * Default spacing of request starts, ms: PutMedia allows 5 calls per second per stream.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/limits.html
 */
export const DEFAULT_MIN_REQUEST_INTERVAL_MS = 200

/**
 * Spaces request starts at least `minIntervalMs` apart: a pure core (no timers), asked for the wait before a
 * request and told when one starts. Resends count like any request: the service's limit counts calls.
 */
export class RequestPacer {
  readonly #minIntervalMs: number
  /** When the last request started (epoch ms); -Infinity before the first, so it goes at once. */
  #lastStartMs = Number.NEGATIVE_INFINITY

  constructor(minIntervalMs: number) {
    this.#minIntervalMs = minIntervalMs
  }

  /** How long to wait at `nowMs` before the next request may start, ms (0: now). */
  delayMs(nowMs: number): number {
    return Math.max(0, this.#lastStartMs + this.#minIntervalMs - nowMs)
  }

  /** Records that a request started at `nowMs`. */
  started(nowMs: number): void {
    this.#lastStartMs = nowMs
  }
}
