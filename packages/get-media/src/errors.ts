import { defineErrorFamily } from '@kvs-streams/core'

const parseErrorBrand = Symbol.for('kvs-streams.get-media-parse-error')
const parseFamily = defineErrorFamily<GetMediaParseErrorCode>(parseErrorBrand)
const serviceErrorBrand = Symbol.for('kvs-streams.get-media-service-error')
const serviceFamily = defineErrorFamily<'ERR_KVS_GETMEDIA_SERVICE_ERROR'>(serviceErrorBrand)

/** Stable error codes of the GetMedia parser. */
export type GetMediaParseErrorCode =
  | 'ERR_KVS_GETMEDIA_NOT_MKV'
  | 'ERR_KVS_GETMEDIA_FRAME_TOO_LARGE'
  | 'ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE'
  | 'ERR_KVS_GETMEDIA_TOO_MANY_TAGS'
  | 'ERR_KVS_GETMEDIA_TAG_TOO_LARGE'
  | 'ERR_KVS_GETMEDIA_TOO_MANY_TRACKS'
  | 'ERR_KVS_GETMEDIA_INVALID_BLOCK'

/** What a `GetMediaParseError` is constructed with. */
export interface GetMediaParseErrorOptions {
  cause?: unknown
  /** Absolute byte offset in the GetMedia body where the problem was found. */
  offset: number
  /** The element concerned, when known. */
  elementId?: number | undefined
}

/**
 * Raised by the GetMedia parser for input it will not accept: a body that is not Matroska, a limit
 * exceeded (frame, fragment, tag count or size, track count), or a malformed block. Corrupt or truncated
 * EBML is reported by `@kvs-streams/ebml`'s `EbmlError`, which the parser passes through unchanged.
 */
export class GetMediaParseError extends Error {
  override name = 'GetMediaParseError'
  readonly code: GetMediaParseErrorCode
  readonly offset: number
  readonly elementId: number | undefined

  constructor(code: GetMediaParseErrorCode, message: string, options: GetMediaParseErrorOptions) {
    super(`${message} (at byte ${options.offset})`, parseFamily.superOptions(options))
    this.code = code
    this.offset = options.offset
    this.elementId = options.elementId
  }

  get [parseErrorBrand](): GetMediaParseErrorCode {
    return this.code
  }

  /** True for any `GetMediaParseError`, also across duplicate installs of this package. */
  static is(value: unknown): value is GetMediaParseError {
    return parseFamily.is(value)
  }
}

/** What a `GetMediaServiceError` is constructed with. */
export interface GetMediaServiceErrorOptions {
  cause?: unknown
  /** `AWS_KINESISVIDEO_ERROR_ID` as a number (3002, 4000, 4500–4506, 5000), when the chunk has one. */
  errorId?: number | undefined
  /** `AWS_KINESISVIDEO_ERROR_CODE` or `AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE`. */
  errorCode?: string | undefined
  /** `AWS_KINESISVIDEO_EXCEPTION_MESSAGE` (GetMediaForFragmentList). */
  serviceMessage?: string | undefined
  /** `AWS_KINESISVIDEO_FRAGMENT_NUMBER` of the chunk: the fragment the error is about. */
  fragmentNumber?: string | undefined
  /** Absolute offset of the Tags element that carried the error. */
  offset: number
}

/**
 * An error the service reported *inside* the GetMedia body, as an error chunk: a Tags element with
 * `AWS_KINESISVIDEO_ERROR_ID` / `AWS_KINESISVIDEO_ERROR_CODE` (GetMedia) or
 * `AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE` / `AWS_KINESISVIDEO_EXCEPTION_MESSAGE` (GetMediaForFragmentList).
 * The parser delivers it in a `service-error` event rather than throwing, since the body may go on.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export class GetMediaServiceError extends Error {
  override name = 'GetMediaServiceError'
  readonly code = 'ERR_KVS_GETMEDIA_SERVICE_ERROR'
  readonly errorId: number | undefined
  readonly errorCode: string | undefined
  readonly serviceMessage: string | undefined
  readonly fragmentNumber: string | undefined
  readonly offset: number

  constructor(options: GetMediaServiceErrorOptions) {
    const what = [options.errorId, options.errorCode, options.serviceMessage].filter(
      (part) => part !== undefined,
    )
    const about = options.fragmentNumber === undefined ? '' : ` for fragment ${options.fragmentNumber}`
    super(
      `GetMedia error chunk${about}: ${what.join(' ')} (at byte ${options.offset})`,
      serviceFamily.superOptions(options),
    )
    this.errorId = options.errorId
    this.errorCode = options.errorCode
    this.serviceMessage = options.serviceMessage
    this.fragmentNumber = options.fragmentNumber
    this.offset = options.offset
  }

  get [serviceErrorBrand](): 'ERR_KVS_GETMEDIA_SERVICE_ERROR' {
    return this.code
  }

  /** True for any `GetMediaServiceError`, also across duplicate installs of this package. */
  static is(value: unknown): value is GetMediaServiceError {
    return serviceFamily.is(value)
  }
}

const mergeErrorBrand = Symbol.for('kvs-streams.fragment-merge-error')
const mergeFamily = defineErrorFamily<FragmentMergeErrorCode>(mergeErrorBrand)

/** Stable error codes of the fragment merger. */
export type FragmentMergeErrorCode =
  | 'ERR_KVS_MERGE_TRACKS_CHANGED'
  | 'ERR_KVS_MERGE_BAD_FRAGMENT'
  | 'ERR_KVS_MERGE_ENDED'

/** What a `FragmentMergeError` is constructed with. */
export interface FragmentMergeErrorOptions {
  cause?: unknown
  /** The fragment concerned, when known. */
  fragmentNumber?: string | undefined
}

/**
 * Raised by the fragment merger: the tracks changed with `onTracksChange: 'error'`, a fragment that is not a
 * Matroska document with Tracks, or a fragment pushed after `end()`. Everything merged before it stands.
 */
export class FragmentMergeError extends Error {
  override name = 'FragmentMergeError'
  readonly code: FragmentMergeErrorCode
  readonly fragmentNumber: string | undefined

  constructor(code: FragmentMergeErrorCode, message: string, options: FragmentMergeErrorOptions = {}) {
    super(
      options.fragmentNumber === undefined ? message : `${message} (fragment ${options.fragmentNumber})`,
      mergeFamily.superOptions(options),
    )
    this.code = code
    this.fragmentNumber = options.fragmentNumber
  }

  get [mergeErrorBrand](): FragmentMergeErrorCode {
    return this.code
  }

  /** True for any `FragmentMergeError`, also across duplicate installs of this package. */
  static is(value: unknown): value is FragmentMergeError {
    return mergeFamily.is(value)
  }
}
