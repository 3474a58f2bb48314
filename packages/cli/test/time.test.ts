import { describe, expect, it } from 'vitest'
import { parseDuration, parseStart, parseUntil } from '../src/time.ts'

const now = Date.parse('2026-11-28T12:00:00Z')

describe('--start and --until', () => {
  it.each([
    ['now', { kind: 'now' }],
    ['EARLIEST', { kind: 'earliest' }],
    [
      '91343852333181432392682062201909211623961996386',
      { kind: 'after-fragment', fragmentNumber: '91343852333181432392682062201909211623961996386' },
    ],
    ['2026-11-28T11:00:00Z', { kind: 'time', epochMs: now - 3_600_000 }],
    ['1795863600', { kind: 'time', epochMs: now - 3_600_000 }],
    ['1795863600.5', { kind: 'time', epochMs: now - 3_599_500 }],
    ['1795863600000', { kind: 'time', epochMs: now - 3_600_000 }],
    ['-5m', { kind: 'time', epochMs: now - 300_000 }],
    ['-90s', { kind: 'time', epochMs: now - 90_000 }],
  ])('--start %s', (text, expected) => {
    expect(parseStart(text, now)).toEqual(expected)
  })

  it('rejects a --start it cannot read, with examples', () => {
    expect(() => parseStart('yesterday', now)).toThrow(/--start must be now, earliest/)
  })

  it('reads --until as a fragment count below 10^9 and as a time otherwise', () => {
    expect(parseUntil('10', now)).toEqual({ kind: 'count', fragments: 10 })
    expect(parseUntil('now', now)).toEqual({ kind: 'time', epochMs: now })
    expect(parseUntil('1795863600', now)).toEqual({ kind: 'time', epochMs: now - 3_600_000 })
    expect(parseUntil(undefined, now)).toBeUndefined()
    expect(() => parseUntil('0', now)).toThrow(/at least 1 fragment/)
  })

  it('reads durations', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('10s')).toBe(10_000)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('3')).toBe(3000)
    expect(parseDuration('soon')).toBeUndefined()
  })
})
