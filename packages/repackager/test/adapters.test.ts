import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { concatBytes } from '@kvs-streams/core'
import { splitAt } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { type RepackagerEvent, RepackagerStream, repackage } from '../src/index.ts'
import { createRepackagerTransform } from '../src/node.ts'
import { AUDIO, buildMkv, describeRun, gops, repackageAll, VIDEO } from './helpers.ts'

const input = buildMkv({ tracks: [VIDEO, AUDIO], clusters: gops({ count: 5, audioBeforeKey: 2 }) })
const chunks = () => splitAt(input, [7, 300, 301, 1_000, 1_555, 2_000])
/** Past the input's end: a byte that cannot start an element (a vint of width > 8). */
const corrupt = concatBytes([input, Uint8Array.of(0x00, 0x01)])
const corruptChunks = () => [...chunks(), corrupt.subarray(input.length)]

const expected = describeRun(repackageAll(chunks()))
const expectedBeforeError = describeRun(repackageAll(corruptChunks())) as {
  events: unknown[]
  error: unknown
}

/** The events an adapter gave, as `describeRun` shows a core run (the stats are the core's). */
function described(events: RepackagerEvent[], error: unknown, stats: unknown): unknown {
  return { ...(describeRun({ events, error, stats: stats as never }) as object) }
}

async function viaStream(source: Uint8Array[]): Promise<{ events: RepackagerEvent[]; error: unknown }> {
  const events: RepackagerEvent[] = []
  let error: unknown
  try {
    await new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of source) controller.enqueue(chunk)
        controller.close()
      },
    })
      .pipeThrough(new RepackagerStream())
      .pipeTo(new WritableStream({ write: (event) => void events.push(event) }))
  } catch (caught) {
    error = caught
  }
  return { events, error }
}

async function viaGenerator(source: Uint8Array[]): Promise<{ events: RepackagerEvent[]; error: unknown }> {
  const events: RepackagerEvent[] = []
  let error: unknown
  try {
    for await (const event of repackage(Readable.from(source, { objectMode: true }))) events.push(event)
  } catch (caught) {
    error = caught
  }
  return { events, error }
}

async function viaTransform(source: Uint8Array[]): Promise<{ events: RepackagerEvent[]; error: unknown }> {
  const events: RepackagerEvent[] = []
  let error: unknown
  try {
    await pipeline(
      Readable.from(source, { objectMode: true }),
      createRepackagerTransform(),
      new Writable({
        objectMode: true,
        write(event: RepackagerEvent, _encoding, callback) {
          events.push(event)
          callback()
        },
      }),
    )
  } catch (caught) {
    error = caught
  }
  return { events, error }
}

describe.each([
  ['RepackagerStream (WHATWG)', viaStream],
  ['repackage() (async generator)', viaGenerator],
  ['createRepackagerTransform() (Node Transform in pipeline)', viaTransform],
])('%s', (_name, adapter) => {
  it('gives the core events', async () => {
    const { events, error } = await adapter(chunks())
    expect(error).toBeUndefined()
    expect(described(events, error, (expected as { stats: unknown }).stats)).toEqual(expected)
  })

  it('delivers the events completed before corrupt input, then fails with its typed error', async () => {
    const { events, error } = await adapter(corruptChunks())
    expect(error).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_INVALID_VINT' })
    const got = described(
      events,
      expectedBeforeError.error,
      (expectedBeforeError as { stats?: unknown }).stats,
    ) as {
      events: unknown[]
    }
    expect(got.events).toEqual(expectedBeforeError.events)
    expect(got.events.length).toBeGreaterThan(1)
  })
})

describe('createRepackagerTransform backpressure', () => {
  it('stops reading its input while the consumer does not read', async () => {
    const transform = createRepackagerTransform()
    let pulled = 0
    const many = Array.from({ length: 200 }, () => input)
    const source = Readable.from(
      (function* () {
        // A long stream: the same recording restarted again and again.
        for (const document of many) {
          pulled++
          yield document
        }
      })(),
      { objectMode: true },
    )
    source.pipe(transform)
    // Nothing reads the transform: once its readable buffer is full, pipe() pauses the source.
    const turn = () => new Promise((resolve) => setImmediate(resolve))
    for (let i = 0; i < 10_000 && source.readableFlowing !== false; i++) await turn()
    expect(source.readableFlowing).toBe(false)
    const pulledWhileStalled = pulled
    for (let i = 0; i < 100; i++) await turn()
    expect(pulled).toBe(pulledWhileStalled)
    expect(pulled).toBeLessThan(many.length)
    source.destroy()
    transform.destroy()
  })
})
