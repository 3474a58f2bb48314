import { defineErrorFamily } from '@kvs-streams/core'

/** Brand of `EbmlError`, valued with its code, so `EbmlError.is()` works across duplicate installs. */
const brand = Symbol.for('kvs-streams.ebml-error')
const family = defineErrorFamily<EbmlErrorCode>(brand)

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
 * the `elementId`. A reader call that finds the problem after completing events returns them; the error is
 * thrown by the next call (see `EbmlReader`).
 */
export class EbmlError extends Error {
  override name = 'EbmlError'
  readonly code: EbmlErrorCode
  readonly offset: number
  readonly elementId: number | undefined

  constructor(code: EbmlErrorCode, message: string, options: EbmlErrorOptions) {
    super(
      options.offset >= 0 ? `${message} (at byte ${options.offset})` : message,
      family.superOptions(options),
    )
    this.code = code
    this.offset = options.offset
    this.elementId = options.elementId
  }

  get [brand](): EbmlErrorCode {
    return this.code
  }

  /** True for any `EbmlError`, also across duplicate installs of this package. */
  static is(value: unknown): value is EbmlError {
    return family.is(value)
  }
}
