import { invalidOption, numberOption } from '@kvs-streams/core'
import type { Ack } from './ack.ts'

/** What the acks so far say about one fragment, keyed by its `FragmentTimecode`. */
export interface FragmentState {
  fragmentNumber?: string
  fragmentTimecode: number
  /** The furthest state reached; never goes back. `ERROR` is final. */
  state: 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR'
  /** Clock readings (milliseconds) when each ack arrived. */
  bufferingAt?: number
  receivedAt?: number
  persistedAt?: number
  errorAt?: number
  errorId?: number
  errorCode?: string
}

/**
 * Something unexpected in the ack sequence. Informational: the tracker still records what it can.
 * - `duplicate`: the same EventType again for the same fragment.
 * - `out-of-order`: an ack that goes back — for its fragment (RECEIVED after PERSISTED, anything after
 *   ERROR) or across fragments (BUFFERING/RECEIVED/PERSISTED for a lower timecode than an earlier ack of the
 *   same type).
 * - `unknown-fragment`: RECEIVED or PERSISTED for a fragment never seen (or already forgotten/evicted), or an
 *   ack other than IDLE/ERROR without a `FragmentTimecode`.
 */
export type TrackerAnomaly = {
  kind: 'duplicate' | 'out-of-order' | 'unknown-fragment'
  ack: Ack
  message: string
}

/** Options of `createFragmentTracker`. */
export interface FragmentTrackerOptions {
  /** Time source in milliseconds. Default `performance.timeOrigin + performance.now()` (epoch-based, monotonic). */
  clock?: () => number
  /**
   * Most fragments kept. Default 10,000. Past it the oldest finished (PERSISTED or ERROR) fragment is
   * evicted, or if none is finished the oldest fragment, so memory stays bounded on a long session.
   */
  maxFragments?: number
}

/**
 * Follows each fragment of one PutMedia session through BUFFERING → RECEIVED → PERSISTED (or ERROR), with
 * the time of each step. Use one tracker per connection: timecodes identify fragments within a session.
 */
export interface FragmentTracker {
  /** Records an ack. IDLE acks (and ERROR acks without a timecode) return `{}`. */
  update(ack: Ack): { fragment?: FragmentState; anomaly?: TrackerAnomaly }
  /** A snapshot of one fragment's state. */
  get(fragmentTimecode: number): FragmentState | undefined
  /** Highest timecode acknowledged as RECEIVED or PERSISTED (a persisted fragment was received). */
  readonly lastReceivedTimecode: number | undefined
  /** Highest timecode acknowledged as PERSISTED. */
  readonly lastPersistedTimecode: number | undefined
  /** Milliseconds between the acks of one fragment, each present when both acks arrived. */
  latencies(
    fragmentTimecode: number,
  ):
    | { bufferingToReceivedMs?: number; receivedToPersistedMs?: number; bufferingToPersistedMs?: number }
    | undefined
  /** Drops one fragment's state. */
  forget(fragmentTimecode: number): void
  /** Number of fragments held. */
  readonly size: number
}

const defaultMaxFragments = 10_000
const defaultClock = (): number => performance.timeOrigin + performance.now()

/**
 * Creates a fragment tracker.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function createFragmentTracker(options: FragmentTrackerOptions = {}): FragmentTracker {
  const clock = options.clock ?? defaultClock
  if (typeof clock !== 'function') throw invalidOption('clock', 'a function', clock)
  const maxFragments = numberOption(
    'maxFragments',
    options.maxFragments ?? defaultMaxFragments,
    'a positive integer',
    {
      integer: true,
      min: 1,
    },
  )

  /** Fragments by timecode, in the order first seen: the eviction order of last resort. */
  const fragments = new Map<number, FragmentState>()
  /** Timecodes of PERSISTED/ERROR fragments in the order they finished: evicted first. */
  const finished = new Set<number>()
  /** Highest timecode per EventType (PERSISTED: `lastPersistedTimecode`), to spot acks that go back. */
  let highestBuffering: number | undefined
  let highestReceived: number | undefined
  let lastReceivedTimecode: number | undefined
  let lastPersistedTimecode: number | undefined

  function evictFor(kept: number): void {
    if (fragments.size <= maxFragments) return
    for (const timecode of finished) {
      if (timecode === kept) continue
      fragments.delete(timecode)
      finished.delete(timecode)
      return
    }
    for (const timecode of fragments.keys()) {
      if (timecode === kept) continue
      fragments.delete(timecode)
      return
    }
  }

  function create(ack: Ack, timecode: number, state: FragmentState['state']): FragmentState {
    const fragment: FragmentState = { fragmentTimecode: timecode, state }
    if (ack.fragmentNumber !== undefined) fragment.fragmentNumber = ack.fragmentNumber
    fragments.set(timecode, fragment)
    evictFor(timecode)
    return fragment
  }

  function anomaly(kind: TrackerAnomaly['kind'], ack: Ack, message: string): TrackerAnomaly {
    return { kind, ack, message }
  }

  function goesBack(highest: number | undefined, timecode: number): boolean {
    return highest !== undefined && timecode < highest
  }

  function record(
    ack: Ack,
    timecode: number,
    now: number,
  ): { fragment: FragmentState; anomaly?: TrackerAnomaly } {
    const type = ack.eventType
    let fragment = fragments.get(timecode)
    if (fragment !== undefined && fragment.fragmentNumber === undefined && ack.fragmentNumber !== undefined) {
      fragment.fragmentNumber = ack.fragmentNumber
    }
    switch (type) {
      case 'BUFFERING': {
        if (fragment === undefined) {
          const back = goesBack(highestBuffering, timecode)
          fragment = create(ack, timecode, 'BUFFERING')
          fragment.bufferingAt = now
          if (!back) highestBuffering = timecode
          return back
            ? {
                fragment,
                anomaly: anomaly(
                  'out-of-order',
                  ack,
                  `BUFFERING for fragment ${timecode} after BUFFERING for fragment ${highestBuffering}`,
                ),
              }
            : { fragment }
        }
        if (fragment.bufferingAt !== undefined) {
          return {
            fragment,
            anomaly: anomaly('duplicate', ack, `Duplicate BUFFERING for fragment ${timecode}`),
          }
        }
        fragment.bufferingAt = now
        return {
          fragment,
          anomaly: anomaly('out-of-order', ack, `BUFFERING for fragment ${timecode} after ${fragment.state}`),
        }
      }
      case 'RECEIVED':
      case 'PERSISTED': {
        const received = type === 'RECEIVED'
        if (fragment === undefined) {
          fragment = create(ack, timecode, type)
          setArrival(fragment, type, now)
          advance(type, timecode)
          return {
            fragment,
            anomaly: anomaly('unknown-fragment', ack, `${type} for unknown fragment ${timecode}`),
          }
        }
        if ((received ? fragment.receivedAt : fragment.persistedAt) !== undefined) {
          return {
            fragment,
            anomaly: anomaly('duplicate', ack, `Duplicate ${type} for fragment ${timecode}`),
          }
        }
        setArrival(fragment, type, now)
        const highest = received ? highestReceived : lastPersistedTimecode
        const regresses = fragment.state === 'ERROR' || (received && fragment.state === 'PERSISTED')
        if (!regresses) fragment.state = type
        advance(type, timecode)
        if (regresses) {
          return {
            fragment,
            anomaly: anomaly('out-of-order', ack, `${type} for fragment ${timecode} after ${fragment.state}`),
          }
        }
        if (goesBack(highest, timecode)) {
          return {
            fragment,
            anomaly: anomaly(
              'out-of-order',
              ack,
              `${type} for fragment ${timecode} after ${type} for fragment ${highest}`,
            ),
          }
        }
        return { fragment }
      }
      default: {
        // ERROR: the service may reject a fragment it never acknowledged as BUFFERING, so no anomaly then.
        if (fragment === undefined) fragment = create(ack, timecode, 'ERROR')
        else if (fragment.errorAt !== undefined) {
          return { fragment, anomaly: anomaly('duplicate', ack, `Duplicate ERROR for fragment ${timecode}`) }
        }
        fragment.state = 'ERROR'
        fragment.errorAt = now
        if (ack.errorId !== undefined) fragment.errorId = ack.errorId
        if (ack.errorCode !== undefined) fragment.errorCode = ack.errorCode
        finished.add(timecode)
        return { fragment }
      }
    }
  }

  function setArrival(fragment: FragmentState, type: 'RECEIVED' | 'PERSISTED', now: number): void {
    if (type === 'RECEIVED') {
      fragment.receivedAt = now
    } else {
      fragment.persistedAt = now
      if (fragment.state !== 'ERROR') finished.add(fragment.fragmentTimecode)
    }
  }

  function advance(type: 'RECEIVED' | 'PERSISTED', timecode: number): void {
    if (type === 'RECEIVED') {
      if (!goesBack(highestReceived, timecode)) highestReceived = timecode
    } else {
      if (!goesBack(lastPersistedTimecode, timecode)) lastPersistedTimecode = timecode
    }
    if (!goesBack(lastReceivedTimecode, timecode)) lastReceivedTimecode = timecode
  }

  return {
    update(ack) {
      if (ack.eventType === 'IDLE') return {}
      const timecode = ack.fragmentTimecode
      if (timecode === undefined) {
        if (ack.eventType === 'ERROR') return {}
        return { anomaly: anomaly('unknown-fragment', ack, `${ack.eventType} without a FragmentTimecode`) }
      }
      const { fragment, anomaly: found } = record(ack, timecode, clock())
      return found === undefined
        ? { fragment: { ...fragment } }
        : { fragment: { ...fragment }, anomaly: found }
    },
    get(fragmentTimecode) {
      const fragment = fragments.get(fragmentTimecode)
      return fragment === undefined ? undefined : { ...fragment }
    },
    get lastReceivedTimecode() {
      return lastReceivedTimecode
    },
    get lastPersistedTimecode() {
      return lastPersistedTimecode
    },
    latencies(fragmentTimecode) {
      const fragment = fragments.get(fragmentTimecode)
      if (fragment === undefined) return undefined
      const { bufferingAt, receivedAt, persistedAt } = fragment
      const result: {
        bufferingToReceivedMs?: number
        receivedToPersistedMs?: number
        bufferingToPersistedMs?: number
      } = {}
      if (bufferingAt !== undefined && receivedAt !== undefined)
        result.bufferingToReceivedMs = receivedAt - bufferingAt
      if (receivedAt !== undefined && persistedAt !== undefined)
        result.receivedToPersistedMs = persistedAt - receivedAt
      if (bufferingAt !== undefined && persistedAt !== undefined) {
        result.bufferingToPersistedMs = persistedAt - bufferingAt
      }
      return result
    },
    forget(fragmentTimecode) {
      fragments.delete(fragmentTimecode)
      finished.delete(fragmentTimecode)
    },
    get size() {
      return fragments.size
    },
  }
}
