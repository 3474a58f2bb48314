import { defineErrorFamily } from '@kvs-streams/core'
import type { RepackagerViolation } from './events.ts'

const brand = Symbol.for('kvs-streams.repackager-error')
const family = defineErrorFamily<RepackagerErrorCode>(brand)

/** The `code` of a `RepackagerError`; the README's error table says when each is raised. */
export type RepackagerErrorCode =
  | 'ERR_KVS_REPACKAGER_VIOLATION'
  | 'ERR_KVS_REPACKAGER_NOT_MKV'
  | 'ERR_KVS_REPACKAGER_INVALID_MKV'
  | 'ERR_KVS_REPACKAGER_FRAGMENT_TOO_LARGE'
  | 'ERR_KVS_REPACKAGER_HEADER_TOO_LARGE'
  | 'ERR_KVS_REPACKAGER_TIMECODE_OVERFLOW'

/** What a `RepackagerError` is constructed with. */
export interface RepackagerErrorOptions {
  cause?: unknown
  /** Absolute offset in the input of the element concerned. */
  offset: number
  /** The KVS ErrorId the problem would have caused, when there is one. */
  errorId?: number | undefined
  violation?: RepackagerViolation | undefined
}

/**
 * Raised by the repackager: a KVS rule it cannot repair under `onViolation: 'throw'`
 * (`ERR_KVS_REPACKAGER_VIOLATION`, with `violation` and its `errorId`), input that is not Matroska, a
 * fragment or header over the memory limits, or a frame whose time cannot be written as a block timecode.
 * EBML errors from the reader (truncated or corrupt input) are passed through as they are.
 */
export class RepackagerError extends Error {
  override name = 'RepackagerError'
  readonly code: RepackagerErrorCode
  readonly offset: number
  readonly errorId: number | undefined
  readonly violation: RepackagerViolation | undefined

  constructor(code: RepackagerErrorCode, message: string, options: RepackagerErrorOptions) {
    super(`${message} (at byte ${options.offset})`, family.superOptions(options))
    this.code = code
    this.offset = options.offset
    this.errorId = options.errorId ?? options.violation?.errorId
    this.violation = options.violation
  }

  get [brand](): RepackagerErrorCode {
    return this.code
  }

  /** True for any `RepackagerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is RepackagerError {
    return family.is(value)
  }
}
