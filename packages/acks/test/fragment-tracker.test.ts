import { describe, expect, it } from 'vitest'
import { type Ack, createFragmentTracker } from '../src/index.ts'

function manualClock(start = 1_000) {
  let now = start
  return {
    clock: () => now,
    advance(milliseconds: number) {
      now += milliseconds
    },
  }
}

const buffering = (fragmentTimecode: number, fragmentNumber?: string): Ack =>
  fragmentNumber === undefined
    ? { eventType: 'BUFFERING', fragmentTimecode }
    : { eventType: 'BUFFERING', fragmentTimecode, fragmentNumber }
const received = (fragmentTimecode: number): Ack => ({ eventType: 'RECEIVED', fragmentTimecode })
const persisted = (fragmentTimecode: number): Ack => ({ eventType: 'PERSISTED', fragmentTimecode })

describe('createFragmentTracker', () => {
  it('moves a fragment through BUFFERING, RECEIVED and PERSISTED with the clock time of each ack', () => {
    const time = manualClock()
    const tracker = createFragmentTracker({ clock: time.clock })
    expect(tracker.update(buffering(2000, '913'))).toEqual({
      fragment: { fragmentTimecode: 2000, fragmentNumber: '913', state: 'BUFFERING', bufferingAt: 1000 },
    })
    time.advance(250)
    expect(tracker.update(received(2000)).fragment).toMatchObject({ state: 'RECEIVED', receivedAt: 1250 })
    time.advance(1000)
    expect(tracker.update(persisted(2000))).toEqual({
      fragment: {
        fragmentTimecode: 2000,
        fragmentNumber: '913',
        state: 'PERSISTED',
        bufferingAt: 1000,
        receivedAt: 1250,
        persistedAt: 2250,
      },
    })
  })

  it('reports the latencies between the acks of a fragment', () => {
    const time = manualClock()
    const tracker = createFragmentTracker({ clock: time.clock })
    tracker.update(buffering(0))
    expect(tracker.latencies(0)).toEqual({})
    time.advance(40)
    tracker.update(received(0))
    time.advance(900)
    tracker.update(persisted(0))
    expect(tracker.latencies(0)).toEqual({
      bufferingToReceivedMs: 40,
      receivedToPersistedMs: 900,
      bufferingToPersistedMs: 940,
    })
    expect(tracker.latencies(12345)).toBeUndefined()
  })

  it('follows the interleaved order the service really sends without anomalies', () => {
    const tracker = createFragmentTracker({ clock: manualClock().clock })
    const sequence = [
      buffering(0),
      buffering(2000),
      received(0),
      persisted(0),
      buffering(4000),
      received(2000),
    ]
    for (const ack of sequence) expect(tracker.update(ack).anomaly).toBeUndefined()
    expect(tracker.lastReceivedTimecode).toBe(2000)
    expect(tracker.lastPersistedTimecode).toBe(0)
    expect(tracker.get(4000)?.state).toBe('BUFFERING')
  })

  it('starts with no last received or persisted timecode and counts a PERSISTED fragment as received', () => {
    const tracker = createFragmentTracker()
    expect(tracker.lastReceivedTimecode).toBeUndefined()
    expect(tracker.lastPersistedTimecode).toBeUndefined()
    tracker.update(buffering(7))
    tracker.update(persisted(7))
    expect(tracker.lastReceivedTimecode).toBe(7)
    expect(tracker.lastPersistedTimecode).toBe(7)
  })

  it('flags a duplicate ack and keeps the time of the first one', () => {
    const time = manualClock()
    const tracker = createFragmentTracker({ clock: time.clock })
    tracker.update(buffering(0))
    time.advance(5)
    const again = tracker.update(buffering(0))
    expect(again.anomaly).toEqual({
      kind: 'duplicate',
      ack: buffering(0),
      message: 'Duplicate BUFFERING for fragment 0',
    })
    expect(again.fragment?.bufferingAt).toBe(1000)
    tracker.update(received(0))
    expect(tracker.update(received(0)).anomaly?.kind).toBe('duplicate')
  })

  it('flags an ack that goes back for its fragment and keeps the furthest state', () => {
    const time = manualClock()
    const tracker = createFragmentTracker({ clock: time.clock })
    tracker.update(buffering(0))
    time.advance(10)
    tracker.update(persisted(0))
    time.advance(10)
    const late = tracker.update(received(0))
    expect(late.anomaly).toMatchObject({
      kind: 'out-of-order',
      message: 'RECEIVED for fragment 0 after PERSISTED',
    })
    expect(late.fragment).toMatchObject({ state: 'PERSISTED', receivedAt: 1020, persistedAt: 1010 })
  })

  it('flags acks that go back across fragments', () => {
    const tracker = createFragmentTracker()
    tracker.update(buffering(2000))
    expect(tracker.update(buffering(0)).anomaly).toMatchObject({
      kind: 'out-of-order',
      message: 'BUFFERING for fragment 0 after BUFFERING for fragment 2000',
    })
    tracker.update(received(2000))
    expect(tracker.update(received(0)).anomaly).toMatchObject({
      kind: 'out-of-order',
      message: 'RECEIVED for fragment 0 after RECEIVED for fragment 2000',
    })
    tracker.update(persisted(2000))
    expect(tracker.update(persisted(0)).anomaly?.kind).toBe('out-of-order')
    expect(tracker.lastReceivedTimecode).toBe(2000)
    expect(tracker.lastPersistedTimecode).toBe(2000)
  })

  it('flags RECEIVED or PERSISTED for a fragment never seen, and still records it', () => {
    const tracker = createFragmentTracker()
    const result = tracker.update(received(4000))
    expect(result.anomaly).toMatchObject({
      kind: 'unknown-fragment',
      message: 'RECEIVED for unknown fragment 4000',
    })
    expect(result.fragment).toMatchObject({ fragmentTimecode: 4000, state: 'RECEIVED' })
    expect(tracker.update(persisted(6000)).anomaly?.kind).toBe('unknown-fragment')
    expect(tracker.update({ eventType: 'RECEIVED' })).toEqual({
      anomaly: {
        kind: 'unknown-fragment',
        ack: { eventType: 'RECEIVED' },
        message: 'RECEIVED without a FragmentTimecode',
      },
    })
  })

  it('ignores IDLE acks and ERROR acks without a timecode', () => {
    const tracker = createFragmentTracker()
    expect(tracker.update({ eventType: 'IDLE' })).toEqual({})
    expect(tracker.update({ eventType: 'ERROR', errorId: 4006 })).toEqual({})
    expect(tracker.size).toBe(0)
  })

  it('records an ERROR ack as the final state, flagging later acks for that fragment', () => {
    const time = manualClock()
    const tracker = createFragmentTracker({ clock: time.clock })
    tracker.update(buffering(0))
    time.advance(3)
    const error: Ack = {
      eventType: 'ERROR',
      fragmentTimecode: 0,
      errorId: 4004,
      errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
    }
    expect(tracker.update(error)).toEqual({
      fragment: {
        fragmentTimecode: 0,
        state: 'ERROR',
        bufferingAt: 1000,
        errorAt: 1003,
        errorId: 4004,
        errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
      },
    })
    expect(tracker.update(persisted(0))).toMatchObject({
      fragment: { state: 'ERROR' },
      anomaly: { kind: 'out-of-order' },
    })
    expect(tracker.update(error).anomaly?.kind).toBe('duplicate')
    expect(tracker.update({ eventType: 'ERROR', fragmentTimecode: -1, errorId: 4006 })).toMatchObject({
      fragment: { fragmentTimecode: -1, state: 'ERROR', errorId: 4006 },
    })
  })

  it('hands out snapshots that do not change its state', () => {
    const tracker = createFragmentTracker()
    const { fragment } = tracker.update(buffering(0))
    if (fragment === undefined) throw new Error('expected a fragment')
    fragment.state = 'PERSISTED'
    const copy = tracker.get(0)
    if (copy === undefined) throw new Error('expected a fragment')
    copy.state = 'ERROR'
    expect(tracker.get(0)?.state).toBe('BUFFERING')
  })

  it('forgets a fragment on request', () => {
    const tracker = createFragmentTracker()
    tracker.update(buffering(0))
    tracker.update(buffering(2000))
    tracker.forget(0)
    expect(tracker.get(0)).toBeUndefined()
    expect(tracker.size).toBe(1)
    expect(tracker.update(received(0)).anomaly?.kind).toBe('unknown-fragment')
  })

  it('evicts the oldest finished fragment first, then the oldest of all, to stay within maxFragments', () => {
    const tracker = createFragmentTracker({ maxFragments: 3 })
    tracker.update(buffering(0))
    tracker.update(buffering(2000))
    tracker.update(persisted(2000))
    tracker.update(buffering(4000))
    tracker.update(buffering(6000))
    expect(tracker.size).toBe(3)
    expect(tracker.get(2000)).toBeUndefined()
    expect(tracker.get(0)?.state).toBe('BUFFERING')
    tracker.update(buffering(8000))
    expect(tracker.get(0)).toBeUndefined()
    expect([4000, 6000, 8000].map((timecode) => tracker.get(timecode)?.state)).toEqual([
      'BUFFERING',
      'BUFFERING',
      'BUFFERING',
    ])
  })

  it('never evicts the fragment an ack just created', () => {
    const tracker = createFragmentTracker({ maxFragments: 1 })
    tracker.update(buffering(0))
    tracker.update({ eventType: 'ERROR', fragmentTimecode: 2000, errorId: 4000 })
    expect(tracker.size).toBe(1)
    expect(tracker.get(2000)?.state).toBe('ERROR')
  })

  it('stays at 10,000 fragments by default over a long session', () => {
    const tracker = createFragmentTracker()
    for (let fragment = 0; fragment < 25_000; fragment++) {
      tracker.update(buffering(fragment * 2000))
      if (fragment % 2 === 0) tracker.update(persisted(fragment * 2000))
    }
    expect(tracker.size).toBe(10_000)
    expect(tracker.get(24_999 * 2000)?.state).toBe('BUFFERING')
  })

  it('rejects bad options with a TypeError', () => {
    expect(() => createFragmentTracker({ maxFragments: 0 })).toThrow(
      new TypeError('maxFragments must be a positive integer, got 0'),
    )
    expect(() => createFragmentTracker({ clock: 5 as unknown as () => number })).toThrow(
      new TypeError('clock must be a function, got 5'),
    )
  })
})
