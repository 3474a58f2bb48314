import { invalidArgument, ServiceError } from '../errors.ts'
import type { JsonObject } from '../http/router.ts'
import { optionalString } from '../http/validate.ts'
import type { FragmentInfo } from '../storage/types.ts'

/** GetMedia's `StartSelectorType` values. */
export type StartSelectorType =
  | 'FRAGMENT_NUMBER'
  | 'SERVER_TIMESTAMP'
  | 'PRODUCER_TIMESTAMP'
  | 'NOW'
  | 'EARLIEST'
  | 'CONTINUATION_TOKEN'

const TYPES: ReadonlySet<string> = new Set<StartSelectorType>([
  'FRAGMENT_NUMBER',
  'SERVER_TIMESTAMP',
  'PRODUCER_TIMESTAMP',
  'NOW',
  'EARLIEST',
  'CONTINUATION_TOKEN',
])

/** Patterns of the `kinesis-video-media` model. */
const FRAGMENT_NUMBER = /^[0-9]+$/
const CONTINUATION_TOKEN = /^[a-zA-Z0-9_.-]+$/

/** Where a GetMedia response starts. */
export interface StartPosition {
  type: StartSelectorType
  /**
   * Index in the fragments stored when the request arrived (oldest first) of the first one to write, or
   * `stored.length` when reading starts with a fragment stored later (always for `NOW`).
   */
  firstStored(stored: readonly FragmentInfo[]): number
  /** While nothing was written: whether reading starts at this newly stored fragment (every later one follows). */
  acceptsLive(fragment: FragmentInfo): boolean
}

/** Whether fragment number `a` comes after `b` (both decimal strings of any length). */
export function isAfter(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b)
}

/**
 * The timestamp selectors: the fragment containing `ms` (the last one starting at or before it, when `ms` lies
 * before its end), else the first fragment starting after `ms`.
 */
function timestampPosition(type: StartSelectorType, startOf: (fragment: FragmentInfo) => number, ms: number) {
  const endsAfter = (fragment: FragmentInfo) => ms < startOf(fragment) + Math.max(fragment.durationMs, 1)
  return {
    type,
    firstStored(stored: readonly FragmentInfo[]): number {
      let containing = -1
      for (const [index, fragment] of stored.entries()) if (startOf(fragment) <= ms) containing = index
      if (containing >= 0 && endsAfter(stored[containing]!)) return containing
      const after = stored.findIndex((fragment) => startOf(fragment) > ms)
      return after < 0 ? stored.length : after
    },
    acceptsLive: endsAfter,
  }
}

/** The fragment-number selectors: the first fragment after `after`. */
function afterPosition(type: StartSelectorType, after: string): StartPosition {
  const accepts = (fragment: FragmentInfo) => isAfter(fragment.fragmentNumber, after)
  return {
    type,
    firstStored(stored) {
      const index = stored.findIndex(accepts)
      return index < 0 ? stored.length : index
    },
    acceptsLive: accepts,
  }
}

/**
 * Reads and checks GetMedia's `StartSelector`: `NOW` (fragments stored from now on), `EARLIEST`,
 * `FRAGMENT_NUMBER` (the fragment after `AfterFragmentNumber`), `SERVER_TIMESTAMP` / `PRODUCER_TIMESTAMP`
 * (the fragment containing `StartTimestamp`, else the next one), `CONTINUATION_TOKEN` (the fragment after
 * the token's; the emulator's tokens are fragment numbers, as the service's are in every capture).
 * Throws `InvalidArgumentException` for a missing or bad member, `SerializationException` for a wrong JSON type.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_StartSelector.html
 */
export function parseStartSelector(input: JsonObject): StartPosition {
  const selector = input.StartSelector
  if (selector === undefined || selector === null) throw invalidArgument('StartSelector is required.')
  if (typeof selector !== 'object' || Array.isArray(selector)) {
    throw new ServiceError('SerializationException', 400, 'StartSelector must be an object.')
  }
  const members = selector as JsonObject
  const type = optionalString(members, 'StartSelectorType')
  if (type === undefined) throw invalidArgument('StartSelector.StartSelectorType is required.')
  if (!TYPES.has(type)) {
    throw invalidArgument(
      `StartSelector.StartSelectorType ${JSON.stringify(type.slice(0, 100))} is not one of ${[...TYPES].join(', ')}.`,
    )
  }
  switch (type as StartSelectorType) {
    case 'NOW':
      return { type: 'NOW', firstStored: (stored) => stored.length, acceptsLive: () => true }
    case 'EARLIEST':
      return { type: 'EARLIEST', firstStored: () => 0, acceptsLive: () => true }
    case 'FRAGMENT_NUMBER': {
      const after = optionalString(members, 'AfterFragmentNumber', {
        pattern: FRAGMENT_NUMBER,
        minLength: 1,
        maxLength: 128,
      })
      if (after === undefined) {
        throw invalidArgument('AfterFragmentNumber is required when StartSelectorType is FRAGMENT_NUMBER.')
      }
      return afterPosition('FRAGMENT_NUMBER', after)
    }
    case 'CONTINUATION_TOKEN': {
      const token = optionalString(members, 'ContinuationToken', {
        pattern: CONTINUATION_TOKEN,
        minLength: 1,
        maxLength: 128,
      })
      if (token === undefined) {
        throw invalidArgument('ContinuationToken is required when StartSelectorType is CONTINUATION_TOKEN.')
      }
      if (!FRAGMENT_NUMBER.test(token)) throw invalidArgument('The continuation token is not valid.')
      return afterPosition('CONTINUATION_TOKEN', token)
    }
    case 'SERVER_TIMESTAMP':
    case 'PRODUCER_TIMESTAMP': {
      const seconds = members.StartTimestamp
      if (seconds === undefined || seconds === null) {
        throw invalidArgument(`StartTimestamp is required when StartSelectorType is ${type}.`)
      }
      if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
        throw new ServiceError(
          'SerializationException',
          400,
          'StartTimestamp must be epoch seconds (a number).',
        )
      }
      if (seconds < 0) throw invalidArgument('StartTimestamp must not be negative.')
      const ms = Math.round(seconds * 1000)
      return type === 'SERVER_TIMESTAMP'
        ? timestampPosition('SERVER_TIMESTAMP', (fragment) => fragment.serverTimestampMs, ms)
        : timestampPosition('PRODUCER_TIMESTAMP', (fragment) => fragment.producerTimestampMs, ms)
    }
  }
}
