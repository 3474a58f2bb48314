import { describe, expect, it } from 'vitest'
import { BodyQueue, COALESCE_BELOW_BYTES, COALESCE_MAX_BYTES } from '../src/body-queue.ts'

/** Chunk `i` of `length` bytes, every byte `i & 0xff`, so joined output shows where each came from. */
const chunk = (i: number, length: number) => Buffer.alloc(length, i & 0xff)

/** Pulls every chunk the queue hands out until it ends (the queue must be ended). */
async function drain(queue: BodyQueue): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const piece of queue) out.push(piece)
  return out
}

describe('BodyQueue: small chunks are joined before they go to the socket', () => {
  it('joins the frames of a fragment into pieces of at most COALESCE_MAX_BYTES, in order, byte for byte', async () => {
    const frames = Array.from({ length: 40 }, (_, i) => chunk(i, 5_000 + i))
    const queue = new BodyQueue(Number.POSITIVE_INFINITY)
    queue.push(frames, () => {})
    queue.end(() => {})
    const out = await drain(queue)
    expect(Buffer.concat(out).equals(Buffer.concat(frames))).toBe(true)
    expect(out.length).toBe(Math.ceil(Buffer.concat(frames).length / COALESCE_MAX_BYTES))
    for (const piece of out) expect(piece.length).toBeLessThanOrEqual(COALESCE_MAX_BYTES)
  })

  it('hands large chunks over as they are (the same memory), and joins only the small ones around them', async () => {
    const big = chunk(1, COALESCE_BELOW_BYTES)
    const small = [chunk(2, 100), chunk(3, 200)]
    const tail = [chunk(4, 300), chunk(5, 400)]
    const queue = new BodyQueue(Number.POSITIVE_INFINITY)
    queue.push([...small, big, ...tail], () => {})
    queue.end(() => {})
    const out = await drain(queue)
    expect(out.map((piece) => piece.length)).toEqual([300, COALESCE_BELOW_BYTES, 700])
    expect(out[1]).toBe(big)
    expect(Buffer.concat(out).equals(Buffer.concat([...small, big, ...tail]))).toBe(true)
  })

  it('hands a lone small chunk over without a copy', async () => {
    const only = chunk(7, 10)
    const queue = new BodyQueue(Number.POSITIVE_INFINITY)
    queue.push([only], () => {})
    queue.end(() => {})
    const out = await drain(queue)
    expect(out).toHaveLength(1)
    expect(out[0]).toBe(only)
  })

  it('counts joined bytes as taken only when the socket asks for the next piece (backpressure holds)', async () => {
    const queue = new BodyQueue(10_000)
    let released = false
    queue.push(
      Array.from({ length: 10 }, (_, i) => chunk(i, 2_000)),
      () => (released = true),
    )
    expect(released).toBe(false)
    expect(queue.queuedBytes).toBe(20_000)
    const iterator = queue[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect(first.value).toHaveLength(20_000)
    // Handed over, not yet taken: the writer still waits.
    expect(released).toBe(false)
    queue.end(() => {})
    expect((await iterator.next()).done).toBe(true)
    expect(released).toBe(true)
    expect(queue.queuedBytes).toBe(0)
  })

  it('keeps order across many pushes, with more chunks queued than the compaction threshold', async () => {
    const all: Buffer[] = []
    const queue = new BodyQueue(Number.POSITIVE_INFINITY)
    for (let i = 0; i < 3_000; i++) {
      const piece = chunk(i, 1 + (i % 97) * 300)
      all.push(piece)
      queue.push([piece], () => {})
    }
    queue.end(() => {})
    const out = await drain(queue)
    expect(Buffer.concat(out).equals(Buffer.concat(all))).toBe(true)
    expect(out.length).toBeLessThan(all.length)
  })
})
