import { describe, expect, test } from 'vitest'
import * as producer from '../src/index.ts'
import { DEFAULT_RETRY } from '../src/index.ts'

describe('the retry policy', () => {
  test('has the documented defaults', () => {
    expect(DEFAULT_RETRY).toEqual({
      initialDelayMs: 200,
      maxDelayMs: 10_000,
      maxAttempts: Number.POSITIVE_INFINITY,
    })
  })

  test("the backoff is the transport's alone: the producer no longer re-exports backoffDelay", () => {
    expect('backoffDelay' in producer).toBe(false)
  })
})
