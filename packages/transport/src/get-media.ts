import { invalidOption } from '@kvs-streams/core'
import { type DataPlaneOptions, resolveDataPlaneOptions, streamMember } from './options.ts'
import { type ResponseBody, sendSignedJson } from './signed-request.ts'

/** Where GetMedia starts. @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_StartSelector.html */
export interface StartSelector {
  StartSelectorType:
    | 'FRAGMENT_NUMBER'
    | 'SERVER_TIMESTAMP'
    | 'PRODUCER_TIMESTAMP'
    | 'NOW'
    | 'EARLIEST'
    | 'CONTINUATION_TOKEN'
  /** For `FRAGMENT_NUMBER`: start with the chunk after this fragment. */
  AfterFragmentNumber?: string
  /** For `SERVER_TIMESTAMP`/`PRODUCER_TIMESTAMP`: a `Date`, or epoch seconds as on the wire. */
  StartTimestamp?: Date | number
  /** For `CONTINUATION_TOKEN`: the `AWS_KINESISVIDEO_CONTINUATION_TOKEN` tag of the last chunk read. */
  ContinuationToken?: string
}

/** Every `StartSelectorType` GetMedia accepts. */
export const START_SELECTOR_TYPES: ReadonlySet<string> = new Set<StartSelector['StartSelectorType']>([
  'FRAGMENT_NUMBER',
  'SERVER_TIMESTAMP',
  'PRODUCER_TIMESTAMP',
  'NOW',
  'EARLIEST',
  'CONTINUATION_TOKEN',
])

interface GetMediaOwnOptions extends DataPlaneOptions {
  startSelector: StartSelector
  /** `highWaterMark` of the returned stream, bytes. Default: Node's. */
  highWaterMark?: number
}

/** Options of `getMedia`. */
export type GetMediaOptions = GetMediaOwnOptions & ({ streamName: string } | { streamArn: string })

interface GetMediaForFragmentListOwnOptions extends DataPlaneOptions {
  /** Fragment numbers (1–1000), e.g. from `listFragments`. */
  fragments: readonly string[]
  highWaterMark?: number
}

/** Options of `getMediaForFragmentList`. */
export type GetMediaForFragmentListOptions = GetMediaForFragmentListOwnOptions &
  ({ streamName: string } | { streamArn: string })

/** Epoch seconds for the wire: a `Date`, or a number already in seconds. */
export function toEpochSeconds(name: string, value: unknown): number {
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime() / 1000
  if (typeof value === 'number' && Number.isFinite(value)) return value
  throw invalidOption(name, 'a Date or epoch seconds', value)
}

function wireStartSelector(selector: unknown): Record<string, unknown> {
  if (typeof selector !== 'object' || selector === null) {
    throw invalidOption('startSelector', 'an object with StartSelectorType', selector)
  }
  const { StartSelectorType, AfterFragmentNumber, StartTimestamp, ContinuationToken } =
    selector as StartSelector
  if (!START_SELECTOR_TYPES.has(StartSelectorType)) {
    throw invalidOption(
      'startSelector.StartSelectorType',
      [...START_SELECTOR_TYPES].join(' | '),
      StartSelectorType,
    )
  }
  const wire: Record<string, unknown> = { StartSelectorType }
  if (AfterFragmentNumber !== undefined) wire.AfterFragmentNumber = AfterFragmentNumber
  if (StartTimestamp !== undefined)
    wire.StartTimestamp = toEpochSeconds('startSelector.StartTimestamp', StartTimestamp)
  if (ContinuationToken !== undefined) wire.ContinuationToken = ContinuationToken
  if (StartSelectorType === 'FRAGMENT_NUMBER' && typeof AfterFragmentNumber !== 'string') {
    throw invalidOption('startSelector.AfterFragmentNumber', 'a fragment number string', AfterFragmentNumber)
  }
  if (StartSelectorType === 'CONTINUATION_TOKEN' && typeof ContinuationToken !== 'string') {
    throw invalidOption('startSelector.ContinuationToken', 'a continuation token string', ContinuationToken)
  }
  if (
    (StartSelectorType === 'SERVER_TIMESTAMP' || StartSelectorType === 'PRODUCER_TIMESTAMP') &&
    StartTimestamp === undefined
  ) {
    throw invalidOption('startSelector.StartTimestamp', 'a Date or epoch seconds', StartTimestamp)
  }
  return wire
}

/**
 * Starts GetMedia (`POST {endpoint}/getMedia`, JSON body signed with its hash) and resolves with the media
 * body as a Node `Readable` once the service answers 200: concatenated MKV chunks, one per fragment, kept open
 * and fed live when the reader catches up (no idle timeout). The stream also carries `status`, `headers`,
 * `contentType` and `requestId`. Destroying it aborts the request.
 *
 * Rejects with `KvsHttpError` (named after the AWS exception, e.g. `ResourceNotFoundException`) for any
 * other status, and with `KvsTimeoutError`/`KvsAbortError`/`KvsConnectionError` like `putMedia`.
 *
 * @throws {TypeError} on a bad option (synchronously, before any request)
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export function getMedia(options: GetMediaOptions): Promise<ResponseBody> {
  const resolved = resolveDataPlaneOptions(options)
  const body = { ...streamMember(options), StartSelector: wireStartSelector(options.startSelector) }
  return sendSignedJson(resolved, {
    operation: 'getMedia',
    body,
    bodyTimeoutMs: 0,
    highWaterMark: options.highWaterMark,
  })
}

/**
 * GetMediaForFragmentList (`POST {endpoint}/getMediaForFragmentList`): resolves with the media of the listed
 * fragments as a Node `Readable` once the service answers 200. Errors as for `getMedia`.
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetMediaForFragmentList.html
 */
export function getMediaForFragmentList(options: GetMediaForFragmentListOptions): Promise<ResponseBody> {
  const resolved = resolveDataPlaneOptions(options)
  const { fragments } = options
  if (
    !Array.isArray(fragments) ||
    fragments.length === 0 ||
    fragments.length > 1000 ||
    !fragments.every((fragment) => typeof fragment === 'string' && fragment !== '')
  ) {
    throw invalidOption('fragments', 'an array of 1 to 1000 fragment number strings', fragments)
  }
  return sendSignedJson(resolved, {
    operation: 'getMediaForFragmentList',
    body: { ...streamMember(options), Fragments: fragments },
    bodyTimeoutMs: 300_000,
    highWaterMark: options.highWaterMark,
  })
}
