import { TimeoutError } from './errors.ts'

/**
 * Settles like `promise`, or rejects with a {@link TimeoutError} naming `label` after `ms` milliseconds.
 * The timer is cleared as soon as `promise` settles, so it never keeps the process alive.
 *
 * @example
 * const events = await withTimeout(collect(decodeAcks(source)), 5_000, 'ack decoder on a stalled socket')
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, label: string): Promise<T> {
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`ms must be a finite number >= 0, got ${ms}`)
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(label, ms)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
