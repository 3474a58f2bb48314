import { usageError } from './errors.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** `500ms`, `30s`, `5m`, `1h`, `2d` (or a bare number of seconds) → milliseconds; `undefined` if not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?$/.exec(text.trim())
  if (match === null) return undefined
  return Number(match[1]) * UNITS[match[2] ?? 's']!
}

/**
 * A point in time for `--start`/`--until`, as epoch ms: `now`, an ISO 8601 time (`2026-11-28T12:00:00Z`),
 * epoch seconds (`1764331200`, fractions allowed), epoch milliseconds (13 digits), or a time ago (`-30s`,
 * `-5m`, `-1h`). `undefined` if none.
 */
export function parseTime(text: string, now: number): number | undefined {
  const value = text.trim()
  if (value === 'now') return now
  if (value.startsWith('-')) {
    const ago = parseDuration(value.slice(1))
    return ago === undefined ? undefined : now - ago
  }
  if (/^\d{9,11}(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  if (/^\d{12,13}$/.test(value)) return Number(value)
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

/** Where `kvs get` starts. */
export type StartPosition =
  | { kind: 'now' }
  | { kind: 'earliest' }
  | { kind: 'after-fragment'; fragmentNumber: string }
  | { kind: 'time'; epochMs: number }

/** Parses `--start`. A fragment number is all digits and longer than an epoch time (KVS's have 47 digits). */
export function parseStart(text: string | undefined, now: number): StartPosition {
  const value = (text ?? 'now').trim()
  const lower = value.toLowerCase()
  if (lower === 'now') return { kind: 'now' }
  if (lower === 'earliest') return { kind: 'earliest' }
  if (/^\d{14,128}$/.test(value)) return { kind: 'after-fragment', fragmentNumber: value }
  const epochMs = parseTime(value, now)
  if (epochMs !== undefined) return { kind: 'time', epochMs }
  throw usageError(
    `--start must be now, earliest, a fragment number, an ISO 8601 time, epoch seconds or -<duration>, got ${JSON.stringify(value)}`,
    ['Examples: --start earliest, --start -5m, --start 2026-11-28T12:00:00Z, --start 1764331200'],
  )
}

/** When `kvs get` stops. */
export type UntilCondition = { kind: 'count'; fragments: number } | { kind: 'time'; epochMs: number }

/** Parses `--until`: a whole number below 10^9 is a fragment count; anything else a time as for `--start`. */
export function parseUntil(text: string | undefined, now: number): UntilCondition | undefined {
  if (text === undefined) return undefined
  const value = text.trim()
  if (/^\d{1,8}$/.test(value)) {
    const fragments = Number(value)
    if (fragments < 1) throw usageError(`--until must be at least 1 fragment, got ${value}`)
    return { kind: 'count', fragments }
  }
  const epochMs = parseTime(value, now)
  if (epochMs !== undefined) return { kind: 'time', epochMs }
  throw usageError(
    `--until must be a number of fragments, an ISO 8601 time, epoch seconds, now or -<duration>, got ${JSON.stringify(value)}`,
    ['Examples: --until 10, --until now, --until 2026-11-28T12:05:00Z'],
  )
}
