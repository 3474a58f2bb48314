import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { formatKvsTimestamp, parseKvsTimestamp } from '../src/index.ts'

describe('KVS timestamps', () => {
  test.each([
    ['1519423069.070', 1519423069070],
    ['1519423067.997', 1519423067997],
    ['1537574915.281', 1537574915281],
    ['0.000', 0],
    ['5.000', 5000],
    ['45.000', 45000],
    ['5.5', 5500],
    ['5.', 5000],
    ['7', 7000],
    ['1.0019', 1001],
  ])('parseKvsTimestamp(%j) is %d exactly', (text, ms) => {
    expect(parseKvsTimestamp(text)).toBe(ms)
  })

  test('parsing is exact where multiplying the float by 1000 is not', () => {
    // Small (RELATIVE-stream) values: 2.007 * 1000 is 2007.0000000000002, which the parser library's
    // ceil(x * 1000) turns into 2008; 1.001 * 1000 is 1000.9999999999999, which floor would make 1000.
    expect(Math.ceil(Number('2.007') * 1000)).toBe(2008)
    expect(Math.floor(Number('1.001') * 1000)).toBe(1000)
    expect(parseKvsTimestamp('2.007')).toBe(2007)
    expect(parseKvsTimestamp('1.001')).toBe(1001)
  })

  test.each(['', '.5', '-1.000', '1e3', '1,000', ' 1.000', '1.000 ', 'NaN', '0x10'])(
    'parseKvsTimestamp(%j) throws a TypeError',
    (text) => {
      expect(() => parseKvsTimestamp(text)).toThrow(TypeError)
    },
  )

  test.each([
    [1519423069070, '1519423069.070'],
    [0, '0.000'],
    [5000, '5.000'],
    [1001, '1.001'],
    [10, '0.010'],
  ])('formatKvsTimestamp(%d) is %j', (ms, text) => {
    expect(formatKvsTimestamp(ms)).toBe(text)
  })

  test.each([-1, 1.5, Number.NaN, 2 ** 53])('formatKvsTimestamp(%d) throws a TypeError', (ms) => {
    expect(() => formatKvsTimestamp(ms)).toThrow(TypeError)
  })

  test('format then parse is the identity on epoch milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (ms) => {
        expect(parseKvsTimestamp(formatKvsTimestamp(ms))).toBe(ms)
      }),
    )
  })
})
