/** The reconnect policy: exponential backoff with jitter, bounded by consecutive failures without progress. */
export interface RetryPolicy {
  /** Delay before the first retry, ms (before jitter). */
  initialDelayMs: number
  /** Largest delay, ms (before jitter). */
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
 * The wait before retry number `attempt` (1 for the first retry after a failure): `initialDelayMs` doubled per
 * attempt up to `maxDelayMs`, then "equal jitter" — a random point in the upper half — so that producers
 * failing together do not reconnect together, while the wait never collapses to zero.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52))
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent)
  return Math.round(base / 2 + (random() * base) / 2)
}
