import type { EmulatorContext } from '../context.ts'
import { invalidArgument, ServiceError } from '../errors.ts'
import type { JsonObject } from '../http/router.ts'
import type { FragmentInfo } from '../storage/types.ts'
import type { PlaybackMode, SelectorType, StreamingSession } from './session-token.ts'

/** Longest TimestampRange of a session or clip: 24 hours. */
export const MAX_RANGE_MS = 24 * 60 * 60 * 1000
/** LIVE sessions need a fragment ingested in the last 30 seconds. */
export const LIVE_WINDOW_MS = 30_000
/** Gap or overlap between fragments beyond which ON_DISCONTINUITY marks a discontinuity. */
export const DISCONTINUITY_THRESHOLD_MS = 50

function wrongType(member: string, expected: string): ServiceError {
  return new ServiceError('SerializationException', 400, `${member} must be ${expected}.`)
}

/** A `Timestamp` member (epoch seconds, fractions allowed) as epoch milliseconds. */
export function timestampMs(value: unknown, member: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw wrongType(member, 'epoch seconds (a number)')
  return value * 1000
}

/** A structure member, or undefined. */
export function optionalStructure(input: JsonObject, member: string): JsonObject | undefined {
  const value = input[member]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(member, 'an object')
  return value as JsonObject
}

/** An enum member: one of `values`, else InvalidArgumentException. */
export function optionalEnum<T extends string>(
  input: JsonObject,
  member: string,
  values: readonly T[],
): T | undefined {
  const value = input[member]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw wrongType(member, 'a string')
  if (!(values as readonly string[]).includes(value)) {
    throw invalidArgument(
      `${member} must be one of ${values.join(', ')}, got ${JSON.stringify(value.slice(0, 100))}.`,
    )
  }
  return value as T
}

/** A selector and its range, as the request gave them (after the service's rules). */
export interface Selection {
  selector: SelectorType
  startMs: number | undefined
  endMs: number | undefined
}

/**
 * `HLSFragmentSelector` / `DASHFragmentSelector` / `ClipFragmentSelector` with the service's rules: required
 * with a `TimestampRange` for ON_DEMAND and LIVE_REPLAY (and GetClip), range forbidden in LIVE, start required
 * in a range, end required for ON_DEMAND, end after start and within 24 h, and with SERVER_TIMESTAMP an end
 * in the past.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetHLSStreamingSessionURL.html
 */
export function parseSelection(
  context: EmulatorContext,
  input: JsonObject,
  member: string,
  mode: PlaybackMode | 'CLIP',
): Selection {
  const selector = optionalStructure(input, member)
  const needsRange = mode !== 'LIVE'
  if (selector === undefined) {
    if (needsRange) throw invalidArgument(`${member} is required when PlaybackMode is ${mode}.`)
    return { selector: 'SERVER_TIMESTAMP', startMs: undefined, endMs: undefined }
  }
  const type =
    optionalEnum(selector, 'FragmentSelectorType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const) ??
    (mode === 'CLIP' ? undefined : 'SERVER_TIMESTAMP')
  if (type === undefined) throw invalidArgument(`${member}.FragmentSelectorType is required.`)
  const range = optionalStructure(selector, 'TimestampRange')
  if (!needsRange) {
    if (range !== undefined)
      throw invalidArgument(`${member}.TimestampRange must not be set when PlaybackMode is LIVE.`)
    return { selector: type, startMs: undefined, endMs: undefined }
  }
  if (range === undefined)
    throw invalidArgument(`${member}.TimestampRange is required when PlaybackMode is ${mode}.`)
  const startMs = timestampMs(range.StartTimestamp, 'TimestampRange.StartTimestamp')
  const endMs = timestampMs(range.EndTimestamp, 'TimestampRange.EndTimestamp')
  if (startMs === undefined) throw invalidArgument('TimestampRange.StartTimestamp is required.')
  if (endMs === undefined && mode !== 'LIVE_REPLAY') {
    throw invalidArgument(
      `TimestampRange.EndTimestamp is required${mode === 'CLIP' ? '' : ` when PlaybackMode is ${mode}`}.`,
    )
  }
  if (endMs !== undefined) {
    if (endMs <= startMs)
      throw invalidArgument('TimestampRange.EndTimestamp must be later than StartTimestamp.')
    if (endMs - startMs > MAX_RANGE_MS) {
      throw invalidArgument('TimestampRange.EndTimestamp must be within 24 hours of StartTimestamp.')
    }
    if (type === 'SERVER_TIMESTAMP' && endMs > context.options.clock()) {
      throw invalidArgument('TimestampRange.EndTimestamp must be in the past with SERVER_TIMESTAMP.')
    }
  }
  return { selector: type, startMs, endMs }
}

/** A fragment's start on the selector's clock. */
export function startOf(fragment: FragmentInfo, selector: SelectorType): number {
  return selector === 'PRODUCER_TIMESTAMP' ? fragment.producerTimestampMs : fragment.serverTimestampMs
}

/**
 * Among fragments with the same producer start, keeps the one with the largest fragment number (the
 * service's rule for PRODUCER_TIMESTAMP in every mode); SERVER_TIMESTAMP lists are returned as they are.
 */
function dedupe(fragments: readonly FragmentInfo[], selector: SelectorType): FragmentInfo[] {
  if (selector === 'SERVER_TIMESTAMP') return fragments.slice()
  const newest = new Map<number, FragmentInfo>()
  for (const fragment of fragments) {
    const held = newest.get(fragment.producerTimestampMs)
    if (held === undefined || held.sequence < fragment.sequence)
      newest.set(fragment.producerTimestampMs, fragment)
  }
  return fragments.filter((fragment) => newest.get(fragment.producerTimestampMs) === fragment)
}

/**
 * The fragments whose start (on the selector's clock) lies in `[startMs, endMs]` (a fragment straddling the
 * start is out; the end is inclusive on the start), in timeline order: ingest order for SERVER_TIMESTAMP,
 * producer time (then ingest) for PRODUCER_TIMESTAMP.
 */
export function fragmentsInRange(fragments: readonly FragmentInfo[], selection: Selection): FragmentInfo[] {
  const { selector, startMs, endMs } = selection
  const inRange = fragments.filter((fragment) => {
    const start = startOf(fragment, selector)
    return (startMs === undefined || start >= startMs) && (endMs === undefined || start <= endMs)
  })
  const kept = dedupe(inRange, selector)
  if (selector === 'PRODUCER_TIMESTAMP') {
    kept.sort((a, b) => a.producerTimestampMs - b.producerTimestampMs || a.sequence - b.sequence)
  }
  return kept
}

/**
 * Every fragment of a session so far, in playlist order: what media sequence numbers (1-based positions)
 * and DASH `$Number$`s index. ON_DEMAND: the oldest `maxResults` of the range. LIVE_REPLAY: the range's
 * fragments as far as their durations have elapsed since the session began. LIVE: every fragment ingested
 * from the session's first one on.
 */
export function sessionFragments(
  context: EmulatorContext,
  session: StreamingSession,
): { fragments: FragmentInfo[]; complete: boolean } {
  const all = context.storage.listFragments(session.streamName)
  const selection = { selector: session.selector, startMs: session.startMs, endMs: session.endMs }
  if (session.mode === 'ON_DEMAND') {
    return { fragments: fragmentsInRange(all, selection).slice(0, session.maxResults), complete: true }
  }
  if (session.mode === 'LIVE') {
    return {
      fragments: dedupe(
        all.filter((fragment) => fragment.sequence >= session.firstSequence),
        session.selector,
      ),
      complete: false,
    }
  }
  const now = context.options.clock()
  const inRange = fragmentsInRange(all, selection)
  const elapsed = now - session.createdMs
  let shown = 0
  let paced = 0
  for (const fragment of inRange) {
    if (paced > elapsed) break
    shown++
    paced += Math.max(fragment.durationMs, 1)
  }
  const complete =
    session.endMs !== undefined &&
    shown === inRange.length &&
    (session.selector === 'SERVER_TIMESTAMP' ? session.endMs <= now : session.endMs + LIVE_WINDOW_MS <= now)
  return { fragments: inRange.slice(0, shown), complete }
}

/**
 * The part of the session's fragments a playlist or manifest lists now: all of them for ON_DEMAND, the
 * newest `maxResults` otherwise. `first` is the 0-based position of the first one in the session.
 */
export function playlistWindow(
  session: StreamingSession,
  fragments: readonly FragmentInfo[],
): { first: number; listed: FragmentInfo[] } {
  if (session.mode === 'ON_DEMAND') return { first: 0, listed: fragments.slice() }
  const first = Math.max(0, fragments.length - session.maxResults)
  return { first, listed: fragments.slice(first) }
}

/** Whether a discontinuity separates fragment `index` from the one before it, per the session's mode. */
export function discontinuityBefore(
  session: StreamingSession,
  fragments: readonly FragmentInfo[],
  index: number,
): boolean {
  if (index === 0 || session.discontinuity === 'NEVER') return false
  if (session.discontinuity === 'ALWAYS') return true
  const previous = fragments[index - 1]!
  const fragment = fragments[index]!
  const gap =
    startOf(fragment, session.selector) - (startOf(previous, session.selector) + previous.durationMs)
  return Math.abs(gap) > DISCONTINUITY_THRESHOLD_MS
}

/** `ResourceNotFoundException` (404) for a range or live window without fragments. */
export function noFragments(message: string): ServiceError {
  return new ServiceError('ResourceNotFoundException', 404, message)
}
