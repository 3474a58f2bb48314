import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import {
  CoreStream,
  coreStreamPair,
  type IncrementalCore,
  iterateCore,
  settledEnd,
  settledPush,
} from '../src/index.ts'
import { coreNodeTransform } from '../src/node.ts'
import { SplitterError, settle, splitter } from './helpers.ts'

/** A pull-based WHATWG source of `chunks` (repeated forever with `repeat`) that counts its pulls. */
function webSource(chunks: string[], repeat = false) {
  const state = { pulls: 0 }
  let index = 0
  const stream = new ReadableStream<string>(
    {
      pull(controller) {
        state.pulls++
        const chunk = repeat ? chunks[index++ % chunks.length] : chunks[index++]
        if (chunk === undefined) controller.close()
        else controller.enqueue(chunk)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

/** Reads a WHATWG stream to its end or error: the chunks read, and the error if any. */
async function readWeb(stream: ReadableStream<string>): Promise<{ events: string[]; error?: unknown }> {
  const reader = stream.getReader()
  const events: string[] = []
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { events }
      events.push(value)
    }
  } catch (error) {
    return { events, error }
  }
}

/** A WritableStream recording what it receives, yielding to the event loop on each chunk when `slow`. */
function webSink(events: string[], slow = false, highWaterMark = 1) {
  return new WritableStream<string>(
    {
      async write(event) {
        if (slow) await settle(2)
        events.push(event)
      },
    },
    { highWaterMark },
  )
}

describe('coreStreamPair / CoreStream', () => {
  it('turns chunks into the core events, ending with end()', async () => {
    const { stream } = webSource(['a;b', 'c;', 'd;'])
    const result = await readWeb(stream.pipeThrough(new CoreStream(splitter())))
    expect(result).toEqual({ events: ['a', 'bc', 'd'] })
  })

  it('is a { readable, writable } pair, not a TransformStream', () => {
    const pair = new CoreStream(splitter())
    expect(pair).not.toBeInstanceOf(TransformStream)
    expect(pair.readable).toBeInstanceOf(ReadableStream)
    expect(pair.writable).toBeInstanceOf(WritableStream)
    const plain = coreStreamPair(splitter())
    expect(Object.keys(plain).sort()).toEqual(['readable', 'writable'])
  })

  it('delivers the events of a push that fails mid-stream, then the failure, and cancels the source', async () => {
    const state = { cancelled: undefined as unknown }
    const chunks = ['a;', 'b;c;!', 'never;', 'never;']
    const source = new ReadableStream<string>(
      {
        pull(controller) {
          const chunk = chunks.shift()
          if (chunk === undefined) controller.close()
          else controller.enqueue(chunk)
        },
        cancel(reason) {
          state.cancelled = reason
        },
      },
      { highWaterMark: 0 },
    )
    const events: string[] = []
    const error = await source
      .pipeThrough(new CoreStream(splitter()))
      .pipeTo(webSink(events, true))
      .catch((error: unknown) => error)
    expect(events).toEqual(['a', 'b', 'c'])
    expect(error).toBeInstanceOf(SplitterError)
    expect(state.cancelled).toBe(error)
  })

  it.each([false, true])(
    'delivers every event of a failing end() to the sink before the error (slow sink: %s)',
    async (slow) => {
      const { stream } = webSource(['a;b;', 'c;d;e+'])
      const events: string[] = []
      const error = await stream
        .pipeThrough(new CoreStream(splitter()))
        .pipeTo(webSink(events, slow))
        .catch((error: unknown) => error)
      expect(events).toEqual(['a', 'b', 'c', 'd', 'e+'])
      expect(error).toEqual(new SplitterError('input ended after "e+"'))
    },
  )

  it('holds the error until the events queued before it are read, with a bigger readable buffer', async () => {
    const pair = new CoreStream(splitter(), { readableStrategy: { highWaterMark: 8 } })
    const writer = pair.writable.getWriter()
    await writer.write('a;b;c;!')
    const closed = writer.close().catch((error: unknown) => error)
    expect(await closed).toBeInstanceOf(SplitterError)
    await settle()
    const result = await readWeb(pair.readable)
    expect(result.events).toEqual(['a', 'b', 'c'])
    expect(result.error).toBe(await closed)
  })

  it('fails with the error end() throws at once', async () => {
    const { stream } = webSource(['a;', 'open'])
    const result = await readWeb(stream.pipeThrough(new CoreStream(splitter())))
    expect(result.events).toEqual(['a'])
    expect(result.error).toEqual(new SplitterError('input ended inside "open"'))
  })

  it('fails every write after a failure with the same error', async () => {
    const pair = new CoreStream(splitter())
    const reading = readWeb(pair.readable)
    const writer = pair.writable.getWriter()
    await writer.write('a;!')
    const second = await writer.write('b;').catch((error: unknown) => error)
    expect(second).toBeInstanceOf(SplitterError)
    expect(await writer.write('c;').catch((error: unknown) => error)).toBe(second)
    expect(await writer.closed.catch((error: unknown) => error)).toBe(second)
    expect(await reading).toEqual({ events: ['a'], error: second })
  })

  it('pulls from its source only as fast as its events are read', async () => {
    const { stream, state } = webSource(['x;'], true)
    const reader = stream.pipeThrough(new CoreStream(splitter())).getReader()
    await settle()
    const idle = state.pulls
    expect(idle).toBeLessThan(5)
    for (let i = 0; i < 10; i++) expect((await reader.read()).value).toBe('x')
    await settle()
    expect(state.pulls).toBeLessThan(idle + 15)
    await reader.cancel()
  })

  it('resolves writes only as a slow reader makes room', async () => {
    const pair = new CoreStream(splitter())
    const writer = pair.writable.getWriter()
    let written = 0
    for (let i = 0; i < 100; i++)
      writer.write('x;y;').then(
        () => written++,
        () => {},
      )
    await settle()
    expect(written).toBeLessThanOrEqual(1)
    const reader = pair.readable.getReader()
    for (let i = 0; i < 10; i++) {
      expect((await reader.read()).value).toBe(i % 2 === 0 ? 'x' : 'y')
      await settle(2)
    }
    expect(written).toBeGreaterThanOrEqual(4)
    expect(written).toBeLessThanOrEqual(7)
    await reader.cancel(new Error('done'))
  })

  it('errors its writable side with the reason its readable side is cancelled with', async () => {
    const pair = new CoreStream(splitter())
    const writer = pair.writable.getWriter()
    const reason = new Error('stop')
    await pair.readable.cancel(reason)
    expect(await writer.write('a;').catch((error: unknown) => error)).toBe(reason)
  })

  it('delivers the events queued before an abort of its writable side, then the abort reason', async () => {
    const pair = new CoreStream(splitter(), { readableStrategy: { highWaterMark: 8 } })
    const writer = pair.writable.getWriter()
    await writer.write('a;b;')
    const reason = new Error('upstream')
    await writer.abort(reason)
    expect(await readWeb(pair.readable)).toEqual({ events: ['a', 'b'], error: reason })
  })

  it('errors its readable side with the reason its writable side is aborted with', async () => {
    const pair = new CoreStream(splitter())
    const reason = new Error('upstream')
    await pair.writable.abort(reason)
    expect(await readWeb(pair.readable)).toEqual({ events: [], error: reason })
  })
})

describe('iterateCore', () => {
  it('yields the events of an async or sync iterable', async () => {
    const events: string[] = []
    for await (const event of iterateCore(splitter(), ['a;b', ';'])) events.push(event)
    expect(events).toEqual(['a', 'b'])
  })

  it('yields the events completed before a failure, then throws it', async () => {
    const events: string[] = []
    const run = async () => {
      for await (const event of iterateCore(splitter(), Readable.from(['a;', 'b;!', 'c;'])))
        events.push(event)
    }
    await expect(run()).rejects.toThrow(SplitterError)
    expect(events).toEqual(['a', 'b'])
  })

  it('yields the events of a failing end(), then throws its error', async () => {
    const events: string[] = []
    const run = async () => {
      for await (const event of iterateCore(splitter(), ['a;', 'b+'])) events.push(event)
    }
    await expect(run()).rejects.toEqual(new SplitterError('input ended after "b+"'))
    expect(events).toEqual(['a', 'b+'])
  })

  it('throws at once when the failing call completed no event', async () => {
    const events: string[] = []
    const run = async () => {
      for await (const event of iterateCore(splitter(), ['a;', '!', 'b;'])) events.push(event)
    }
    await expect(run()).rejects.toEqual(new SplitterError('bad input after 0 words'))
    expect(events).toEqual(['a'])
  })

  it('stops with the abort reason once its signal is aborted', async () => {
    const controller = new AbortController()
    const events = iterateCore(splitter(), ['a;', 'b;'], { signal: controller.signal })
    expect((await events.next()).value).toBe('a')
    controller.abort(new Error('stop'))
    await expect(events.next()).rejects.toEqual(new Error('stop'))
  })
})

/** An object-mode sink taking one event at a time, each on a later turn of the event loop, into `events`. */
function slowSink(events: string[]): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(event: string, _encoding, callback) {
      events.push(event)
      setImmediate(callback)
    },
  })
}

describe('coreNodeTransform', () => {
  it('delivers the events completed before a failure through pipeline(), then rejects', async () => {
    const events: string[] = []
    const sink = slowSink(events)
    const transform = coreNodeTransform(splitter(), { writableObjectMode: true })
    await expect(pipeline(Readable.from(['a;b;', 'c;!', 'd;']), transform, sink)).rejects.toThrow(
      SplitterError,
    )
    expect(events).toEqual(['a', 'b', 'c'])
  })

  it('delivers the events of a failing end() to a slow sink, then rejects', async () => {
    const events: string[] = []
    const sink = slowSink(events)
    const transform = coreNodeTransform(splitter(), { writableObjectMode: true })
    await expect(pipeline(Readable.from(['a;b;', 'c;d+']), transform, sink)).rejects.toEqual(
      new SplitterError('input ended after "d+"'),
    )
    expect(events).toEqual(['a', 'b', 'c', 'd+'])
  })

  it('fails every write after a failure with the same error', async () => {
    const transform = coreNodeTransform(splitter(), { writableObjectMode: true })
    const errors: unknown[] = []
    transform.on('error', (error) => errors.push(error))
    transform.write('!')
    await settle()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SplitterError)
  })

  it('stops accepting writes while its readable side is full', async () => {
    const transform = coreNodeTransform(splitter(), {
      writableObjectMode: true,
      writableHighWaterMark: 1,
      readableHighWaterMark: 2,
    })
    let accepted = 0
    while (transform.write('x;') && accepted < 1000) accepted++
    expect(accepted).toBeLessThan(6)
    await settle()
    expect(transform.readableLength).toBeLessThanOrEqual(3)
    transform.destroy()
  })
})

describe('settledPush / settledEnd', () => {
  /** The splitter over bytes (UTF-8), as the byte cores take them. */
  function byteSplitter(): IncrementalCore<Uint8Array, string> {
    const inner = splitter()
    const decoder = new TextDecoder()
    return { push: (chunk) => inner.push(decoder.decode(chunk)), end: () => inner.end() }
  }
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

  it('returns the events of a clean push, not failed', () => {
    expect(settledPush(byteSplitter(), bytes('a;b;c'))).toEqual({
      events: ['a', 'b'],
      failed: false,
      error: undefined,
    })
  })

  it('returns the events completed before a failure with the error the core held back for its next call', () => {
    const core = byteSplitter()
    const outcome = settledPush(core, bytes('a;b;!c;'))
    expect(outcome.events).toEqual(['a', 'b'])
    expect(outcome.failed).toBe(true)
    expect(outcome.error).toBeInstanceOf(SplitterError)
    // Sticky: the core fails every later call with the same error.
    expect(settledPush(core, bytes('d;'))).toEqual({ events: [], failed: true, error: outcome.error })
  })

  it('returns no events and the error of a push that fails at once', () => {
    const outcome = settledPush(byteSplitter(), bytes('!'))
    expect(outcome).toMatchObject({ events: [], failed: true })
    expect((outcome.error as Error).message).toBe('bad input after 0 words')
  })

  it('returns the trailing events of an end() that fails after them, with its error', () => {
    const core = byteSplitter()
    settledPush(core, bytes('a;b+'))
    const outcome = settledEnd(core)
    expect(outcome.events).toEqual(['b+'])
    expect(outcome.failed).toBe(true)
    expect((outcome.error as Error).message).toBe('input ended after "b+"')
  })

  it('ends cleanly, or fails at once when end() throws with no events', () => {
    const clean = byteSplitter()
    settledPush(clean, bytes('a;'))
    expect(settledEnd(clean)).toEqual({ events: [], failed: false, error: undefined })
    const open = byteSplitter()
    settledPush(open, bytes('a'))
    expect(settledEnd(open)).toMatchObject({ events: [], failed: true })
  })
})
