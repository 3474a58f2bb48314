import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { Ack, AckDecoderEvent } from '@kvs-streams/acks'
import { createAckDecoder } from '@kvs-streams/acks'
import { createAckDecoderTransform } from '@kvs-streams/acks/node'
import {
  type ChunkerEvent,
  type ChunkerFragmentEvent,
  type ClusterChunkerOptions,
  createClusterChunker,
} from '@kvs-streams/chunker'
import { createClusterChunkerTransform } from '@kvs-streams/chunker/node'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import { fixturePath, readFixture } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDataEndpointResolver,
  KvsHttpError,
  type PutMediaInput,
  type PutMediaResponse,
  putMedia,
  withEndpoint,
} from '../src/index.ts'
import { startServer } from './helpers.ts'

/** The chunker's events as the bytes putMedia takes (as the producer does): the header, each fragment's views. */
async function* mkvBytes(events: AsyncIterable<ChunkerEvent>): AsyncGenerator<PutMediaInput> {
  for await (const event of events) {
    if (event.type === 'header') yield event.bytes
    else if (event.type === 'fragment') yield event.parts
  }
}

/** The deprecated input: the chunker's events written to putMedia as they come. */
async function* chunkerEvents(events: AsyncIterable<ChunkerEvent>): AsyncGenerator<PutMediaInput> {
  yield* events
}

let emulator: Emulator
let client: KinesisVideoClient
let signer: KvsSigner
let streams = 0

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
  const credentials = { ...DEFAULT_CREDENTIALS }
  client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  signer = createKvsSigner({ region: emulator.region, credentials })
})

afterAll(async () => {
  client?.destroy()
  await emulator?.close()
})

async function createStream(retentionHours = 24): Promise<string> {
  const streamName = `transport-${++streams}`
  await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: retentionHours }))
  return streamName
}

/** Collects the ack decoder's events at the end of a pipeline. */
function eventSink(events: AckDecoderEvent[]): Writable {
  return new Writable({
    objectMode: true,
    write(event: AckDecoderEvent, _encoding, callback) {
      events.push(event)
      callback()
    },
  })
}

function acksOf(events: readonly AckDecoderEvent[]): Ack[] {
  return events.flatMap((event) => (event.type === 'ack' ? [event.ack] : []))
}

/** The fragments the chunker finds in a fixture. */
function fragmentsOf(path: string, options: ClusterChunkerOptions): ChunkerFragmentEvent[] {
  const chunker = createClusterChunker(options)
  const bytes = readFixture('kvs-getmedia', path)
  return [...chunker.push(bytes), ...chunker.end()].filter((event) => event.type === 'fragment')
}

describe('putMedia against the emulator', () => {
  const files: [
    string,
    ClusterChunkerOptions,
    string,
    (events: AsyncIterable<ChunkerEvent>) => AsyncGenerator<PutMediaInput>,
  ][] = [
    ['clusters.mkv', {}, 'arrays of views', mkvBytes],
    ['vogels_330.mkv', { onViolation: 'emit', requireKeyframe: false }, 'arrays of views', mkvBytes],
    ['clusters.mkv', {}, 'chunker events (deprecated)', chunkerEvents],
  ]
  for (const [file, chunkerOptions, input, adapt] of files) {
    it(`puts ${file} through createReadStream → chunker → putMedia (${input}) → ack decoder and gets BUFFERING, RECEIVED and PERSISTED for every fragment`, async () => {
      const streamName = await createStream()
      const resolver = createDataEndpointResolver({ client })
      const endpoint = await resolver.resolve(streamName, 'PUT_MEDIA')
      const events: AckDecoderEvent[] = []
      let response: PutMediaResponse | undefined
      const duplex = putMedia({ endpoint, streamName, signer })
      duplex.on('response', (value: PutMediaResponse) => {
        response = value
      })
      await pipeline(
        createReadStream(fixturePath('kvs-getmedia', file), { highWaterMark: 16 * 1024 }),
        createClusterChunkerTransform(chunkerOptions),
        adapt,
        duplex,
        createAckDecoderTransform(),
        eventSink(events),
      )
      expect(response?.status).toBe(200)
      const acks = acksOf(events)
      expect(acks.filter((ack) => ack.eventType === 'ERROR')).toEqual([])
      const timecodes = fragmentsOf(file, chunkerOptions).map((fragment) => fragment.timecode)
      expect(timecodes.length).toBeGreaterThan(1)
      for (const eventType of ['BUFFERING', 'RECEIVED', 'PERSISTED'] as const) {
        const acked = acks.filter((ack) => ack.eventType === eventType).map((ack) => ack.fragmentTimecode)
        expect(
          acked.sort((a, b) => a! - b!),
          eventType,
        ).toEqual(timecodes)
      }
      expect(
        new Set(acks.filter((ack) => ack.eventType === 'PERSISTED').map((ack) => ack.fragmentNumber)).size,
      ).toBe(timecodes.length)
    })
  }

  it('reads acks of early fragments while a large body is still being written (full duplex under load)', async () => {
    const streamName = await createStream()
    const endpoint = await createDataEndpointResolver({ client }).resolve(streamName, 'PUT_MEDIA')
    // The media covers ~190 s: start the producer clock in the past so no timestamp lies in the future.
    const duplex = putMedia({ endpoint, streamName, signer, producerStartTimestamp: Date.now() - 600_000 })
    const decoder = createAckDecoder()
    const received: number[] = []
    let writing = true
    let receivedWhileWriting = 0
    duplex.on('data', (chunk: Uint8Array) => {
      for (const event of decoder.push(chunk)) {
        if (event.type === 'ack' && event.ack.eventType === 'RECEIVED') {
          received.push(event.ack.fragmentTimecode!)
          if (writing) receivedWhileWriting++
        }
      }
    })
    const ended = new Promise((resolve, reject) => {
      duplex.on('end', resolve)
      duplex.on('error', reject)
    })
    // clusters.mkv's header and its 8 fragments, repeated 12 times with increasing timecodes (~15 MB);
    // fragment k is written only once fragment k-2 is acknowledged RECEIVED, which cannot happen unless
    // acks are read while the body is still being sent.
    const chunker = createClusterChunker()
    const events = [...chunker.push(readFixture('kvs-getmedia', 'clusters.mkv')), ...chunker.end()]
    const header = events.find((event) => event.type === 'header')!
    const fragments = events.filter((event) => event.type === 'fragment')
    const span = fragments.at(-1)!.timecode + 2000
    const write = (chunk: PutMediaInput) =>
      new Promise<void>((resolve, reject) =>
        duplex.write(chunk, (error) => (error ? reject(error) : resolve())),
      )
    await write(header.bytes)
    let written = 0
    const rounds = 12
    for (let round = 0; round < rounds; round++) {
      for (const fragment of fragments) {
        if (written >= 2) {
          while (received.length < written - 1) await new Promise((resolve) => setTimeout(resolve, 2))
        }
        // The fragment's views in one write, as the producer hands a fragment over.
        await write(withTimecode(fragment, fragment.timecode + round * span))
        written++
      }
    }
    writing = false
    duplex.end()
    await ended
    expect(received).toHaveLength(rounds * fragments.length)
    expect(receivedWhileWriting).toBeGreaterThanOrEqual(rounds * fragments.length - 2)
  })

  it('fails with ERR_KVS_CONNECTION, after the acks that arrived, when the service drops the connection', async () => {
    const dropping = await startEmulator({ port: 0, faults: { dropAfterBytes: 400_000 } })
    try {
      const control = new KinesisVideoClient({
        region: dropping.region,
        credentials: { ...DEFAULT_CREDENTIALS },
        endpoint: dropping.url,
      })
      await control.send(new CreateStreamCommand({ StreamName: 'dropped', DataRetentionInHours: 1 }))
      control.destroy()
      const events: AckDecoderEvent[] = []
      const result = pipeline(
        createReadStream(fixturePath('kvs-getmedia', 'clusters.mkv')),
        createClusterChunkerTransform(),
        putMedia({ endpoint: dropping.url, streamName: 'dropped', signer }),
        createAckDecoderTransform(),
        eventSink(events),
      )
      await expect(result).rejects.toMatchObject({ name: 'KvsConnectionError', code: 'ERR_KVS_CONNECTION' })
    } finally {
      await dropping.close()
    }
  })

  it('fails with ResourceNotFoundException (404, requestId) for a stream that does not exist', async () => {
    const duplex = putMedia({ endpoint: emulator.url, streamName: 'no-such-stream', signer })
    duplex.resume()
    duplex.write(readFixture('kvs-getmedia', 'clusters.mkv').subarray(0, 1000))
    const error = await new Promise((resolve) => duplex.on('error', resolve))
    expect(KvsHttpError.is(error)).toBe(true)
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', status: 404 })
    expect((error as KvsHttpError).requestId).toMatch(/\S/)
  })

  it('fails with a 403 InvalidSignatureException for a bad signature', async () => {
    const streamName = await createStream()
    const wrong = createKvsSigner({
      region: emulator.region,
      credentials: { accessKeyId: DEFAULT_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' },
    })
    const duplex = putMedia({ endpoint: emulator.url, streamName, signer: wrong })
    duplex.resume()
    duplex.write(readFixture('kvs-getmedia', 'clusters.mkv').subarray(0, 1000))
    const error = await new Promise((resolve) => duplex.on('error', resolve))
    expect(error).toMatchObject({ name: 'InvalidSignatureException', status: 403 })
  })

  describe('an HTTP error the service sends while a large body is still uploading wins over the write failure', () => {
    /** 6 MB of the fixture's bytes in 64 kB writes, yielding to the event loop between writes (a slow writer). */
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      const bytes = readFixture('kvs-getmedia', 'clusters.mkv')
      const chunk = 64 * 1024
      for (let sent = 0; sent < 6 * 1024 * 1024; sent += chunk) {
        const start = sent % (bytes.length - chunk)
        yield bytes.subarray(start, start + chunk)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const iterations = 20
    const cases: {
      title: string
      expected: object
      options: () => Promise<Parameters<typeof putMedia>[0]>
    }[] = [
      {
        title: '404 ResourceNotFoundException for a stream that does not exist',
        expected: { name: 'ResourceNotFoundException', status: 404 },
        options: async () => ({ endpoint: emulator.url, streamName: 'no-such-stream', signer }),
      },
      {
        title: '403 InvalidSignatureException for a wrong secret',
        expected: { name: 'InvalidSignatureException', status: 403 },
        options: async () => ({
          endpoint: emulator.url,
          streamName: await createStream(),
          signer: createKvsSigner({
            region: emulator.region,
            credentials: { accessKeyId: DEFAULT_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' },
          }),
        }),
      },
      {
        title: '400 InvalidArgumentException for a bad header',
        expected: { name: 'InvalidArgumentException', status: 400 },
        options: async () => ({ endpoint: emulator.url, streamName: 'not a stream name!', signer }),
      },
    ]
    for (const { title, expected, options } of cases) {
      it(`${title}, ${iterations} times in a row`, async () => {
        const resolved = await options()
        for (let iteration = 0; iteration < iterations; iteration++) {
          const duplex = putMedia(resolved)
          duplex.resume()
          const error = await pipeline(slowBody, duplex).then(
            () => new Error('the upload succeeded'),
            (error: unknown) => error,
          )
          expect({ iteration, error }).toMatchObject({ iteration, error: expected })
          expect(KvsHttpError.is(error)).toBe(true)
          expect((error as KvsHttpError).requestId).toMatch(/\S/)
        }
      })
    }
  })

  it('retries a PutMedia refused with InvalidEndpointException once, on a freshly resolved endpoint', async () => {
    const streamName = await createStream()
    const wrong = await startServer((request, response) => {
      request.resume()
      response.writeHead(400, {
        'x-amzn-errortype': 'InvalidEndpointException:',
        'x-amzn-requestid': 'r-wrong',
      })
      response.end('{"Message":"Call GetDataEndpoint again"}')
    })
    try {
      let lookups = 0
      const resolver = createDataEndpointResolver({
        client: {
          // The first lookup answers a stale endpoint; later ones ask the emulator.
          send: async (command) => (++lookups === 1 ? { DataEndpoint: wrong.url } : client.send(command)),
        },
      })
      const tried: string[] = []
      const acks = await withEndpoint(resolver, streamName, 'PUT_MEDIA', async (endpoint) => {
        tried.push(endpoint)
        const events: AckDecoderEvent[] = []
        await pipeline(
          createReadStream(fixturePath('kvs-getmedia', 'clusters.mkv')),
          createClusterChunkerTransform(),
          mkvBytes,
          putMedia({ endpoint, streamName, signer }),
          createAckDecoderTransform(),
          eventSink(events),
        )
        return acksOf(events)
      })
      expect(tried).toEqual([wrong.url, emulator.url])
      expect(acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(8)
    } finally {
      await wrong.close()
    }
  })

  it('resolves the PUT_MEDIA endpoint through GetDataEndpoint and reuses it', async () => {
    const streamName = await createStream()
    const sent: string[] = []
    const resolver = createDataEndpointResolver({
      client: {
        send: (command) => {
          sent.push(command.input.APIName!)
          return client.send(command)
        },
      },
    })
    const first = await withEndpoint(resolver, streamName, 'PUT_MEDIA', async (endpoint) => endpoint)
    const second = await resolver.resolve({ streamName }, 'PUT_MEDIA')
    expect(first).toBe(second)
    expect(new URL(first).origin).toBe(new URL(emulator.url).origin)
    expect(sent).toEqual(['PUT_MEDIA'])
  })
})

/** A fragment (one Cluster, known size) re-encoded with another Cluster Timecode. */
function withTimecode(fragment: ChunkerFragmentEvent, timecode: number): Uint8Array[] {
  const bytes = Buffer.concat(fragment.parts)
  const children: Uint8Array[] = []
  // Cluster ID (4 bytes) and size VINT, then the children: keep all but the Timecode (0xE7).
  let offset = 4 + vintLength(bytes[4]!)
  while (offset < bytes.length) {
    const idLength = vintLength(bytes[offset]!)
    const sizeOffset = offset + idLength
    const sizeLength = vintLength(bytes[sizeOffset]!)
    const end = sizeOffset + sizeLength + readVint(bytes, sizeOffset, sizeLength)
    if (!(idLength === 1 && bytes[offset] === 0xe7)) children.push(bytes.subarray(offset, end))
    offset = end
  }
  const timecodeElement = Buffer.alloc(10)
  timecodeElement[0] = 0xe7
  timecodeElement[1] = 0x88
  timecodeElement.writeBigUInt64BE(BigInt(timecode), 2)
  const size = timecodeElement.length + children.reduce((total, child) => total + child.length, 0)
  const head = Buffer.alloc(12)
  head.writeUInt32BE(0x1f43b675, 0)
  head[4] = 0x01
  head.writeUIntBE(size, 6, 6)
  return [head, timecodeElement, ...children]
}

function vintLength(first: number): number {
  let length = 1
  while (length <= 8 && (first & (0x80 >> (length - 1))) === 0) length++
  return length
}

/** A VINT's value (marker bit removed). */
function readVint(bytes: Uint8Array, offset: number, length: number): number {
  let value = bytes[offset]! & (0xff >> length)
  for (let index = 1; index < length; index++) value = value * 256 + bytes[offset + index]!
  return value
}
