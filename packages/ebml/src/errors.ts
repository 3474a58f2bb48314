const brand = Symbol.for('kvs-streams.ebml-error')

/** Stable error codes of the EBML reader. */
export type EbmlErrorCode =
  | 'ERR_KVS_EBML_INVALID_VINT'
  | 'ERR_KVS_EBML_TRUNCATED'
  | 'ERR_KVS_EBML_ELEMENT_TOO_LARGE'
  | 'ERR_KVS_EBML_OVERRUN'
  | 'ERR_KVS_EBML_TOO_DEEP'
  | 'ERR_KVS_EBML_INVALID_UNKNOWN_SIZE'
  | 'ERR_KVS_EBML_INVALID_DATA'

/** What an `EbmlError` is constructed with. */
export interface EbmlErrorOptions {
  cause?: unknown
  /**
   * Absolute byte offset in the stream where the problem was found; -1 when the data was decoded apart from
   * its stream (the leaf helpers `readUint`, `readFloat`, … do not know where their bytes came from).
   */
  offset: number
  /** The element being read, when known. */
  elementId?: number | undefined
}

/**
 * Raised for corrupt, truncated or oversized EBML input. Carries the absolute byte `offset` and, when known,
 * the `elementId`. When thrown from `push()`, `events` holds the events completed by that call before the
 * problem was found, so nothing already accepted is lost.
 */
export class EbmlError extends Error {
  override name = 'EbmlError'
  readonly code: EbmlErrorCode
  readonly offset: number
  readonly elementId: number | undefined
  /**
   * Events completed in the failing `push()` call before the error (deliver them first): the reader's
   * `EbmlEvent`s, or, when a core built on the reader (chunker, GetMedia parser) passes the error on, that
   * core's own events.
   */
  events: readonly unknown[] = []

  constructor(code: EbmlErrorCode, message: string, options: EbmlErrorOptions) {
    super(
      options.offset >= 0 ? `${message} (at byte ${options.offset})` : message,
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.code = code
    this.offset = options.offset
    this.elementId = options.elementId
  }

  get [brand](): true {
    return true
  }

  /** True for any `EbmlError`, also across duplicate installs of this package. */
  static is(value: unknown): value is EbmlError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}

/**
 * The `TypeError` thrown for a bad option, with the one message pattern used across kvs-streams:
 * `<option> must be <what>, got <value>` (strings quoted, objects and functions named by their kind).
 */
export function invalidOption(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`${name} must be ${expected}, got ${describeValue(value)}`)
}

/** An optional positive-integer option: `fallback` when undefined, else the value, or `invalidOption`'s error. */
export function positiveIntegerOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidOption(name, 'a positive integer', value)
  return value
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}
