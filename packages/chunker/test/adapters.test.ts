import { createReadStream } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fixturePath, readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { ChunkerError, type ChunkerEvent, ClusterChunkerStream, chunkClusters } from '../src/index.ts'
import { createClusterChunkerTransform } from '../src/node.ts'
import { buildMkv, chunkAll, describeRun, fragments } from './helpers.ts'

const CLUSTERS = fixturePath('kvs-getmedia', 'clusters.mkv')
const clustersBytes = readFixture('kvs-getmedia', 'clusters.mkv')
const expected = describeRun(chunkAll([clustersBytes]), { hash: true })
const truncated = clustersBytes.subarray(0, 400_000)

/** Many small fragments: enough events and chunks for backpressure to show. */
const many = buildMkv({
  clusters: Array.from({ length: 1500 }, (_, i) => ({
    timecode: i * 40,
    blocks: [{ track: 1, timecode: 0, keyframe: true, size: 1000 }],
  })),
}).bytes
const CHUNK = 4096
const manyChunks = Math.ceil(many.length / CHUNK)

/** A pull-based WHATWG source over `bytes`, counting its pulls. */
function webSource(bytes: Uint8Array, size = 64 * 1024) {
  const counter = { pulls: 0, cancelled: false as unknown }
  let at = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      counter.pulls++
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + size))
      at += size
    },
    cancel(reason) {
      counter.cancelled = reason ?? true
    },
  })
  return { stream, counter }
}

/** A Node source over `bytes`, counting its reads. */
function nodeSource(bytes: Uint8Array, size = CHUNK) {
  const counter = { reads: 0 }
  let at = 0
  const stream = new Readable({
    read() {
      counter.reads++
      if (at >= bytes.length) return void this.push(null)
      this.push(bytes.slice(at, at + size))
      at += size
    },
  })
  return { stream, counter }
}

/** Lets streams move as far as they will: many macrotask turns, no wall-clock assertion. */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader()
  const values: T[] = []
  for (let result = await reader.read(); !result.done; result = await reader.read()) values.push(result.value)
  return values
}

function collector(events: ChunkerEvent[]): Writable {
  return new Writable({
    objectMode: true,
    write(event: ChunkerEvent, _encoding, callback) {
      events.push(event)
      callback()
    },
  })
}

describe('ClusterChunkerStream', () => {
  it('chunks a ReadableStream of file chunks through pipeThrough() like one push()', async () => {
    const { stream } = webSource(clustersBytes)
    const events = await readAll(stream.pipeThrough(new ClusterChunkerStream()))
    expect(describeRun({ events, error: undefined }, { hash: true })).toEqual(expected)
  })

  it('takes options (emit mode goes on past violations)', async () => {
    const { stream } = webSource(readFixture('kvs-getmedia', 'vogels_330.mkv'))
    const events = await readAll(stream.pipeThrough(new ClusterChunkerStream({ onViolation: 'emit' })))
    expect(fragments(events)).toHaveLength(9)
  })

  it('rejects pipeTo() with the truncation error, after delivering the complete fragments', async () => {
    const { stream } = webSource(truncated)
    const events: ChunkerEvent[] = []
    const sink = new WritableStream<ChunkerEvent>({ write: (event) => void events.push(event) })
    await expect(stream.pipeThrough(new ClusterChunkerStream()).pipeTo(sink)).rejects.toMatchObject({
      code: 'ERR_KVS_EBML_TRUNCATED',
    })
    expect(fragments(events).map((fragment) => fragment.timecode)).toEqual([0, 1999])
  })

  it('rejects pipeTo() with a ChunkerError on a violation and cancels the source', async () => {
    const { stream, counter } = webSource(readFixture('kvs-getmedia', 'vogels_330.mkv'))
    const sink = new WritableStream<ChunkerEvent>()
    const failure = stream.pipeThrough(new ClusterChunkerStream()).pipeTo(sink)
    await expect(failure).rejects.toSatisfy(ChunkerError.is)
    await expect(failure).rejects.toMatchObject({
      violation: { kind: 'not-keyframe-start', fragmentIndex: 2 },
    })
    expect(counter.cancelled).toBeTruthy()
  })

  it('passes an abort through pipeTo() to the source', async () => {
    const { stream, counter } = webSource(clustersBytes, 4096)
    const controller = new AbortController()
    const sink = new WritableStream<ChunkerEvent>({
      write: (event) => {
        if (event.type === 'fragment') controller.abort(new Error('enough'))
      },
    })
    await expect(
      stream.pipeThrough(new ClusterChunkerStream()).pipeTo(sink, { signal: controller.signal }),
    ).rejects.toThrow('enough')
    expect(counter.cancelled).toBeTruthy()
  })

  it('stops pulling from the source while the consumer stalls', async () => {
    const { stream, counter } = webSource(many, CHUNK)
    const reader = stream.pipeThrough(new ClusterChunkerStream()).getReader()
    expect((await reader.read()).value?.type).toBe('header')
    await settle()
    const stalled = counter.pulls
    await settle()
    expect(counter.pulls).toBe(stalled)
    expect(stalled).toBeLessThan(20)
    let count = 1
    while (!(await reader.read()).done) count++
    expect(count).toBe(1 + 1500)
    expect(counter.pulls).toBeGreaterThanOrEqual(manyChunks)
  })
})

describe('chunkClusters', () => {
  it('runs as a stream.pipeline() stage over fs.createReadStream (64 KiB reads) like one push()', async () => {
    const events: ChunkerEvent[] = []
    await pipeline(
      createReadStream(CLUSTERS, { highWaterMark: 64 * 1024 }),
      (source: AsyncIterable<Uint8Array>) => chunkClusters(source),
      async (source: AsyncIterable<ChunkerEvent>) => {
        for await (const event of source) events.push(event)
      },
    )
    expect(describeRun({ events, error: undefined }, { hash: true })).toEqual(expected)
  })

  it('throws the truncation error from the generator after yielding the complete fragments', async () => {
    const events: ChunkerEvent[] = []
    const run = pipeline(
      Readable.from([truncated]),
      (source: AsyncIterable<Uint8Array>) => chunkClusters(source),
      async (source: AsyncIterable<ChunkerEvent>) => {
        for await (const event of source) events.push(event)
      },
    )
    await expect(run).rejects.toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_TRUNCATED' })
    expect(fragments(events).map((fragment) => fragment.timecode)).toEqual([0, 1999])
  })

  it('reads its source only as fast as it is iterated', async () => {
    let reads = 0
    async function* source() {
      for (let at = 0; at < many.length; at += CHUNK) {
        reads++
        yield many.subarray(at, at + CHUNK)
      }
    }
    const events = chunkClusters(source())
    expect((await events.next()).value).toMatchObject({ type: 'header' })
    await settle()
    expect(reads).toBe(1)
    await events.return(undefined)
    expect(reads).toBe(1)
  })
})

describe('createClusterChunkerTransform', () => {
  it('runs in pipeline() between fs.createReadStream and a Writable like one push()', async () => {
    const events: ChunkerEvent[] = []
    await pipeline(
      createReadStream(CLUSTERS, { highWaterMark: 64 * 1024 }),
      createClusterChunkerTransform(),
      collector(events),
    )
    expect(describeRun({ events, error: undefined }, { hash: true })).toEqual(expected)
  })

  it('rejects pipeline() with the truncation error after the complete fragments reach the Writable', async () => {
    const events: ChunkerEvent[] = []
    const run = pipeline(Readable.from([truncated]), createClusterChunkerTransform(), collector(events))
    await expect(run).rejects.toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
    expect(fragments(events).map((fragment) => fragment.timecode)).toEqual([0, 1999])
  })

  it('rejects pipeline() with the ChunkerError of a violation and destroys the source', async () => {
    const source = createReadStream(fixturePath('kvs-getmedia', 'test_mixed_tags.mkv'), {
      highWaterMark: 1024,
    })
    const run = pipeline(source, createClusterChunkerTransform(), collector([]))
    await expect(run).rejects.toMatchObject({ code: 'ERR_KVS_CHUNKER_VIOLATION', errorId: 4006 })
    expect(source.destroyed).toBe(true)
  })

  it('passes an abort through pipeline() to the source', async () => {
    const { stream } = nodeSource(clustersBytes)
    const controller = new AbortController()
    const sink = new Writable({
      objectMode: true,
      write(event: ChunkerEvent, _encoding, callback) {
        if (event.type === 'fragment') controller.abort()
        callback()
      },
    })
    await expect(
      pipeline(stream, createClusterChunkerTransform(), sink, { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(stream.destroyed).toBe(true)
  })

  it('takes options', async () => {
    const events: ChunkerEvent[] = []
    await pipeline(
      createReadStream(fixturePath('kvs-getmedia', 'test_mixed_tags.mkv')),
      createClusterChunkerTransform({ onViolation: 'emit' }),
      collector(events),
    )
    expect(fragments(events)).toHaveLength(10)
  })

  it('stops reading from the source while the consumer stalls', async () => {
    const { stream, counter } = nodeSource(many)
    const transform = createClusterChunkerTransform()
    let release: (() => void) | undefined
    let written = 0
    const stalling = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(_event: ChunkerEvent, _encoding, callback) {
        written++
        if (written === 2) release = callback
        else callback()
      },
    })
    const done = pipeline(stream, transform, stalling)
    await settle()
    const stalled = counter.reads
    await settle()
    expect(counter.reads).toBe(stalled)
    expect(written).toBe(2)
    expect(stalled).toBeLessThan(manyChunks / 4)
    release?.()
    await done
    expect(written).toBe(1 + 1500)
    expect(counter.reads).toBeGreaterThanOrEqual(manyChunks)
  })
})
