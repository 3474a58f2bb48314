import { createReadStream } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EbmlError } from '@kvs-streams/ebml'
import { fixturePath, readFixture, withTimeout } from '@kvs-streams/test-utils'
import { describe, expect, test } from 'vitest'
import { type GetMediaEvent, GetMediaParserStream, parseGetMedia } from '../src/index.ts'
import { createGetMediaParserTransform } from '../src/node.ts'
import { fingerprint, parseOk } from './helpers.ts'

const name = 'kinesis_video_renderer_example_output.mkv'
const bytes = readFixture('kvs-getmedia', name)
const expected = fingerprint(parseOk([bytes]))
/** The renderer capture with a corrupt byte (a zero byte where its Segment id starts) in fragment 2, after fragment 1. */
const corrupt = bytes.slice()
corrupt[150_022 + 47] = 0x00

function chunksOf(input: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < input.length; offset += size)
    chunks.push(input.subarray(offset, offset + size))
  return chunks
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[next++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    },
  })
}

/** Reads a WHATWG stream to its end into `events` (rejects with the stream's error). */
async function readStream(stream: ReadableStream<GetMediaEvent>, events: GetMediaEvent[]): Promise<void> {
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    events.push(value)
  }
}

async function collect(source: AsyncIterable<GetMediaEvent>): Promise<GetMediaEvent[]> {
  const events: GetMediaEvent[] = []
  for await (const event of source) events.push(event)
  return events
}

function eventSink(events: GetMediaEvent[]): Writable {
  return new Writable({
    objectMode: true,
    write(event: GetMediaEvent, _encoding, callback) {
      events.push(event)
      callback()
    },
  })
}

describe('WHATWG GetMediaParserStream', () => {
  test('pipeThrough gives the core’s events', async () => {
    const stream = streamOf(chunksOf(bytes, 10_000)).pipeThrough(new GetMediaParserStream())
    const events: GetMediaEvent[] = []
    await readStream(stream, events)
    expect(fingerprint(events)).toBe(expected)
  })

  test('an error reaches the reader after the events completed before it', async () => {
    const stream = streamOf(chunksOf(corrupt, 65_536)).pipeThrough(new GetMediaParserStream())
    const events: GetMediaEvent[] = []
    const error = await readStream(stream, events).catch((caught: unknown) => caught)
    expect(EbmlError.is(error)).toBe(true)
    expect(events.filter((event) => event.type === 'fragment-end')).toHaveLength(1)
  })

  test('a stalled reader stops the pulls from upstream', async () => {
    let pulls = 0
    const chunks = chunksOf(bytes, 1024)
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[pulls++]
        if (chunk === undefined) controller.close()
        else controller.enqueue(chunk)
      },
    })
    const events = source.pipeThrough(new GetMediaParserStream())
    const reader = events.getReader()
    await reader.read()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const stalledAt = pulls
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(pulls).toBe(stalledAt)
    expect(pulls).toBeLessThan(chunks.length / 4)
    await reader.cancel()
  })
})

describe('parseGetMedia async generator', () => {
  test('works as a stream.pipeline() stage after fs.createReadStream', async () => {
    const events: GetMediaEvent[] = []
    await pipeline(
      createReadStream(fixturePath('kvs-getmedia', name), { highWaterMark: 16_384 }),
      (source: AsyncIterable<Uint8Array>) => parseGetMedia(source),
      eventSink(events),
    )
    expect(fingerprint(events)).toBe(expected)
  })

  test('an error rejects the pipeline after the events completed before it', async () => {
    const events: GetMediaEvent[] = []
    const done = pipeline(
      Readable.from(chunksOf(corrupt, 65_536)),
      (source: AsyncIterable<Uint8Array>) => parseGetMedia(source),
      eventSink(events),
    )
    await expect(done).rejects.toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(events.filter((event) => event.type === 'fragment-end')).toHaveLength(1)
  })

  test('a consumer that stops pulling stops the source', async () => {
    let reads = 0
    async function* source() {
      for (const chunk of chunksOf(bytes, 1024)) {
        reads++
        yield chunk
      }
    }
    const events = parseGetMedia(source())
    const first = await events.next()
    expect(first.value).toMatchObject({ type: 'fragment-start' })
    const readsSoFar = reads
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(reads).toBe(readsSoFar)
    await events.return(undefined)
  })
})

describe('Node createGetMediaParserTransform', () => {
  test('pipes fs.createReadStream into events', async () => {
    const events: GetMediaEvent[] = []
    await pipeline(
      createReadStream(fixturePath('kvs-getmedia', name), { highWaterMark: 8192 }),
      createGetMediaParserTransform(),
      eventSink(events),
    )
    expect(fingerprint(events)).toBe(expected)
  })

  test('raw mode through the Transform gives fragments', async () => {
    const events: GetMediaEvent[] = []
    await pipeline(
      Readable.from(chunksOf(bytes, 4096)),
      createGetMediaParserTransform({ mode: 'raw' }),
      eventSink(events),
    )
    expect(events.map((event) => event.type)).toEqual(Array(8).fill('fragment'))
  })

  test('an error destroys the pipeline after the events completed before it', async () => {
    const events: GetMediaEvent[] = []
    const done = pipeline(
      Readable.from(chunksOf(corrupt, 65_536)),
      createGetMediaParserTransform(),
      eventSink(events),
    )
    await expect(done).rejects.toSatisfy(EbmlError.is)
    expect(events.filter((event) => event.type === 'fragment-end')).toHaveLength(1)
  })

  test('a stalled consumer stops upstream reads', async () => {
    let reads = 0
    const chunks = chunksOf(bytes, 1024)
    const source = new Readable({
      highWaterMark: 1024,
      read() {
        const chunk = chunks[reads++]
        this.push(chunk === undefined ? null : chunk)
      },
    })
    const transform = createGetMediaParserTransform()
    source.pipe(transform)
    // Nobody reads the transform's output: once its buffers fill, the source is no longer read.
    await withTimeout(new Promise((resolve) => setTimeout(resolve, 100)), 1000, 'settle')
    const stalledAt = reads
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(reads).toBe(stalledAt)
    expect(reads).toBeLessThan(chunks.length / 4)
    // Reading resumes the flow to the end.
    const events = await collect(transform)
    expect(fingerprint(events)).toBe(expected)
    expect(reads).toBe(chunks.length + 1)
  })
})
