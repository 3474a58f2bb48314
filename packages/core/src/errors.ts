/** What every error class of a family is constructed with, besides its code and message. */
export interface FamilyErrorOptions {
  /** The underlying error, set as the standard `cause` (left out when undefined). */
  cause?: unknown
}

/**
 * The shared shape of a package's error classes: one brand symbol, registered with `Symbol.for()` so it is
 * the same across duplicate installs of the package (where `instanceof` fails), whose value on an error is
 * that error's stable `code`. Each class exposes it with `get [brand]() { return this.code }` and its
 * static guard with `family.is(value, code)`, as undici's errors share one base and stable codes.
 */
export interface ErrorFamily<Code extends string> {
  /** The family's brand, as given to `defineErrorFamily`. */
  readonly brand: symbol
  /**
   * True when `value` carries the family's brand: any member, or with `codes`, one whose code is among
   * them. A brand of `true` (set by releases that branded without a code) matches only when no code is given.
   */
  is(value: unknown, ...codes: readonly Code[]): boolean
  /** The `ErrorOptions` to pass to `super()`: `{ cause }`, or `{}` when there is no cause. */
  superOptions(options?: FamilyErrorOptions): ErrorOptions
}

/**
 * Defines the error family branded `brand`, by convention `Symbol.for('kvs-streams.<package>-error')`. The
 * package keeps the symbol in a `const` of its own, so its classes' `get [brand]()` has a `unique symbol`
 * key in their declarations.
 *
 * @example
 * const brand = Symbol.for('kvs-streams.ebml-error')
 * const family = defineErrorFamily<EbmlErrorCode>(brand)
 * class EbmlError extends Error {
 *   get [brand]() { return this.code }
 *   static is(value: unknown): value is EbmlError { return family.is(value) }
 * }
 */
export function defineErrorFamily<Code extends string>(brand: symbol): ErrorFamily<Code> {
  return {
    brand,
    is(value: unknown, ...codes: readonly Code[]): boolean {
      if (typeof value !== 'object' || value === null) return false
      const mark = (value as Record<symbol, unknown>)[brand]
      if (mark === true) return codes.length === 0
      if (typeof mark !== 'string') return false
      return codes.length === 0 || (codes as readonly string[]).includes(mark)
    },
    superOptions(options?: FamilyErrorOptions): ErrorOptions {
      return options?.cause === undefined ? {} : { cause: options.cause }
    },
  }
}
