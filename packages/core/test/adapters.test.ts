import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { coreTransformer, iterateCore } from '../src/index.ts'
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

describe('coreTransformer', () => {
  it('turns chunks into the core events, ending with end()', async () => {
    const { stream } = webSource(['a;b', 'c;', 'd;'])
    const result = await readWeb(stream.pipeThrough(new TransformStream(coreTransformer(splitter()))))
    expect(result).toEqual({ events: ['a', 'bc', 'd'] })
  })

  it('delivers the events completed before a failure, then the failure', async () => {
    const { stream } = webSource(['a;', 'b;c;!', 'never;'])
    const result = await readWeb(stream.pipeThrough(new TransformStream(coreTransformer(splitter()))))
    expect(result.events).toEqual(['a', 'b', 'c'])
    expect(result.error).toBeInstanceOf(SplitterError)
  })

  it('fails with the error end() throws', async () => {
    const { stream } = webSource(['a;', 'open'])
    const result = await readWeb(stream.pipeThrough(new TransformStream(coreTransformer(splitter()))))
    expect(result.events).toEqual(['a'])
    expect(result.error).toEqual(new SplitterError('input ended inside "open"'))
  })

  it('pulls from its source only as fast as its events are read', async () => {
    const { stream, state } = webSource(['x;'], true)
    const reader = stream.pipeThrough(new TransformStream(coreTransformer(splitter()))).getReader()
    await settle()
    const idle = state.pulls
    expect(idle).toBeLessThan(5)
    for (let i = 0; i < 10; i++) expect((await reader.read()).value).toBe('x')
    await settle()
    expect(state.pulls).toBeLessThan(idle + 15)
    await reader.cancel()
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

  it('stops with the abort reason once its signal is aborted', async () => {
    const controller = new AbortController()
    const events = iterateCore(splitter(), ['a;', 'b;'], { signal: controller.signal })
    expect((await events.next()).value).toBe('a')
    controller.abort(new Error('stop'))
    await expect(events.next()).rejects.toEqual(new Error('stop'))
  })
})

describe('coreNodeTransform', () => {
  it('delivers the events completed before a failure through pipeline(), then rejects', async () => {
    const events: string[] = []
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(event: string, _encoding, callback) {
        events.push(event)
        setImmediate(callback)
      },
    })
    const transform = coreNodeTransform(splitter(), { writableObjectMode: true })
    await expect(pipeline(Readable.from(['a;b;', 'c;!', 'd;']), transform, sink)).rejects.toThrow(
      SplitterError,
    )
    expect(events).toEqual(['a', 'b', 'c'])
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
