import { defineErrorFamily } from '@kvs-streams/core'
import type { SkippedFragment } from './events.ts'

/**
 * Brand shared by every error of this package. Its value is the error's `code`, so the static `is()` guard
 * works across duplicate installs of the package (where `instanceof` does not).
 */
const brand = Symbol.for('kvs-streams.producer-error')
const family = defineErrorFamily<ProducerErrorCode>(brand)

/** Stable error codes of `@kvs-streams/producer`. */
export type ProducerErrorCode =
  /** The stream does not exist (DescribeStream or PutMedia answered `ResourceNotFoundException`). */
  | 'ERR_KVS_PRODUCER_STREAM_NOT_FOUND'
  /** The credentials are refused (`NotAuthorizedException`, `AccessDeniedException`, a bad signature…). */
  | 'ERR_KVS_PRODUCER_NOT_AUTHORIZED'
  /** The service refused the request itself (`InvalidArgumentException`…): repeating it cannot help. */
  | 'ERR_KVS_PRODUCER_REQUEST_REJECTED'
  /** `retry.maxAttempts` consecutive failures without an acknowledged fragment; the last one is the `cause`. */
  | 'ERR_KVS_PRODUCER_TOO_MANY_FAILURES'
  /** The input is not usable MKV (chunker error in `cause`); fragments accepted before it were still delivered. */
  | 'ERR_KVS_PRODUCER_INVALID_INPUT'
  /**
   * A fragment's producer timestamp would be before 2000 (ABSOLUTE timecodes that count from 0: stored in 1970)
   * or ahead of the clock (a recording sent faster than real time from a start of now): KVS would store it at
   * the wrong time or refuse it. The message says which option fixes it.
   */
  | 'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE'
  /** A chunker violation under `onViolation: 'throw'`. */
  | 'ERR_KVS_PRODUCER_VIOLATION'
  /** Every accepted fragment was settled, but some were skipped or dropped (listed in `skipped`). */
  | 'ERR_KVS_PRODUCER_INCOMPLETE'
  /** `abort()` was called or the `signal` aborted; the reason is the `cause`. */
  | 'ERR_KVS_PRODUCER_ABORTED'
  /** A consumer of `events()` fell more than `maxQueuedEvents` behind. */
  | 'ERR_KVS_PRODUCER_EVENTS_OVERFLOW'
  /** Not fatal (a session's end, then a reconnect): the service answered an ERROR ack (`errorId`). */
  | 'ERR_KVS_PRODUCER_ERROR_ACK'
  /** Not fatal (a reconnect follows): the service ended a PutMedia response the producer had not ended. */
  | 'ERR_KVS_PRODUCER_SESSION_ENDED'
  /**
   * Not fatal (the attempt is retried): a call made while opening a session (DescribeStream, GetDataEndpoint,
   * credentials, ListFragments, the new session's response) took longer than its bound.
   */
  | 'ERR_KVS_PRODUCER_TIMEOUT'

/** What a `ProducerError` is constructed with. */
export interface ProducerErrorOptions {
  cause?: unknown
  /** The PutMedia `ErrorId` involved, when there is one. */
  errorId?: number | undefined
  /** HTTP status of the refusal, when there is one. */
  status?: number | undefined
  /** `x-amzn-RequestId` of the refusal, for AWS support. */
  requestId?: string | undefined
  /** Consecutive failed attempts (`ERR_KVS_PRODUCER_TOO_MANY_FAILURES`). */
  attempts?: number | undefined
  /** Fragments skipped or dropped (`ERR_KVS_PRODUCER_INCOMPLETE`). */
  skipped?: readonly SkippedFragment[] | undefined
}

/**
 * A fatal producer condition, or `close()` finding fragments that were skipped. Branch on `code`; `cause`
 * holds the underlying transport, signer, chunker or control-plane error.
 */
export class ProducerError extends Error {
  override name = 'ProducerError'
  readonly code: ProducerErrorCode
  readonly errorId: number | undefined
  readonly status: number | undefined
  readonly requestId: string | undefined
  readonly attempts: number | undefined
  /** Fragments that were not stored: skipped after a non-retriable ERROR ack or a violation, or dropped. */
  readonly skipped: readonly SkippedFragment[]

  constructor(code: ProducerErrorCode, message: string, options: ProducerErrorOptions = {}) {
    super(message, family.superOptions(options))
    this.code = code
    this.errorId = options.errorId
    this.status = options.status
    this.requestId = options.requestId
    this.attempts = options.attempts
    this.skipped = options.skipped ?? []
  }

  get [brand](): ProducerErrorCode {
    return this.code
  }

  /** True for any `ProducerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is ProducerError {
    return family.is(value)
  }
}

const metadataBrand = Symbol.for('kvs-streams.producer-metadata-error')
const metadataFamily = defineErrorFamily<FragmentMetadataErrorCode>(metadataBrand)

/** Stable error codes of `FragmentMetadataError`: why `producer.putMetadata()` refused a tag. */
export type FragmentMetadataErrorCode =
  /** The fragment would carry more than 10 tags (persistent ones included): KVS answers ErrorId 4009. */
  | 'ERR_KVS_PRODUCER_METADATA_TOO_MANY'
  /** The name is the empty string (PIC's `STATUS_MKV_INVALID_TAG_NAME_LENGTH`). */
  | 'ERR_KVS_PRODUCER_METADATA_NAME_EMPTY'
  /** The name has more than 128 bytes in UTF-8: KVS answers ErrorId 4009. */
  | 'ERR_KVS_PRODUCER_METADATA_NAME_TOO_LONG'
  /** The value has more than 256 bytes in UTF-8: KVS answers ErrorId 4009. */
  | 'ERR_KVS_PRODUCER_METADATA_VALUE_TOO_LONG'
  /** The name starts with `AWS` (case-sensitive), reserved for the service's own tags: ErrorId 4009. */
  | 'ERR_KVS_PRODUCER_METADATA_NAME_RESERVED'
  /** The input has ended (or the producer stopped): no fragment is left to carry the tag. */
  | 'ERR_KVS_PRODUCER_METADATA_INPUT_ENDED'

/** What a `FragmentMetadataError` is constructed with. */
export interface FragmentMetadataErrorOptions {
  cause?: unknown
  /** The tag name refused. */
  tagName: string
  /** The ErrorId the service would answer had the tag been sent (4009), when it is a service limit. */
  errorId?: number | undefined
  /** The limit broken: tags per fragment, or bytes of the name or value. */
  limit?: number | undefined
  /** What the tag came to against `limit`: the count with it, or its byte length. */
  actual?: number | undefined
}

/**
 * Thrown by `producer.putMetadata()` for a tag the service would refuse (ErrorId 4009, before anything is sent)
 * or that could no longer be sent. The producer is not affected: the call changed nothing, and what was put
 * before still goes out. Branch on `code`.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html#how-meta-limits
 */
export class FragmentMetadataError extends Error {
  override name = 'FragmentMetadataError'
  readonly code: FragmentMetadataErrorCode
  /** The tag name refused. */
  readonly tagName: string
  /** 4009 for the service's limits (what KVS would have answered); undefined otherwise. */
  readonly errorId: number | undefined
  /** The limit broken (tags per fragment, or bytes), when there is one. */
  readonly limit: number | undefined
  /** The count or byte length measured against `limit`. */
  readonly actual: number | undefined

  constructor(code: FragmentMetadataErrorCode, message: string, options: FragmentMetadataErrorOptions) {
    super(message, metadataFamily.superOptions(options))
    this.code = code
    this.tagName = options.tagName
    this.errorId = options.errorId
    this.limit = options.limit
    this.actual = options.actual
  }

  get [metadataBrand](): FragmentMetadataErrorCode {
    return this.code
  }

  /** True for any `FragmentMetadataError`, also across duplicate installs of this package. */
  static is(value: unknown): value is FragmentMetadataError {
    return metadataFamily.is(value)
  }
}

/** The `TypeError` thrown for a bad option: one helper and message pattern across kvs-streams. */
