import { describe, expect, it } from 'vitest'
import {
  describeValue,
  invalidOption,
  isNumberWithin,
  numberOption,
  positiveIntegerOption,
  renamedOption,
} from '../src/index.ts'

describe('invalidOption', () => {
  it.each([
    [{}, 'an object'],
    [new Uint8Array(2), 'an object'],
    [null, 'null'],
    [undefined, 'undefined'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [-1, '-1'],
    ['x', '"x"'],
    [[1], 'an array'],
    [() => 1, 'a function'],
    [3n, '3n'],
    [true, 'true'],
  ])('names %o as %s', (value, described) => {
    expect(describeValue(value)).toBe(described)
    expect(invalidOption('limit', 'a positive integer', value)).toEqual(
      new TypeError(`limit must be a positive integer, got ${described}`),
    )
  })

  it('sets an enumerable code only when one is given', () => {
    const coded = invalidOption('region', 'a non-empty string', '', 'ERR_X')
    expect(coded).toBeInstanceOf(TypeError)
    expect({ ...coded }).toEqual({ code: 'ERR_X' })
    expect('code' in invalidOption('region', 'a non-empty string', '')).toBe(false)
  })
})

describe('number rules', () => {
  it.each([
    [{}, [0, -2.5, 1e300], [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1', null]],
    [{ min: 0 }, [0, 0.5], [-0.1, Number.NaN]],
    [{ above: 0 }, [0.001, 7], [0, -1]],
    [{ integer: true, min: 1 }, [1, 2 ** 40], [0, 1.5, 2 ** 60]],
    [
      { integer: true, min: 1, infinity: true },
      [1, Number.POSITIVE_INFINITY],
      [0, Number.NEGATIVE_INFINITY, Number.NaN],
    ],
  ])('%o accepts %o and refuses %o', (rule, accepted, refused) => {
    for (const value of accepted) expect(isNumberWithin(value, rule), String(value)).toBe(true)
    for (const value of refused) expect(isNumberWithin(value, rule), String(value)).toBe(false)
  })

  it('numberOption returns the value or throws with the caller wording', () => {
    expect(numberOption('ttlMs', 5, 'a number >= 0', { min: 0 })).toBe(5)
    expect(() => numberOption('ttlMs', -1, 'a number >= 0', { min: 0 })).toThrow(
      new TypeError('ttlMs must be a number >= 0, got -1'),
    )
  })

  it('positiveIntegerOption falls back on undefined and refuses 0, fractions and Infinity', () => {
    expect(positiveIntegerOption('maxTags', undefined, 64)).toBe(64)
    expect(positiveIntegerOption('maxTags', 3, 64)).toBe(3)
    for (const value of [0, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => positiveIntegerOption('maxTags', value, 64)).toThrow(
        new TypeError(`maxTags must be a positive integer, got ${value}`),
      )
    }
  })

  it('renamedOption takes the new name, else the deprecated one, and refuses both when they differ', () => {
    expect(renamedOption('maxElementBytes', 5, 'maxElementSize', undefined)).toBe(5)
    expect(renamedOption('maxElementBytes', undefined, 'maxElementSize', 7)).toBe(7)
    expect(renamedOption('maxElementBytes', undefined, 'maxElementSize', undefined)).toBeUndefined()
    expect(renamedOption('maxElementBytes', 5, 'maxElementSize', 5)).toBe(5)
    expect(() => renamedOption('maxElementBytes', 5, 'maxElementSize', 7)).toThrow(
      new TypeError(
        'maxElementSize must be absent or equal to maxElementBytes (it is a deprecated alias of maxElementBytes), got 7',
      ),
    )
  })
})
