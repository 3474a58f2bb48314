import { describe, expect, test } from 'vitest'
import { EventQueue } from '../src/event-queue.ts'

describe('EventQueue', () => {
  test('hands out queued events in order, waits for more, and finishes after end()', async () => {
    const queue = new EventQueue<number>(10, () => {})
    queue.push(1)
    queue.push(2)
    expect(await queue.next()).toEqual({ done: false, value: 1 })
    expect(await queue.next()).toEqual({ done: false, value: 2 })
    const waiting = queue.next()
    queue.push(3)
    expect(await waiting).toEqual({ done: false, value: 3 })
    queue.push(4)
    queue.end()
    queue.push(5)
    expect(await queue.next()).toEqual({ done: false, value: 4 })
    expect(await queue.next()).toEqual({ done: true, value: undefined })
  })

  test('a consumer too far behind gets ERR_KVS_PRODUCER_EVENTS_OVERFLOW after the events it was given', async () => {
    let ended = 0
    const queue = new EventQueue<number>(2, () => ended++)
    queue.push(1)
    queue.push(2)
    queue.push(3)
    expect(ended).toBe(1)
    expect(await queue.next()).toEqual({ done: false, value: 1 })
    expect(await queue.next()).toEqual({ done: false, value: 2 })
    await expect(queue.next()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_EVENTS_OVERFLOW' })
    expect(await queue.next()).toEqual({ done: true, value: undefined })
  })

  test('breaking out of for await unsubscribes', async () => {
    let ended = 0
    const queue = new EventQueue<number>(10, () => ended++)
    queue.push(1)
    queue.push(2)
    for await (const value of queue) {
      expect(value).toBe(1)
      break
    }
    expect(ended).toBe(1)
    expect(await queue.next()).toEqual({ done: true, value: undefined })
  })
})
