import { describe, expect, it } from 'vitest'
import {
  AWS_EXCEPTION_CATEGORIES,
  backoffDelay,
  classifyError,
  type ErrorCategory,
  exceptionCategory,
  KvsAbortError,
  KvsConnectionError,
  KvsHttpError,
  KvsProtocolError,
  KvsTimeoutError,
  NETWORK_ERROR_CODES,
  sleep,
} from '../src/index.ts'
import * as web from '../src/web.ts'

const http = (status: number, errorType?: string, body = '{}') =>
  new KvsHttpError(`HTTP ${status}`, { status, errorType, body })

const sdk = (name: string, status: number | undefined, fault?: 'client' | 'server') =>
  Object.assign(new Error(name), {
    name,
    ...(fault === undefined ? {} : { $fault: fault }),
    $metadata: status === undefined ? { attempts: 1 } : { httpStatusCode: status, requestId: 'sdk-1' },
  })

const coded = (code: string) => Object.assign(new Error(code), { code })

const RETRIABLE: readonly ErrorCategory[] = ['retry', 'refresh-credentials', 'new-endpoint']

/** One row per exception name of the table: its category, and the flags that follow from it. */
const EXCEPTIONS: readonly [string, ErrorCategory][] = [
  ['ClientLimitExceededException', 'retry'],
  ['ConnectionLimitExceededException', 'retry'],
  ['ThrottlingException', 'retry'],
  ['Throttling', 'retry'],
  ['ThrottledException', 'retry'],
  ['TooManyRequestsException', 'retry'],
  ['RequestLimitExceeded', 'retry'],
  ['LimitExceededException', 'retry'],
  ['ServiceUnavailable', 'retry'],
  ['ServiceUnavailableException', 'retry'],
  ['InternalFailure', 'retry'],
  ['InternalServerError', 'retry'],
  ['InternalServerException', 'retry'],
  ['RequestTimeout', 'retry'],
  ['RequestTimeoutException', 'retry'],
  ['ResourceInUseException', 'retry'],
  ['ExpiredToken', 'refresh-credentials'],
  ['ExpiredTokenException', 'refresh-credentials'],
  ['RequestExpired', 'refresh-credentials'],
  ['InvalidEndpointException', 'new-endpoint'],
  ['ResourceNotFoundException', 'fatal-not-found'],
  ['NotAuthorizedException', 'fatal-auth'],
  ['AccessDeniedException', 'fatal-auth'],
  ['AccessDenied', 'fatal-auth'],
  ['UnrecognizedClientException', 'fatal-auth'],
  ['InvalidSignatureException', 'fatal-auth'],
  ['IncompleteSignature', 'fatal-auth'],
  ['IncompleteSignatureException', 'fatal-auth'],
  ['MissingAuthenticationToken', 'fatal-auth'],
  ['MissingAuthenticationTokenException', 'fatal-auth'],
  ['InvalidClientTokenId', 'fatal-auth'],
  ['SignatureDoesNotMatch', 'fatal-auth'],
  ['InvalidArgumentException', 'fatal-rejected'],
  ['SerializationException', 'fatal-rejected'],
  ['ValidationException', 'fatal-rejected'],
  ['InvalidDeviceException', 'fatal-rejected'],
  ['UnknownOperationException', 'fatal-rejected'],
  ['InvalidResourceFormatException', 'fatal-rejected'],
  ['AccountStreamLimitExceededException', 'fatal-rejected'],
]

describe('classifyError: the exception table', () => {
  it('has one row here per name of the table', () => {
    expect(EXCEPTIONS.map(([name]) => name).sort()).toEqual(Object.keys(AWS_EXCEPTION_CATEGORIES).sort())
  })

  // A 400 whatever the name, so that the name alone decides (statuses have rows of their own below).
  it.each(EXCEPTIONS)('%s (KvsHttpError and AWS SDK error): %s', (name, category) => {
    const expected = {
      category,
      retriable: RETRIABLE.includes(category),
      refreshCredentials: category === 'refresh-credentials',
      newEndpoint: category === 'new-endpoint',
      reason: name,
    }
    expect(classifyError(http(400, name))).toEqual(expected)
    expect(classifyError(sdk(name, 400, 'client'))).toEqual(expected)
    expect(exceptionCategory(name)).toBe(category)
  })

  it('ExpiredTokenException is retried with fresh credentials, not fatal as other 403s', () => {
    expect(classifyError(http(403, 'ExpiredTokenException'))).toMatchObject({
      retriable: true,
      refreshCredentials: true,
      newEndpoint: false,
    })
    expect(classifyError(http(403, 'AccessDeniedException'))).toMatchObject({ retriable: false })
  })

  it('knows no name outside the table, not even those of Object.prototype', () => {
    expect(exceptionCategory('toString')).toBeUndefined()
    expect(exceptionCategory('SomethingNewException')).toBeUndefined()
    expect(classifyError(http(400, 'toString'))).toMatchObject({ category: 'fatal-rejected' })
  })
})

describe('classifyError: statuses without a known name', () => {
  it.each([
    ['500 unnamed', http(500), 'retry', 'HTTP 500'],
    ['503 named unknown', http(503, 'SlowDown'), 'retry', 'SlowDown'],
    ['408', http(408), 'retry', 'HTTP 408'],
    ['429', http(429), 'retry', 'HTTP 429'],
    ['404 unnamed, no body', http(404, undefined, ''), 'fatal-not-found', 'HTTP 404'],
    ['401 unnamed, no body', http(401, undefined, ''), 'fatal-auth', 'HTTP 401'],
    ['403 unnamed, no body', http(403, undefined, ''), 'fatal-auth', 'HTTP 403'],
    ['403 named unknown', http(403, 'SomeNewAuthException'), 'fatal-auth', 'SomeNewAuthException'],
    ['400 unnamed, with a body', http(400, undefined, 'bad'), 'fatal-rejected', 'HTTP 400'],
    ['400 named unknown', http(400, 'SomethingNewException'), 'fatal-rejected', 'SomethingNewException'],
    ['400 unnamed, empty body (not the service answering)', http(400, undefined, ''), 'retry', 'HTTP 400'],
    ['400 unnamed, blank body', http(400, undefined, ' \n'), 'retry', 'HTTP 400'],
    ['SDK 500, unknown name', sdk('Whatever', 500, 'server'), 'retry', 'Whatever'],
    ['SDK $fault server, no status', sdk('Whatever', undefined, 'server'), 'retry', 'Whatever'],
    ['SDK $fault client, no status', sdk('Whatever', undefined, 'client'), 'fatal-rejected', 'Whatever'],
    ['SDK 404, unknown name', sdk('Whatever', 404), 'fatal-not-found', 'Whatever'],
  ] as const)('%s: %s', (_title, error, category, reason) => {
    expect(classifyError(error)).toMatchObject({
      category,
      retriable: RETRIABLE.includes(category),
      refreshCredentials: false,
      newEndpoint: false,
      reason,
    })
  })
})

describe('classifyError: network failures', () => {
  it.each([...NETWORK_ERROR_CODES].filter((code) => !code.startsWith('ERR_KVS_')))(
    '%s, bare or wrapped in a TypeError as undici fetch does: retry',
    (code) => {
      for (const error of [
        coded(code),
        new TypeError('fetch failed', { cause: coded(code) }),
        new TypeError('terminated', { cause: new Error('outer', { cause: coded(code) }) }),
      ]) {
        expect(classifyError(error)).toEqual({
          category: 'retry',
          retriable: true,
          refreshCredentials: false,
          newEndpoint: false,
          reason: code,
        })
      }
    },
  )

  it.each([
    [
      'KvsConnectionError',
      new KvsConnectionError('Connection failed: read ECONNRESET'),
      'ERR_KVS_CONNECTION',
    ],
    [
      'a connect timeout',
      new KvsTimeoutError('ERR_KVS_CONNECT_TIMEOUT', 'slow', 5000),
      'ERR_KVS_CONNECT_TIMEOUT',
    ],
  ])('%s: a new endpoint, then retry', (_title, error, reason) => {
    expect(classifyError(error)).toEqual({
      category: 'new-endpoint',
      retriable: true,
      refreshCredentials: false,
      newEndpoint: true,
      reason,
    })
  })

  it.each([
    ['a stale connection', new KvsTimeoutError('ERR_KVS_ACK_STALE', 'stale', 10_000), 'KvsTimeoutError'],
    ['an aborted request', new KvsAbortError(), 'AbortError'],
    ['a protocol error', new KvsProtocolError('not JSON'), 'KvsProtocolError'],
    ['an unknown error', new Error('???'), 'Error'],
    ['an SDK networking error without status', sdk('TimeoutError', undefined), 'TimeoutError'],
    ['a thrown string', 'boom', 'string'],
    [
      'a TypeError with an unknown cause code',
      new TypeError('x', { cause: coded('UND_ERR_X') }),
      'TypeError',
    ],
  ])('%s: %s', (_title, error, reason) => {
    const decided = classifyError(error)
    if (error instanceof TypeError) {
      expect(decided).toMatchObject({ category: 'fatal-rejected', retriable: false, reason })
    } else {
      expect(decided).toEqual({
        category: 'retry',
        retriable: true,
        refreshCredentials: false,
        newEndpoint: false,
        reason,
      })
    }
  })

  it('a bad argument (TypeError, RangeError) is fatal: no retry can fix it', () => {
    expect(classifyError(new TypeError('startSelector must be an object'))).toMatchObject({
      category: 'fatal-rejected',
      retriable: false,
      reason: 'TypeError',
    })
    expect(classifyError(new RangeError('too large'))).toMatchObject({
      category: 'fatal-rejected',
      retriable: false,
    })
  })
})

describe('the web entry point', () => {
  it('has the same policy, backoff and sleep (retry.ts and backoff.ts import no Node module)', () => {
    expect(web.classifyError).toBe(classifyError)
    expect(web.AWS_EXCEPTION_CATEGORIES).toBe(AWS_EXCEPTION_CATEGORIES)
    expect(web.backoffDelay).toBe(backoffDelay)
    expect(web.sleep).toBe(sleep)
  })
})

describe('backoffDelay', () => {
  const bounds = { initialDelayMs: 200, maxDelayMs: 10_000 }

  it('doubles its upper bound per attempt from initialDelayMs and stops at maxDelayMs', () => {
    const upper = (attempt: number) => backoffDelay(attempt, bounds, () => 1)
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(upper)).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000])
    expect(upper(10_000)).toBe(10_000)
    expect(upper(0)).toBe(200)
    expect(upper(-3)).toBe(200)
  })

  it('jitters over the whole window [0, base] (full jitter)', () => {
    expect(backoffDelay(1, bounds, () => 0)).toBe(0)
    expect(backoffDelay(3, bounds, () => 0.5)).toBe(400)
    expect(backoffDelay(4, bounds, () => 0.25)).toBe(400)
    expect(backoffDelay(8, bounds, () => 0.999_9)).toBe(9999)
    const seen = { low: false, high: false }
    for (let i = 0; i < 2000; i++) {
      const delay = backoffDelay(4, bounds)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(1600)
      if (delay < 400) seen.low = true
      if (delay > 1200) seen.high = true
    }
    expect(seen).toEqual({ low: true, high: true })
  })

  it('stays within [0, maxDelayMs] whatever random returns', () => {
    expect(backoffDelay(20, bounds, () => 7)).toBe(10_000)
    expect(backoffDelay(20, bounds, () => -1)).toBe(0)
    expect(backoffDelay(2, { initialDelayMs: 500, maxDelayMs: 300 }, () => 1)).toBe(300)
  })
})

describe('sleep', () => {
  it('resolves true once the time has passed', async () => {
    const started = performance.now()
    await expect(sleep(30)).resolves.toBe(true)
    expect(performance.now() - started).toBeGreaterThanOrEqual(25)
    await expect(sleep(0)).resolves.toBe(true)
  })

  it('resolves false promptly when the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const slept = sleep(60_000, controller.signal)
    setTimeout(() => controller.abort(), 10)
    await expect(slept).resolves.toBe(false)
    expect(performance.now() - started).toBeLessThan(5000)
    await expect(sleep(60_000, controller.signal)).resolves.toBe(false)
    await expect(sleep(0, AbortSignal.abort())).resolves.toBe(false)
  })

  it('leaves no abort listener behind once it has slept', async () => {
    const controller = new AbortController()
    let added = 0
    let removed = 0
    const add = controller.signal.addEventListener.bind(controller.signal)
    const remove = controller.signal.removeEventListener.bind(controller.signal)
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++
      add(...args)
    }) as typeof add
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++
      remove(...args)
    }) as typeof remove
    await expect(sleep(5, controller.signal)).resolves.toBe(true)
    expect([added, removed]).toEqual([1, 1])
  })
})
