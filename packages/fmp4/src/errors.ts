import { defineErrorFamily } from '@kvs-streams/core'

const brand = Symbol.for('kvs-streams.fmp4-error')
const family = defineErrorFamily<Fmp4ErrorCode>(brand)

/** The `code` of an `Fmp4Error`; the README's error table says when each is raised. */
export type Fmp4ErrorCode =
  /** A track's CodecID is not one this package writes to MP4 (H.264, H.265, AAC). */
  | 'ERR_KVS_FMP4_UNSUPPORTED_CODEC'
  /** A track has no CodecPrivate (avcC, hvcC or AudioSpecificConfig), which the MP4 sample entry needs. */
  | 'ERR_KVS_FMP4_MISSING_CODEC_PRIVATE'
  /** A track's CodecPrivate cannot be read for its codec (Annex-B instead of avcC, truncated, wrong version). */
  | 'ERR_KVS_FMP4_INVALID_CODEC_PRIVATE'
  /** The tracks changed between fragments and the segmenter was told to refuse that. */
  | 'ERR_KVS_FMP4_TRACKS_CHANGED'
  /** A fragment holds more frame bytes than `maxBufferedFragmentBytes`. */
  | 'ERR_KVS_FMP4_FRAGMENT_TOO_LARGE'
  /** A block shorter than its header, or before its Cluster's Timecode. */
  | 'ERR_KVS_FMP4_INVALID_MKV'
  /** A laced block whose lacing header does not fit its payload. */
  | 'ERR_KVS_FMP4_INVALID_LACING'
  /** A frame earlier than the time origin, so its decode time would be negative. */
  | 'ERR_KVS_FMP4_TIMESTAMP_BEFORE_ORIGIN'
  /** A track asked for is not in the input, or no track is left to write. */
  | 'ERR_KVS_FMP4_NO_TRACK'
  /** A box would exceed what its 32-bit size or offset fields can describe. */
  | 'ERR_KVS_FMP4_TOO_LARGE'

/** What an `Fmp4Error` is constructed with. */
export interface Fmp4ErrorOptions {
  cause?: unknown
  /** The Matroska track number concerned, when one is. */
  trackNumber?: number | undefined
  /** The track's CodecID, when one is concerned. */
  codecId?: string | undefined
}

/**
 * Raised by this package: a track it cannot write (codec, CodecPrivate), a fragment over the memory limit,
 * a bad block or lacing header, a timestamp before the time origin. Errors of the EBML reader underneath
 * (`EbmlError`: corrupt or truncated input) are passed through as they are.
 */
export class Fmp4Error extends Error {
  override name = 'Fmp4Error'
  readonly code: Fmp4ErrorCode
  /** The Matroska track number concerned, when one is. */
  readonly trackNumber: number | undefined
  /** The track's CodecID, when one is concerned. */
  readonly codecId: string | undefined

  constructor(code: Fmp4ErrorCode, message: string, options: Fmp4ErrorOptions = {}) {
    super(message, family.superOptions(options))
    this.code = code
    this.trackNumber = options.trackNumber
    this.codecId = options.codecId
  }

  get [brand](): Fmp4ErrorCode {
    return this.code
  }

  /** True for any `Fmp4Error`, also across duplicate installs of this package. */
  static is(value: unknown): value is Fmp4Error {
    return family.is(value)
  }
}
