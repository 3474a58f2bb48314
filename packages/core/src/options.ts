/**
 * The `TypeError` thrown for a bad option, with the one message pattern used across kvs-streams:
 * `<option> must be <what>, got <value>` (see `describeValue`). `code`, when given, is set on the error as
 * an enumerable `code` property (for options whose absence has its own stable code).
 */
export function invalidOption(name: string, expected: string, value: unknown, code?: string): TypeError {
  const error = new TypeError(`${name} must be ${expected}, got ${describeValue(value)}`)
  if (code !== undefined) Object.defineProperty(error, 'code', { value: code, enumerable: true })
  return error
}

/**
 * How an option's received value is named in messages: strings quoted as JSON, bigints with their `n`,
 * arrays, functions and other objects by their kind ("an array", "a function", "an object"), anything else
 * as `String(value)` (`undefined`, `null`, `NaN`, `Infinity`, `-1`, `true`).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}

/**
 * What a numeric option accepts. With no field set, any finite number. `NaN` is never accepted, and
 * `Infinity` only with `infinity: true` (then it passes every other rule; `-Infinity` never does).
 */
export interface NumberRule {
  /** Only safe integers. */
  integer?: boolean
  /** Only values `>= min`. */
  min?: number
  /** Only values `> above`. */
  above?: number
  /** Also `Infinity` (for "no limit"). */
  infinity?: boolean
}

/** True when `value` is a number that `rule` accepts. */
export function isNumberWithin(value: unknown, rule: NumberRule = {}): value is number {
  if (typeof value !== 'number') return false
  if (value === Number.POSITIVE_INFINITY) return rule.infinity === true
  if (!Number.isFinite(value)) return false
  if (rule.integer === true && !Number.isSafeInteger(value)) return false
  if (rule.min !== undefined && !(value >= rule.min)) return false
  if (rule.above !== undefined && !(value > rule.above)) return false
  return true
}

/**
 * A numeric option checked against `rule`: the value, or `invalidOption(name, expected, value)` thrown.
 * `expected` is the caller's wording of the rule ("a positive integer", "a finite number >= 0", …).
 */
export function numberOption(name: string, value: unknown, expected: string, rule: NumberRule = {}): number {
  if (!isNumberWithin(value, rule)) throw invalidOption(name, expected, value)
  return value
}

/** An optional positive-integer option: `fallback` when undefined, else the value, or `invalidOption`'s error. */
export function positiveIntegerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  return numberOption(name, value, 'a positive integer', { integer: true, above: 0 })
}

/**
 * The value of a renamed option: `value` (under its new `name`), else `oldValue` (under the deprecated
 * `oldName`). Giving both with different values is refused with `invalidOption`'s `TypeError` (naming the old
 * option); giving both with the same value is accepted.
 */
export function renamedOption<T>(
  name: string,
  value: T | undefined,
  oldName: string,
  oldValue: T | undefined,
): T | undefined {
  if (oldValue === undefined) return value
  if (value === undefined || Object.is(value, oldValue)) return oldValue
  throw invalidOption(oldName, `absent or equal to ${name} (it is a deprecated alias of ${name})`, oldValue)
}
