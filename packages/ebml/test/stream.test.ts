import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { fixturePath, readFixture, splitAt } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  EbmlError,
  type EbmlEvent,
  EbmlReaderStream,
  ElementId,
  readEbml,
  writeElement,
} from '../src/index.ts'
import { comparable, concat, readAll } from './helpers.ts'

/** A pull-based ReadableStream of `chunks` that counts how many it has handed out. */
function sourceOf(chunks: readonly Uint8Array[], options: { failAfter?: Error } = {}) {
  const state = { pulled: 0, cancelled: undefined as unknown }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[state.pulled]
        if (chunk === undefined) {
          if (options.failAfter) controller.error(options.failAfter)
          else controller.close()
          return
        }
        state.pulled++
        controller.enqueue(chunk)
      },
      cancel(reason) {
        state.cancelled = reason
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

/** A WritableStream that records events, optionally yielding to the event loop on each one (a slow sink). */
function sinkOf(events: EbmlEvent[], slow = false) {
  return new WritableStream<EbmlEvent>({
    async write(event) {
      if (slow) await new Promise((resolve) => setImmediate(resolve))
      events.push(event)
    },
  })
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

/** Reads a ReadableStream to its end with a reader (the DOM lib here does not type it as async iterable). */
async function drain<T>(
  readable: ReadableStream<T>,
  onChunk: (chunk: T) => unknown = () => {},
): Promise<void> {
  const reader = readable.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    await onChunk(value)
  }
}

// Three complete Voids, then a chunk with two more Voids and a zero byte (an invalid id), then more input.
const voids = (count: number) =>
  concat(...Array.from({ length: count }, () => writeElement(ElementId.Void, Uint8Array.of(7))))
const good = voids(3)
const bad = concat(voids(2), Uint8Array.of(0x00))
const after = voids(3)

describe('EbmlReaderStream', () => {
  it('gives the same events through pipeThrough as the core, for a real recording', async () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const chunks = splitAt(bytes, [1, 2, 3, 100, 1000, 1001, 5000, 12345, 20000])
    const events: EbmlEvent[] = []
    await drain(sourceOf(chunks).stream.pipeThrough(new EbmlReaderStream()), (event) => events.push(event))
    expect(comparable(events)).toEqual(comparable(readAll([bytes])))
  })

  it('passes options to the reader', async () => {
    const events: EbmlEvent[] = []
    const stream = sourceOf([Uint8Array.of(0xec, 0x81, 0x07)]).stream
    await stream.pipeThrough(new EbmlReaderStream({ dataMode: () => 'skip' })).pipeTo(sinkOf(events))
    expect(events).toMatchObject([{ type: 'element', size: 1, data: new Uint8Array(0) }])
  })

  it.each([false, true])(
    'delivers the events completed before an error in the middle, then rejects pipeTo (slow sink: %s)',
    async (slow) => {
      const events: EbmlEvent[] = []
      const { stream, state } = sourceOf([good, bad, after])
      const error = await stream
        .pipeThrough(new EbmlReaderStream())
        .pipeTo(sinkOf(events, slow))
        .catch((error: unknown) => error)
      expect(EbmlError.is(error)).toBe(true)
      expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
      expect(events.map((event) => event.offset)).toEqual([0, 3, 6, 9, 12])
      expect(state.cancelled).toBe(error)
    },
  )

  it.each([false, true])(
    'delivers the events completed before an error in the last chunk, then rejects pipeTo (slow sink: %s)',
    async (slow) => {
      const events: EbmlEvent[] = []
      const error = await sourceOf([good, bad])
        .stream.pipeThrough(new EbmlReaderStream())
        .pipeTo(sinkOf(events, slow))
        .catch((error: unknown) => error)
      expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
      expect(events.map((event) => event.offset)).toEqual([0, 3, 6, 9, 12])
    },
  )

  it('delivers every event, then rejects with ERR_KVS_EBML_TRUNCATED when the input stops inside an element', async () => {
    const events: EbmlEvent[] = []
    const error = await sourceOf([good, Uint8Array.of(0xec, 0x85, 0x00)])
      .stream.pipeThrough(new EbmlReaderStream())
      .pipeTo(sinkOf(events, true))
      .catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: 12 })
    expect(events).toHaveLength(3)
  })

  it('rejects a reader loop after the events completed before the error', async () => {
    const events: EbmlEvent[] = []
    const readable = sourceOf([good, bad, after]).stream.pipeThrough(new EbmlReaderStream())
    const error = await drain(readable, async (event) => {
      events.push(event)
      await tick()
    }).catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(events).toHaveLength(5)
  })

  it('passes an upstream error through pipeTo', async () => {
    const boom = new Error('upstream failed')
    const events: EbmlEvent[] = []
    const error = await sourceOf([good], { failAfter: boom })
      .stream.pipeThrough(new EbmlReaderStream())
      .pipeTo(sinkOf(events))
      .catch((error: unknown) => error)
    expect(error).toBe(boom)
    expect(events).toHaveLength(3)
  })

  it('cancels the source when pipeTo is aborted', async () => {
    const controller = new AbortController()
    const { stream, state } = sourceOf(Array.from({ length: 100 }, () => good))
    const events: EbmlEvent[] = []
    const sink = new WritableStream<EbmlEvent>({
      write(event) {
        events.push(event)
        if (events.length === 4) controller.abort(new Error('stop'))
      },
    })
    const error = await stream
      .pipeThrough(new EbmlReaderStream())
      .pipeTo(sink, { signal: controller.signal })
      .catch((error: unknown) => error)
    expect(error).toMatchObject({ message: 'stop' })
    expect(state.cancelled).toMatchObject({ message: 'stop' })
    expect(state.pulled).toBeLessThan(100)
  })

  it('stops pulling from the source while nobody reads its events', async () => {
    const { stream, state } = sourceOf(Array.from({ length: 100 }, () => good))
    const readable = stream.pipeThrough(new EbmlReaderStream())
    for (let i = 0; i < 10; i++) await tick()
    const stalled = state.pulled
    for (let i = 0; i < 10; i++) await tick()
    expect(state.pulled).toBe(stalled)
    expect(stalled).toBeLessThanOrEqual(3)
    let count = 0
    await drain(readable, () => count++)
    expect(count).toBe(300)
    expect(state.pulled).toBe(100)
  })
})

describe('readEbml', () => {
  it('gives the same events as the core as a stream.pipeline() stage over a file', async () => {
    const path = fixturePath('kvs-getmedia', 'test_mixed_tags.mkv')
    const events: EbmlEvent[] = []
    await pipeline(
      createReadStream(path, { highWaterMark: 777 }),
      readEbml,
      async (source: AsyncIterable<EbmlEvent>) => {
        for await (const event of source) events.push(event)
      },
    )
    expect(comparable(events)).toEqual(
      comparable(readAll([readFixture('kvs-getmedia', 'test_mixed_tags.mkv')])),
    )
  })

  it('yields the events completed before an error, then rejects the pipeline', async () => {
    const events: EbmlEvent[] = []
    async function* chunks() {
      yield good
      yield bad
      yield after
    }
    const error = await pipeline(chunks, readEbml, async (source: AsyncIterable<EbmlEvent>) => {
      for await (const event of source) {
        events.push(event)
        await tick()
      }
    }).catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
    expect(events.map((event) => event.offset)).toEqual([0, 3, 6, 9, 12])
  })

  it('rejects with ERR_KVS_EBML_TRUNCATED after the last complete event', async () => {
    const events: EbmlEvent[] = []
    async function* chunks() {
      yield good
      yield Uint8Array.of(0xec)
    }
    const error = await (async () => {
      for await (const event of readEbml(chunks())) events.push(event)
    })().catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: 10 })
    expect(events).toHaveLength(3)
  })
})
