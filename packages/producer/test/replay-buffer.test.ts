import { describe, expect, test } from 'vitest'
import {
  type BufferedFragment,
  newBufferedFragment,
  ReplayBuffer,
  type SessionHeader,
} from '../src/replay-buffer.ts'

const header: SessionHeader = { bytes: new Uint8Array(4), timecodeScale: 1_000_000 }

function fragment(index: number, byteLength = 100, durationMs = 1000): BufferedFragment {
  const startMs = index * durationMs
  return newBufferedFragment({
    ref: { index, timecode: startMs, producerTimestampMs: startMs, byteLength, durationMs },
    header,
    bytes: [new Uint8Array(byteLength)],
    startMs,
    endMs: startMs + durationMs,
    acceptedAt: 0,
  })
}

describe('ReplayBuffer', () => {
  test('counts the bytes and the media time of the unsettled fragments, and is full at either limit', () => {
    const buffer = new ReplayBuffer({ maxBytes: 300, maxDurationMs: 10_000 })
    const [a, b, c] = [fragment(0), fragment(1), fragment(2)]
    buffer.add(a)
    buffer.add(b)
    expect([buffer.bytes, buffer.size, buffer.durationMs, buffer.full]).toEqual([200, 2, 2000, false])
    buffer.add(c)
    expect(buffer.full).toBe(true)
    buffer.settle(a)
    expect([buffer.bytes, buffer.size, buffer.durationMs, buffer.full]).toEqual([200, 2, 2000, false])
    expect(a.bytes).toEqual([])

    const long = new ReplayBuffer({ maxBytes: 1e9, maxDurationMs: 2500 })
    long.add(fragment(0))
    long.add(fragment(1))
    expect(long.full).toBe(false)
    long.add(fragment(2))
    expect(long.full).toBe(true)
  })

  test('sends each fragment once in order, and rewind() goes back to the oldest unsettled one', () => {
    const buffer = new ReplayBuffer({ maxBytes: 1e9, maxDurationMs: 1e9 })
    const fragments = [0, 1, 2, 3, 4].map((index) => fragment(index))
    for (const item of fragments) buffer.add(item)
    const sent: number[] = []
    for (let next = buffer.peek(); next !== undefined; next = buffer.peek()) {
      sent.push(next.ref.index)
      buffer.advance()
    }
    expect(sent).toEqual([0, 1, 2, 3, 4])
    buffer.settle(fragments[0]!)
    buffer.settle(fragments[2]!)
    buffer.rewind()
    const resent: number[] = []
    for (let next = buffer.peek(); next !== undefined; next = buffer.peek()) {
      resent.push(next.ref.index)
      buffer.advance()
    }
    expect(resent).toEqual([1, 3, 4])
    expect([...buffer.unsettled()].map((item) => item.ref.index)).toEqual([1, 3, 4])
    expect(buffer.oldest()?.ref.index).toBe(1)
  })

  test('settle() is idempotent and a fragment settled while queued is never sent', () => {
    const buffer = new ReplayBuffer({ maxBytes: 1e9, maxDurationMs: 1e9 })
    const [a, b] = [fragment(0), fragment(1)]
    buffer.add(a)
    buffer.add(b)
    buffer.settle(b)
    buffer.settle(b)
    expect(buffer.size).toBe(1)
    expect(buffer.peek()).toBe(a)
    buffer.advance()
    expect(buffer.peek()).toBeUndefined()
  })

  test('memory stays bounded over a long run: settled entries are compacted away', () => {
    const buffer = new ReplayBuffer({ maxBytes: 1e9, maxDurationMs: 1e12 })
    const window: BufferedFragment[] = []
    let inOrder = true
    for (let index = 0; index < 20_000; index++) {
      const item = fragment(index)
      buffer.add(item)
      window.push(item)
      if (buffer.peek() !== item) inOrder = false
      buffer.advance()
      if (window.length > 10) buffer.settle(window.shift()!)
    }
    expect(inOrder).toBe(true)
    expect(buffer.size).toBe(10)
    expect(buffer.bytes).toBe(1000)
    buffer.rewind()
    expect(buffer.peek()).toBe(window[0])
  })
})
