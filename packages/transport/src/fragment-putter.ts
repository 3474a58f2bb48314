import { invalidOption, numberOption } from '@kvs-streams/core'
import { backoffDelay, sleep } from './backoff.ts'
import { KvsAbortError, KvsErrorAckError } from './errors.ts'
import {
  type PutFragmentInput,
  type PutFragmentOptions,
  type PutFragmentResult,
  type PutHeaderInput,
  resolvePutFragmentOptions,
  sendFragment,
} from './put-fragment.ts'
import { milliseconds } from './request-options.ts'
import { DEFAULT_MIN_REQUEST_INTERVAL_MS, RequestPacer } from './request-pacer.ts'
import { classifyError } from './retry.ts'

/** Default `maxAttempts`: requests per fragment before giving up. */
export const DEFAULT_MAX_ATTEMPTS = 4

/** Default `retryDelayMs`: the bound of the first resend's delay, doubled for each further one. */
export const DEFAULT_RETRY_DELAY_MS = 100

/** The most a resend waits (before the pacing wait), ms. */
const MAX_RETRY_DELAY_MS = 10_000

/** A failed request that will be sent again, as told to `onRetry`. */
export interface FragmentRetry {
  /** The fragment's `index`, as given to `put()`. */
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
  /**
   * Bound of the delay before the first resend, doubled for each further one (at most 10 s), ms: each delay is
   * a random point below its bound (the transport's `backoffDelay`, full jitter). Default 100.
   */
  retryDelayMs?: number
  /** Random number in [0, 1) for the resend delays' jitter. Default `Math.random`. */
  random?: () => number
  /** Told about every failed request that will be sent again. */
  onRetry?: (retry: FragmentRetry) => void
  /** Current time, epoch ms. Default `Date.now`. */
  clock?: () => number
}

/** A fragment the service acknowledged. */
export interface PutFragmentOutcome extends PutFragmentResult {
  /** The fragment's `index`, as given to `put()`. */
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
  put(header: PutHeaderInput, fragment: PutFragmentInput): Promise<PutFragmentOutcome>
}

/**
 * Whether sending the same fragment again may succeed: an ERROR ack by its ErrorId (`describeAckError`), an abort
 * never, anything else as `classifyError` decides (connection failures, timeouts, throttling, 5xx, expired
 * credentials: yes; a refused identity, an unknown stream, a rejected request: no).
 */
export function isRetriableFragmentError(error: unknown): boolean {
  if (KvsErrorAckError.is(error)) return error.retriable
  if (KvsAbortError.is(error)) return false
  return classifyError(error).retriable
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
  const maxAttempts = numberOption(
    'maxAttempts',
    options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    'an integer >= 1',
    {
      integer: true,
      min: 1,
    },
  )
  const baseDelayMs = milliseconds('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS)
  const { onRetry, clock = Date.now, random = Math.random } = options
  if (typeof random !== 'function') throw invalidOption('random', 'a function returning [0, 1)', random)
  if (onRetry !== undefined && typeof onRetry !== 'function') {
    throw invalidOption('onRetry', 'a function', onRetry)
  }
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  const pacer = new RequestPacer(minIntervalMs)
  /** The previous `put()`: requests go one at a time, in call order. */
  let queue: Promise<unknown> = Promise.resolve()

  async function send(header: PutHeaderInput, fragment: PutFragmentInput): Promise<PutFragmentOutcome> {
    for (let attempt = 1; ; attempt++) {
      await pause(pacer.delayMs(clock()), resolved.signal)
      pacer.started(clock())
      try {
        const result = await sendFragment(resolved, header, fragment)
        return { ...result, index: fragment.index, attempts: attempt }
      } catch (error) {
        if (attempt >= maxAttempts || !isRetriableFragmentError(error)) throw error
        const delayMs = backoffDelay(
          attempt,
          { initialDelayMs: baseDelayMs, maxDelayMs: MAX_RETRY_DELAY_MS },
          random,
        )
        onRetry?.({ index: fragment.index, attempt, error, delayMs })
        await pause(delayMs, resolved.signal)
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

/** Waits `ms` (the transport's `sleep`); rejects with `KvsAbortError` when `signal` aborts first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!(await sleep(ms, signal))) throw new KvsAbortError(undefined, { cause: signal?.reason })
}
