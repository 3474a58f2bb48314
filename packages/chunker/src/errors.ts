import { defineErrorFamily } from '@kvs-streams/core'
import type { Violation } from './events.ts'

/** Brand of `ChunkerError`, valued with its code, so `ChunkerError.is()` works across duplicate installs. */
const brand = Symbol.for('kvs-streams.chunker-error')
const family = defineErrorFamily<ChunkerErrorCode>(brand)

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

  constructor(code: ChunkerErrorCode, message: string, options: ChunkerErrorOptions) {
    super(`${message} (at byte ${options.offset})`, family.superOptions(options))
    this.code = code
    this.offset = options.offset
    this.errorId = options.errorId ?? options.violation?.errorId
    this.violation = options.violation
  }

  get [brand](): ChunkerErrorCode {
    return this.code
  }

  /** True for any `ChunkerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is ChunkerError {
    return family.is(value)
  }
}
