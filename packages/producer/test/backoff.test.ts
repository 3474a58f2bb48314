import { backoffDelay as transportBackoffDelay } from '@kvs-streams/transport'
import { describe, expect, test } from 'vitest'
import { backoffDelay, DEFAULT_RETRY } from '../src/index.ts'

describe('backoffDelay', () => {
  const policy = { initialDelayMs: 200, maxDelayMs: 10_000, maxAttempts: Number.POSITIVE_INFINITY }

  test('doubles per attempt from initialDelayMs and stops at maxDelayMs', () => {
    const upper = (attempt: number) => backoffDelay(attempt, policy, () => 1)
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(upper)).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000])
    expect(upper(10_000)).toBe(10_000)
  })

  test('jitters over the whole window, from zero to the bound (full jitter, the transport backoff)', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(0)
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400)
    expect(backoffDelay(4, policy, () => 0.25)).toBe(400)
    for (let i = 0; i < 1000; i++) {
      const delay = backoffDelay(4, policy)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(1600)
    }
  })

  test('is the transport backoff', () => {
    expect(backoffDelay).toBe(transportBackoffDelay)
  })

  test('has the documented defaults', () => {
    expect(DEFAULT_RETRY).toEqual({
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      maxAttempts: Number.POSITIVE_INFINITY,
    })
  })
})
