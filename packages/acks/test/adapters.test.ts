import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import {
  type AckDecoderEvent,
  AckDecoderStream,
  AckSyntaxError,
  AckTruncatedError,
  createAckDecoder,
  decodeAcks,
} from '../src/index.ts'
import { createAckDecoderTransform } from '../src/node.ts'
import { utf8 } from './support.ts'
import { bufferingC345, persistedC345, receivedCpp1281 } from './vectors.ts'

const body = utf8(`${bufferingC345}\n${receivedCpp1281}\n${persistedC345}\n{"EventType":"IDLE"}\n`)
/** Awkward cuts: inside keys, inside the 47 digits, between `}` and `\n`. */
const chunks = [5, 77, 123, 124, 250, 300].reduce<{ parts: Uint8Array[]; from: number }>(
  ({ parts, from }, to) => ({ parts: [...parts, body.subarray(from, to)], from: to }),
  { parts: [], from: 0 },
)
chunks.parts.push(body.subarray(chunks.from))
const pieces = chunks.parts
const expected = (() => {
  const decoder = createAckDecoder()
  return [...decoder.push(body), ...decoder.end()]
})()

/** Lets queued stream work run: several macrotask turns, no wall-clock time involved. */
async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
}

/** A pull-based WHATWG source that counts reads and records its cancel reason. */
function webSource(parts: Uint8Array[], repeat = false) {
  const state = { pulls: 0, cancelReason: undefined as unknown }
  let index = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulls++
        const part = repeat ? parts[index++ % parts.length] : parts[index++]
        if (part === undefined) controller.close()
        else controller.enqueue(part)
      },
      cancel(reason) {
        state.cancelReason = reason
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

const manyAcks = utf8(`${bufferingC345}\n`.repeat(10))

describe('AckDecoderStream', () => {
  it('decodes a body in awkward pieces into the same events as the core', async () => {
    const events: AckDecoderEvent[] = []
    const reader = webSource(pieces).stream.pipeThrough(new AckDecoderStream()).getReader()
    for (let result = await reader.read(); !result.done; result = await reader.read())
      events.push(result.value)
    expect(events).toEqual(expected)
    expect(events).toHaveLength(4)
  })

  it('errors pipeTo() with the AckSyntaxError and cancels the source with it', async () => {
    const { stream, state } = webSource([utf8('{"EventType":"IDLE"}\n'), utf8('<html>'), utf8('more')])
    const seen: AckDecoderEvent[] = []
    const done = stream
      .pipeThrough(new AckDecoderStream())
      .pipeTo(new WritableStream({ write: (event) => void seen.push(event) }))
    await expect(done).rejects.toSatisfy(AckSyntaxError.is)
    expect(seen).toHaveLength(1)
    expect(AckSyntaxError.is(state.cancelReason)).toBe(true)
  })

  it('errors the stream with AckTruncatedError when the body ends inside an object', async () => {
    const { stream } = webSource([body.subarray(0, 60)])
    await expect(stream.pipeThrough(new AckDecoderStream()).pipeTo(new WritableStream())).rejects.toSatisfy(
      AckTruncatedError.is,
    )
  })

  it('stops pulling from upstream while the consumer is stalled, and resumes when it reads', async () => {
    const { stream, state } = webSource([manyAcks], true)
    const reader = stream.pipeThrough(new AckDecoderStream()).getReader()
    await settle()
    const pullsWhileStalled = state.pulls
    await settle()
    expect(state.pulls).toBe(pullsWhileStalled)
    expect(pullsWhileStalled).toBeLessThanOrEqual(3)
    for (let read = 0; read < 50; read++) await reader.read()
    await settle()
    expect(state.pulls).toBeGreaterThan(pullsWhileStalled)
    await reader.cancel(new Error('done'))
    await settle()
    expect(state.cancelReason).toEqual(new Error('done'))
  })

  it('cancels the source when pipeTo() is aborted', async () => {
    const { stream, state } = webSource([manyAcks], true)
    const controller = new AbortController()
    let release = () => {}
    const slowWrite = new Promise<void>((resolve) => {
      release = resolve
    })
    const done = stream
      .pipeThrough(new AckDecoderStream())
      .pipeTo(new WritableStream({ write: () => slowWrite }), { signal: controller.signal })
    await settle()
    controller.abort(new Error('stop'))
    release()
    await expect(done).rejects.toEqual(new Error('stop'))
    await settle()
    expect(state.cancelReason).toEqual(new Error('stop'))
  })
})

describe('decodeAcks', () => {
  it('works as a stream.pipeline() stage', async () => {
    const events: AckDecoderEvent[] = []
    await pipeline(Readable.from(pieces), decodeAcks, async (source: AsyncIterable<AckDecoderEvent>) => {
      for await (const event of source) events.push(event)
    })
    expect(events).toEqual(expected)
  })

  it('rejects pipeline() with the decoder error after yielding the acks before it', async () => {
    const events: AckDecoderEvent[] = []
    const done = pipeline(
      Readable.from([utf8('{"EventType":"IDLE"}\n{"EventType":"IDLE"} nope')]),
      decodeAcks,
      async (source: AsyncIterable<AckDecoderEvent>) => {
        for await (const event of source) events.push(event)
      },
    )
    await expect(done).rejects.toSatisfy(AckSyntaxError.is)
    expect(events).toHaveLength(2)
  })

  it('reads the source only as fast as its consumer asks', async () => {
    let pulled = 0
    async function* source() {
      for (;;) {
        pulled++
        yield utf8('{"EventType":"IDLE"}\n')
      }
    }
    const events = decodeAcks(source())
    await events.next()
    await settle()
    expect(pulled).toBe(1)
    await events.next()
    expect(pulled).toBe(2)
    await events.return(undefined)
  })

  it('stops with the abort reason when its signal is aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('aborted'))
    const events = decodeAcks([body], { signal: controller.signal })
    await expect(events.next()).rejects.toEqual(new Error('aborted'))
  })
})

describe('createAckDecoderTransform', () => {
  it('decodes bytes into event objects inside pipeline()', async () => {
    const events: AckDecoderEvent[] = []
    await pipeline(
      Readable.from(pieces),
      createAckDecoderTransform(),
      new Writable({
        objectMode: true,
        write(event: AckDecoderEvent, _encoding, callback) {
          events.push(event)
          callback()
        },
      }),
    )
    expect(events).toEqual(expected)
  })

  it('rejects pipeline() with AckTruncatedError when the body ends inside an object', async () => {
    const done = pipeline(
      Readable.from([body.subarray(0, 200)]),
      createAckDecoderTransform(),
      async (source) => {
        for await (const _event of source);
      },
    )
    await expect(done).rejects.toSatisfy(AckTruncatedError.is)
  })

  it('rejects pipeline() with AckSyntaxError and destroys the source', async () => {
    const source = Readable.from([utf8('HTTP/1.1 200 OK\r\n')])
    const done = pipeline(source, createAckDecoderTransform(), async (events) => {
      for await (const _event of events);
    })
    await expect(done).rejects.toSatisfy(AckSyntaxError.is)
    expect(source.destroyed).toBe(true)
  })

  it('stops reading upstream while the consumer is stalled', async () => {
    let reads = 0
    const source = new Readable({
      read() {
        reads++
        this.push(manyAcks)
      },
    })
    const stalled = new Writable({ objectMode: true, highWaterMark: 1, write() {} })
    const transform = createAckDecoderTransform()
    const done = pipeline(source, transform, stalled)
    await settle()
    const readsWhileStalled = reads
    await settle()
    expect(reads).toBe(readsWhileStalled)
    // At most what the buffers between the source and the stalled sink hold, plus a few reads in flight.
    const buffered = source.readableHighWaterMark + transform.writableHighWaterMark
    expect(readsWhileStalled).toBeLessThanOrEqual(Math.ceil(buffered / manyAcks.length) + 8)
    source.destroy(new Error('test over'))
    await expect(done).rejects.toEqual(new Error('test over'))
  })
})
