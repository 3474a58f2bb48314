import type { FragmentEvent, HeaderEvent } from '@kvs-streams/chunker'
import { invalidOption } from '@kvs-streams/core'
import {
  KvsAbortError,
  KvsConnectionError,
  KvsErrorAckError,
  KvsHttpError,
  KvsProtocolError,
  KvsTimeoutError,
} from './errors.ts'
import {
  type PutFragmentOptions,
  type PutFragmentResult,
  resolvePutFragmentOptions,
  sendFragment,
} from './put-fragment.ts'
import { milliseconds } from './request-options.ts'
import { DEFAULT_MIN_REQUEST_INTERVAL_MS, RequestPacer, retryDelayMs } from './request-pacer.ts'

/** Default `maxAttempts`: requests per fragment before giving up. */
export const DEFAULT_MAX_ATTEMPTS = 4

/** Default `retryDelayMs`: the first resend's delay, doubled for each further one. */
export const DEFAULT_RETRY_DELAY_MS = 100

/** A failed request that will be sent again, as told to `onRetry`. */
export interface FragmentRetry {
  /** The fragment's index from the chunker. */
  index: number
  /** The attempt that failed (1 = the first request). */
  attempt: number
  /** Why it failed (a transport error). */
  error: unknown
  /** Wait before the next attempt, ms (the pacing wait comes on top). */
  delayMs: number
}

/** Options of `createFragmentPutter`: `putFragment`'s, plus pacing and resends. */
export type FragmentPutterOptions = PutFragmentOptions & {
  /** Least time between the starts of two requests, resends included, ms. Default 200 (5 calls/s/stream). */
  minRequestIntervalMs?: number
  /** Requests per fragment before its last error is thrown. Default 4. */
  maxAttempts?: number
  /** Delay before the first resend, doubled for each further one (at most 10 s), ms. Default 100. */
  retryDelayMs?: number
  /** Told about every failed request that will be sent again. */
  onRetry?: (retry: FragmentRetry) => void
  /** Current time, epoch ms. Default `Date.now`. */
  clock?: () => number
}

/** A fragment the service acknowledged. */
export interface PutFragmentOutcome extends PutFragmentResult {
  /** The fragment's index from the chunker. */
  index: number
  /** Requests it took (1 when the first succeeded). */
  attempts: number
}

/** Puts fragments one request each, in order, paced and resent on failure. */
export interface FragmentPutter {
  /**
   * Sends `header` + `fragment` (after the fragments given before it: calls are queued) and resolves once the
   * fragment's `waitFor` ack arrived. A resend follows a connection failure, timeout, throttling or 5xx
   * (`KvsHttpError`), a retriable ERROR ack or a service error in the body; other errors, and the last one
   * after `maxAttempts` requests, reject. A resent fragment may be stored twice when only its ack was lost.
   */
  put(header: HeaderEvent, fragment: FragmentEvent): Promise<PutFragmentOutcome>
}

/** Whether sending the same fragment again may succeed. */
export function isRetriableFragmentError(error: unknown): boolean {
  if (KvsErrorAckError.is(error)) return error.retriable
  if (KvsHttpError.is(error)) {
    return error.status >= 500 || error.status === 429 || /LimitExceeded|Throttl/.test(error.errorType ?? '')
  }
  return KvsConnectionError.is(error) || KvsTimeoutError.is(error) || KvsProtocolError.is(error)
}

/**
 * Creates a putter that sends each fragment in a PutMedia request of its own with `putFragment` (fetch-based,
 * no Node API): one request at a time, their starts spaced by `minRequestIntervalMs` (PutMedia allows 5
 * calls per second per stream), a failed request resent up to `maxAttempts` times with doubling delays.
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/limits.html
 */
export function createFragmentPutter(options: FragmentPutterOptions): FragmentPutter {
  const resolved = resolvePutFragmentOptions(options)
  const minIntervalMs = milliseconds(
    'minRequestIntervalMs',
    options.minRequestIntervalMs,
    DEFAULT_MIN_REQUEST_INTERVAL_MS,
  )
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw invalidOption('maxAttempts', 'an integer >= 1', options.maxAttempts)
  }
  const baseDelayMs = milliseconds('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS)
  const { onRetry, clock = Date.now } = options
  if (onRetry !== undefined && typeof onRetry !== 'function') {
    throw invalidOption('onRetry', 'a function', onRetry)
  }
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  const pacer = new RequestPacer(minIntervalMs)
  /** The previous `put()`: requests go one at a time, in call order. */
  let queue: Promise<unknown> = Promise.resolve()

  async function send(header: HeaderEvent, fragment: FragmentEvent): Promise<PutFragmentOutcome> {
    for (let attempt = 1; ; attempt++) {
      await sleep(pacer.delayMs(clock()), resolved.signal)
      pacer.started(clock())
      try {
        const result = await sendFragment(resolved, header, fragment)
        return { ...result, index: fragment.index, attempts: attempt }
      } catch (error) {
        if (attempt >= maxAttempts || !isRetriableFragmentError(error)) throw error
        const delayMs = retryDelayMs(attempt, baseDelayMs)
        onRetry?.({ index: fragment.index, attempt, error, delayMs })
        await sleep(delayMs, resolved.signal)
      }
    }
  }

  return {
    put(header, fragment) {
      const result = queue.then(() => send(header, fragment))
      queue = result.catch(() => {})
      return result
    },
  }
}

/** Waits `ms`; rejects with `KvsAbortError` when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new KvsAbortError(undefined, { cause: signal.reason }))
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new KvsAbortError(undefined, { cause: signal?.reason }))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
