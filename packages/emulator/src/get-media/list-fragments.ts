import { invalidArgument, ServiceError } from '../errors.ts'
import type { JsonObject } from '../http/router.ts'
import { optionalInteger, optionalString } from '../http/validate.ts'
import type { FragmentInfo, StreamRecord } from '../storage/types.ts'

/** ListFragments' default and largest `MaxResults`. */
export const DEFAULT_LIST_FRAGMENTS_RESULTS = 100
export const MAX_LIST_FRAGMENTS_RESULTS = 1000

/** `NextToken` pattern and length of the archived-media model. */
const NEXT_TOKEN = /^[a-zA-Z0-9+/]+={0,2}$/

/** A FragmentSelector: fragments whose producer or server start time lies in [startMs, endMs]. */
interface TimeRange {
  type: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP'
  startMs: number
  endMs: number
}

/** What a NextToken carries: the stream, the last fragment returned and the selector of the first page. */
interface PageToken {
  streamARN: string
  afterSequence: number
  range: TimeRange | undefined
}

/** One fragment as ListFragments returns it. */
export interface ListedFragment {
  FragmentNumber: string
  FragmentSizeInBytes: number
  /** Epoch seconds. */
  ProducerTimestamp: number
  /** Epoch seconds. */
  ServerTimestamp: number
  /**
   * Whole milliseconds (the model's `Long`) from the fragment's earliest frame to the end of its latest frame:
   * that frame's time plus its duration when known (`BlockDuration`, else the track's `DefaultDuration`), else
   * its time alone; rounded to the nearest millisecond. `0` for a fragment of one frame of unknown duration.
   */
  FragmentLengthInMilliseconds: number
}

function wrongType(member: string, expected: string): ServiceError {
  return new ServiceError('SerializationException', 400, `${member} must be ${expected}.`)
}

function epochSeconds(value: unknown, member: string): number {
  if (value === undefined || value === null) throw invalidArgument(`${member} is required.`)
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw wrongType(member, 'epoch seconds (a number)')
  return Math.round(value * 1000)
}

function parseSelector(input: JsonObject): TimeRange | undefined {
  const selector = input.FragmentSelector
  if (selector === undefined || selector === null) return undefined
  if (typeof selector !== 'object' || Array.isArray(selector))
    throw wrongType('FragmentSelector', 'an object')
  const members = selector as JsonObject
  const type = optionalString(members, 'FragmentSelectorType')
  if (type !== 'PRODUCER_TIMESTAMP' && type !== 'SERVER_TIMESTAMP') {
    throw invalidArgument(
      'FragmentSelector.FragmentSelectorType must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP.',
    )
  }
  const range = members.TimestampRange
  if (range === undefined || range === null)
    throw invalidArgument('FragmentSelector.TimestampRange is required.')
  if (typeof range !== 'object' || Array.isArray(range)) throw wrongType('TimestampRange', 'an object')
  const startMs = epochSeconds((range as JsonObject).StartTimestamp, 'TimestampRange.StartTimestamp')
  const endMs = epochSeconds((range as JsonObject).EndTimestamp, 'TimestampRange.EndTimestamp')
  if (startMs > endMs) throw invalidArgument('TimestampRange.StartTimestamp must not be after EndTimestamp.')
  return { type, startMs, endMs }
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64')
}

function decodeToken(text: string, stream: StreamRecord): PageToken {
  let token: PageToken | undefined
  try {
    token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as PageToken
  } catch {
    token = undefined
  }
  if (
    typeof token !== 'object' ||
    token === null ||
    token.streamARN !== stream.streamARN ||
    !Number.isSafeInteger(token.afterSequence)
  ) {
    throw invalidArgument('NextToken is not valid for this stream.')
  }
  return token
}

/**
 * One page of ListFragments: the stream's readable fragments (optionally those whose producer or server start
 * timestamp lies in the inclusive `TimestampRange`), `MaxResults` (default 100) at a time, with a `NextToken`
 * while more remain. The token carries the selector, so later pages need not repeat it. The emulator lists
 * fragments in fragment-number order; the service promises no order, so clients must not rely on it.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_ListFragments.html
 */
export function listFragmentsPage(
  stream: StreamRecord,
  fragments: readonly FragmentInfo[],
  input: JsonObject,
): { Fragments: ListedFragment[]; NextToken?: string } {
  const maxResults =
    optionalInteger(input, 'MaxResults', { min: 1, max: MAX_LIST_FRAGMENTS_RESULTS }) ??
    DEFAULT_LIST_FRAGMENTS_RESULTS
  const nextToken = optionalString(input, 'NextToken', { pattern: NEXT_TOKEN, minLength: 1, maxLength: 4096 })
  const selected = parseSelector(input)
  const token = nextToken === undefined ? undefined : decodeToken(nextToken, stream)
  const range = token === undefined ? selected : token.range
  const afterSequence = token?.afterSequence ?? 0
  const page: FragmentInfo[] = []
  let more = false
  for (const fragment of fragments) {
    if (fragment.sequence <= afterSequence) continue
    if (range !== undefined) {
      const start =
        range.type === 'PRODUCER_TIMESTAMP' ? fragment.producerTimestampMs : fragment.serverTimestampMs
      if (start < range.startMs || start > range.endMs) continue
    }
    if (page.length === maxResults) {
      more = true
      break
    }
    page.push(fragment)
  }
  const last = page[page.length - 1]
  return {
    Fragments: page.map((fragment) => ({
      FragmentNumber: fragment.fragmentNumber,
      FragmentSizeInBytes: fragment.sizeBytes,
      ProducerTimestamp: fragment.producerTimestampMs / 1000,
      ServerTimestamp: fragment.serverTimestampMs / 1000,
      FragmentLengthInMilliseconds: Math.round(fragment.durationMs),
    })),
    ...(more && last !== undefined
      ? { NextToken: encodeToken({ streamARN: stream.streamARN, afterSequence: last.sequence, range }) }
      : {}),
  }
}
