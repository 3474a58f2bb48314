/** The bounds of an exponential backoff. */
export interface BackoffOptions {
  /** Upper bound of the first wait, ms. */
  initialDelayMs: number
  /** Upper bound of every wait, ms. */
  maxDelayMs: number
}

/**
 * The wait before retry number `attempt` (1 for the first retry after a failure), ms: "full jitter", a random
 * point in `[0, base]` where `base` is `initialDelayMs` doubled per attempt up to `maxDelayMs`, so that clients
 * failing together spread their retries over the whole window. Never more than `maxDelayMs`. `random` returns
 * a number in `[0, 1)` (values outside are clamped).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52))
  const base = Math.max(0, Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent))
  const point = Math.min(1, Math.max(0, random()))
  return Math.round(point * base)
}

/**
 * Waits `ms`. Resolves `true` when the time passed, `false` as soon as `signal` aborts (at once when it already
 * has): it never rejects, and leaves no timer or listener behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  if (!(ms > 0)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
