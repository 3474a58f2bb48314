import { createReadStream } from 'node:fs'
import { Readable, type Transform, Writable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { fixturePath, readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { createEbmlReader, EbmlError, type EbmlEvent, ElementId, writeElement } from '../src/index.ts'
import { createEbmlReaderTransform } from '../src/node.ts'
import { concat, readAll } from './helpers.ts'

const tick = () => new Promise((resolve) => setImmediate(resolve))

/**
 * An object-mode Writable that records events, optionally yielding to the event loop on each one. A slow
 * sink has highWaterMark 1: pipeline() destroys every stream on the first error, and Node then drops the
 * writes still queued in a Writable, so only a sink that queues nothing sees every event before the error.
 */
function sinkOf(events: EbmlEvent[], slow = false) {
  return new Writable({
    objectMode: true,
    highWaterMark: slow ? 1 : 16,
    write(event: EbmlEvent, _encoding, callback) {
      events.push(event)
      if (slow) setImmediate(callback)
      else callback()
    },
  })
}

const voids = (count: number) =>
  concat(...Array.from({ length: count }, () => writeElement(ElementId.Void, Uint8Array.of(7))))
const good = voids(3)
const bad = concat(voids(2), Uint8Array.of(0x00))
const after = voids(3)

describe('createEbmlReaderTransform', () => {
  it('gives the same events as the core in stream.pipeline() over a file read in small chunks', async () => {
    const path = fixturePath('kvs-getmedia', 'output_get_media.mkv')
    const events: EbmlEvent[] = []
    const transform = createEbmlReaderTransform({
      dataMode: (id) => (id === ElementId.SimpleBlock ? 'head' : 'data'),
    })
    await pipeline(createReadStream(path, { highWaterMark: 1000 }), transform, sinkOf(events))
    const expected = readAll([readFixture('kvs-getmedia', 'output_get_media.mkv')])
    expect(events.map(({ type, id, offset }) => ({ type, id, offset }))).toEqual(
      expected.map(({ type, id, offset }) => ({ type, id, offset })),
    )
    expect(
      events.filter((event) => event.type === 'element' && event.id === ElementId.SimpleBlock),
    ).toHaveLength(300)
  })

  it.each([false, true])(
    'delivers the events completed before an error, then rejects stream.pipeline() (slow sink: %s)',
    async (slow) => {
      const events: EbmlEvent[] = []
      const transform = createEbmlReaderTransform()
      const error = await pipeline(Readable.from([good, bad, after]), transform, sinkOf(events, slow)).catch(
        (error: unknown) => error,
      )
      expect(EbmlError.is(error)).toBe(true)
      expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
      expect(events.map((event) => event.offset)).toEqual([0, 3, 6, 9, 12])
      await expect(finished(transform)).rejects.toBe(error)
    },
  )

  it('delivers the events completed before an error to a slow async-generator stage of stream.pipeline()', async () => {
    const events: EbmlEvent[] = []
    const error = await pipeline(
      Readable.from([good, bad, after]),
      createEbmlReaderTransform(),
      async (source) => {
        for await (const event of source) {
          events.push(event as EbmlEvent)
          await tick()
        }
      },
    ).catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
    expect(events.map((event) => event.offset)).toEqual([0, 3, 6, 9, 12])
  })

  it('delivers the events completed before an error to an async iterator that reads slowly', async () => {
    const events: EbmlEvent[] = []
    const transform = createEbmlReaderTransform()
    Readable.from([good, bad]).pipe(transform)
    const error = await (async () => {
      for await (const event of transform) {
        events.push(event as EbmlEvent)
        await tick()
      }
    })().catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(events).toHaveLength(5)
  })

  it('rejects stream.pipeline() with ERR_KVS_EBML_TRUNCATED after the last complete event', async () => {
    const events: EbmlEvent[] = []
    const error = await pipeline(
      Readable.from([good, Uint8Array.of(0x1a, 0x45)]),
      createEbmlReaderTransform(),
      sinkOf(events),
    ).catch((error: unknown) => error)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: 11 })
    expect(events).toHaveLength(3)
  })

  it('passes an upstream error through stream.pipeline() and destroys the transform', async () => {
    const boom = new Error('upstream failed')
    const source = new Readable({
      read() {
        this.push(good)
        this.destroy(boom)
      },
    })
    const transform = createEbmlReaderTransform()
    await expect(pipeline(source, transform, sinkOf([]))).rejects.toBe(boom)
    expect(transform.destroyed).toBe(true)
  })

  it('destroys the source when the destination fails', async () => {
    const source = Readable.from(Array.from({ length: 100 }, () => good))
    const failing = new Writable({
      objectMode: true,
      write(_event, _encoding, callback) {
        callback(new Error('sink failed'))
      },
    })
    await expect(pipeline(source, createEbmlReaderTransform(), failing)).rejects.toThrow('sink failed')
    expect(source.destroyed).toBe(true)
  })
})

describe('backpressure of the Node transform', () => {
  // One complete 1000-byte Void per write: each write gives exactly one event.
  const chunk = writeElement(ElementId.Void, new Uint8Array(997))

  /** Writes until write() returns false; returns how many writes that took (the last one included). */
  function writesUntilFull(transform: Transform, limit = 1000): number {
    for (let i = 1; i <= limit; i++) if (!transform.write(chunk)) return i
    return Number.POSITIVE_INFINITY
  }

  it('makes write() return false once the readable side is full and the writable buffer reaches its mark', () => {
    expect(chunk).toHaveLength(1000)
    const transform = createEbmlReaderTransform()
    expect(transform.readableObjectMode).toBe(true)
    const readableMark = transform.readableHighWaterMark // 16 events
    const writableMark = transform.writableHighWaterMark // 16 KiB on Node 20
    // Writes 1…readableMark are transformed at once (their events fill the readable side); the callback of
    // the last one is then held, so later writes stay buffered until their bytes reach the writable mark.
    const expected = readableMark + Math.ceil(writableMark / chunk.length) - 1
    expect(writesUntilFull(transform)).toBe(expected)
    expect(transform.readableLength).toBe(readableMark)
    expect(transform.writableLength).toBeGreaterThanOrEqual(writableMark)
    expect(transform.writableNeedDrain).toBe(true)
  })

  it('honours the high-water marks given to coreNodeTransform', async () => {
    const transform = coreNodeTransform(createEbmlReader(), {
      readableHighWaterMark: 2,
      writableHighWaterMark: 3000,
    })
    // Writes 1 and 2 fill the readable side; 3 and 4 are buffered (2000 and 3000 bytes with the held one).
    expect(writesUntilFull(transform)).toBe(4)
    expect(transform.readableLength).toBe(2)
    const drained = new Promise((resolve) => transform.once('drain', resolve))
    let read = 0
    transform.on('data', () => read++)
    await drained
    expect(read).toBeGreaterThanOrEqual(2)
    transform.end()
    await finished(transform)
    expect(read).toBe(4)
  })

  it('stops reading its source while the consumer is stalled, and resumes when it reads', async () => {
    const total = 500
    let reads = 0
    const source = new Readable({
      read() {
        reads++
        this.push(reads <= total ? chunk : null)
      },
    })
    const transform = createEbmlReaderTransform()
    source.pipe(transform)
    for (let i = 0; i < 20; i++) await tick()
    const stalled = reads
    for (let i = 0; i < 20; i++) await tick()
    expect(reads).toBe(stalled)
    // Bounded by the high-water marks along the way (16 KiB byte streams on Node 20, 64 KiB from Node 22 on),
    // not by the source's length.
    const bound =
      Math.ceil(source.readableHighWaterMark / chunk.length) +
      Math.ceil(transform.writableHighWaterMark / chunk.length) +
      transform.readableHighWaterMark +
      3
    expect(stalled).toBeLessThanOrEqual(bound)
    expect(bound).toBeLessThan(total / 2)
    expect(transform.readableLength).toBe(transform.readableHighWaterMark)
    expect(source.isPaused()).toBe(true)

    let events = 0
    for await (const _event of transform) events++
    expect(events).toBe(total)
    expect(reads).toBe(total + 1)
  })
})
