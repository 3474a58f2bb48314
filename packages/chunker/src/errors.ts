import type { ChunkerEvent, Violation } from './events.ts'

const brand = Symbol.for('kvs-streams.chunker-error')

/** The `code` of a `ChunkerError`; the README's error table says when each is raised. */
export type ChunkerErrorCode =
  | 'ERR_KVS_CHUNKER_VIOLATION'
  | 'ERR_KVS_CHUNKER_NOT_MKV'
  | 'ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE'
  | 'ERR_KVS_CHUNKER_HEADER_TOO_LARGE'
  | 'ERR_KVS_CHUNKER_INVALID_MKV'

/** What a `ChunkerError` is constructed with. */
export interface ChunkerErrorOptions {
  cause?: unknown
  offset: number
  /** The KVS ErrorId the problem would have caused, when there is one. */
  errorId?: number | undefined
  violation?: Violation | undefined
}

/**
 * Raised by the chunker: a KVS rule broken under `onViolation: 'throw'`
 * (`ERR_KVS_CHUNKER_VIOLATION`, with `violation` and its `errorId`), input that is not Matroska, or a
 * fragment or header over the memory limits. EBML errors from the reader are passed through as they are.
 */
export class ChunkerError extends Error {
  override name = 'ChunkerError'
  readonly code: ChunkerErrorCode
  readonly offset: number
  readonly errorId: number | undefined
  readonly violation: Violation | undefined
  /** Events completed in the failing `push()` call before the error (deliver them first). */
  events: readonly ChunkerEvent[] = []

  constructor(code: ChunkerErrorCode, message: string, options: ChunkerErrorOptions) {
    super(
      `${message} (at byte ${options.offset})`,
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.code = code
    this.offset = options.offset
    this.errorId = options.errorId ?? options.violation?.errorId
    this.violation = options.violation
  }

  get [brand](): true {
    return true
  }

  /** True for any `ChunkerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is ChunkerError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}
