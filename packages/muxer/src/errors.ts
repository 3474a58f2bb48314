import { defineErrorFamily } from '@kvs-streams/core'

const brand = Symbol.for('kvs-streams.muxer-error')
const family = defineErrorFamily<MuxerErrorCode>(brand)

/** The `code` of a `MuxerError`; the README's error table says when each is raised. */
export type MuxerErrorCode =
  // Annex-B parser (H.264 / H.265)
  | 'ERR_KVS_ANNEXB_NO_START_CODE'
  | 'ERR_KVS_ANNEXB_NO_KEY_FRAME'
  | 'ERR_KVS_ANNEXB_ACCESS_UNIT_TOO_LARGE'
  | 'ERR_KVS_ANNEXB_INVALID_NAL_UNIT'
  | 'ERR_KVS_ANNEXB_INVALID_PARAMETER_SET'
  | 'ERR_KVS_ANNEXB_INVALID_SLICE_HEADER'
  | 'ERR_KVS_ANNEXB_MISSING_PARAMETER_SET'
  | 'ERR_KVS_ANNEXB_UNSUPPORTED'
  // ADTS parser (AAC)
  | 'ERR_KVS_ADTS_BAD_SYNC'
  | 'ERR_KVS_ADTS_INVALID_HEADER'
  | 'ERR_KVS_ADTS_CONFIG_CHANGED'
  | 'ERR_KVS_ADTS_UNSUPPORTED'
  | 'ERR_KVS_ADTS_TRUNCATED'
  // Muxer
  | 'ERR_KVS_MUXER_UNKNOWN_TRACK'
  | 'ERR_KVS_MUXER_INVALID_FRAME'
  | 'ERR_KVS_MUXER_TIMESTAMP_ORDER'
  | 'ERR_KVS_MUXER_FRAGMENT_TOO_LONG'
  | 'ERR_KVS_MUXER_FRAGMENT_TOO_LARGE'
  | 'ERR_KVS_MUXER_BUFFER_FULL'

/** What a `MuxerError` is constructed with. */
export interface MuxerErrorOptions {
  cause?: unknown
  /**
   * Byte offset in the parser's input where the problem was found, or -1 when there is none (the muxer takes
   * frames, not bytes).
   */
  offset?: number
  /** The track concerned (muxer errors), when there is one. */
  track?: number | undefined
  /** The KVS ErrorId the problem would have caused, when there is one (4001, 4002). */
  errorId?: number | undefined
}

/**
 * Raised by the Annex-B and ADTS parsers (`ERR_KVS_ANNEXB_…`, `ERR_KVS_ADTS_…`: input that is not a valid
 * byte stream, or over a size limit) and by the muxer (`ERR_KVS_MUXER_…`: frames it cannot place in
 * KVS-ready fragments). A call that finds the problem after completing events returns them, and the error
 * is thrown by the next call. After an error every call throws it again.
 */
export class MuxerError extends Error {
  override name = 'MuxerError'
  readonly code: MuxerErrorCode
  /** Byte offset in the parser's input, or -1. */
  readonly offset: number
  readonly track: number | undefined
  readonly errorId: number | undefined

  constructor(code: MuxerErrorCode, message: string, options: MuxerErrorOptions = {}) {
    const offset = options.offset ?? -1
    super(offset >= 0 ? `${message} (at byte ${offset})` : message, family.superOptions(options))
    this.code = code
    this.offset = offset
    this.track = options.track
    this.errorId = options.errorId
  }

  get [brand](): MuxerErrorCode {
    return this.code
  }

  /** True for any `MuxerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is MuxerError {
    return family.is(value)
  }
}

/** The message of a caught value, for wrapping it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
