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

/**
 * The wait before retry number `attempt`: the transport's `backoffDelay` (full jitter, a random point in
 * `[0, min(maxDelayMs, initialDelayMs × 2^(attempt−1))]`), the one backoff of kvs-streams. Kept here so that
 * imports from the producer keep working; the producer itself calls the transport's.
 *
 * @deprecated Import `backoffDelay` from `@kvs-streams/transport`.
 */
export { backoffDelay } from '@kvs-streams/transport'
