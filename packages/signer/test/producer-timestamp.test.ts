import { describe, expect, test } from 'vitest'
import { formatProducerStartTimestamp } from '../src/index.ts'

describe('formatProducerStartTimestamp', () => {
  test.each([
    [1677613818005, '1677613818.005'],
    [1677613818050, '1677613818.050'],
    [1677613818500, '1677613818.500'],
    [1677613818000, '1677613818.000'],
    [1620367399995, '1620367399.995'],
    [0, '0.000'],
    [1, '0.001'],
    [999, '0.999'],
    [1000, '1.000'],
    [1677613818005.9, '1677613818.005'],
    [Number.MAX_SAFE_INTEGER, '9007199254740.991'],
  ])('formats %d as %s', (epochMs, expected) => {
    expect(formatProducerStartTimestamp(epochMs)).toBe(expected)
  })

  test.each([
    Number.NaN,
    -1,
    -0.5,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MAX_SAFE_INTEGER + 2,
  ])('throws a TypeError for %d', (epochMs) => {
    expect(() => formatProducerStartTimestamp(epochMs)).toThrow(TypeError)
  })

  test('throws a TypeError for a non-number', () => {
    expect(() => formatProducerStartTimestamp('1677613818005' as unknown as number)).toThrow(
      'epochMs must be a finite non-negative number of milliseconds, got string',
    )
  })
})
