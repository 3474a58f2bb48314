/** The reconnect policy: exponential backoff with jitter, bounded by consecutive failures without progress. */
export interface RetryPolicy {
  /** Upper bound of the first retry's delay, ms (the delay is a random point below it: full jitter). */
  initialDelayMs: number
  /** Upper bound of every delay, ms. */
  maxDelayMs: number
  /** Consecutive failures without an acknowledged fragment before the producer gives up. */
  maxAttempts: number
}

/** Defaults of `retry`. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  maxAttempts: Number.POSITIVE_INFINITY,
})
