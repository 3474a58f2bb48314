import { ProducerError } from './errors.ts'

/**
 * Runs `call` with a signal that aborts after `timeoutMs` or when `parent` aborts, and settles no later than
 * that even if `call` ignores its signal.
 *
 * The bound is a `setTimeout` held here and cleared when the call settles, never `AbortSignal.timeout()`: on
 * Node 20 a garbage collection can collect a timeout signal that only `AbortSignal.any()` refers to before it
 * fires (nodejs/node#57736), and the wait it bounded then lasts as long as the call does.
 *
 * Rejects with `ProducerError` `ERR_KVS_PRODUCER_TIMEOUT` when the time runs out (a transient failure: the
 * attempt is retried), with the parent's reason when it aborts, and with the call's error otherwise.
 */
export function withDeadline<T>(
  timeoutMs: number,
  parent: AbortSignal,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const finish = (): boolean => {
      if (settled) return false
      settled = true
      clearTimeout(timer)
      parent.removeEventListener('abort', onParentAbort)
      return true
    }
    const onParentAbort = (): void => {
      if (!finish()) return
      controller.abort(parent.reason)
      reject(parent.reason)
    }
    const timer = setTimeout(() => {
      if (!finish()) return
      const error = new ProducerError('ERR_KVS_PRODUCER_TIMEOUT', `${what} took longer than ${timeoutMs} ms`)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
    if (parent.aborted) {
      onParentAbort()
      return
    }
    parent.addEventListener('abort', onParentAbort, { once: true })
    let pending: Promise<T>
    try {
      pending = call(controller.signal)
    } catch (error) {
      if (finish()) reject(error)
      return
    }
    pending.then(
      (value) => {
        if (finish()) resolve(value)
      },
      (error: unknown) => {
        if (finish()) reject(error)
      },
    )
  })
}
