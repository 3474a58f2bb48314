import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  concatBytes,
  ElementId,
  writeEbmlHeader,
  writeElement,
  writeSimpleBlock,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import {
  DEFAULT_CREDENTIALS,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { readFixture } from '@kvs-streams/test-utils'
import {
  createDataEndpointResolver,
  getMedia,
  KvsConnectionError,
  KvsHttpError,
  putMedia,
  type ResponseBody,
} from '@kvs-streams/transport'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createGetMediaParser, type GetMediaEvent, GetMediaServiceError } from '../src/index.ts'
import {
  ReadStreamError,
  type ReadStreamEvent,
  type ReadStreamOptions,
  type ReconnectEvent,
  readStream,
} from '../src/read-stream.ts'

const credentials = { ...DEFAULT_CREDENTIALS }
const CLUSTERS = readFixture('kvs-getmedia', 'clusters.mkv')

async function emulatorFor(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options)
  onTestFinished(() => emulator.close())
  return emulator
}

function signerFor(emulator: Emulator) {
  return createKvsSigner({ region: emulator.region, credentials })
}

async function createStream(emulator: Emulator, streamName: string): Promise<void> {
  const body = JSON.stringify({ StreamName: streamName, DataRetentionInHours: 24 })
  const signed = await signerFor(emulator).signJson({ url: `${emulator.url}/createStream`, body })
  const response = await fetch(`${emulator.url}/createStream`, {
    method: 'POST',
    headers: signed.headers,
    body,
  })
  if (response.status !== 200) throw new Error(`CreateStream: ${response.status} ${await response.text()}`)
}

/** PutMedia of a whole MKV body with the transport; resolves once every fragment is PERSISTED. */
async function put(
  emulator: Emulator,
  streamName: string,
  body: Uint8Array,
  producerStartTimestamp = Date.now(),
) {
  const acks: Buffer[] = []
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < body.length; offset += 64 * 1024)
    chunks.push(body.subarray(offset, offset + 64 * 1024))
  await pipeline(
    Readable.from(chunks),
    putMedia({ endpoint: emulator.url, streamName, signer: signerFor(emulator), producerStartTimestamp }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        acks.push(chunk)
        callback()
      },
    }),
  )
  const text = Buffer.concat(acks).toString('utf8')
  if (text.includes('"ERROR"')) throw new Error(`PutMedia failed: ${text}`)
}

/** A synthetic MKV body: `count` one-second fragments of `frames` video frames with distinct payloads. */
function mkv(count: number, firstTimecode = 0, frames = 4, frameBytes = 600): Uint8Array {
  const header = concatBytes([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment),
    writeElement(ElementId.Info, [writeUint(ElementId.TimecodeScale, 1_000_000)]),
    writeElement(ElementId.Tracks, [
      writeElement(ElementId.TrackEntry, [
        writeUint(ElementId.TrackNumber, 1),
        writeUint(ElementId.TrackUID, 1),
        writeUint(ElementId.TrackType, 1),
        writeString(ElementId.CodecID, 'V_MPEG4/ISO/AVC'),
      ]),
    ]),
  ])
  const clusters = Array.from({ length: count }, (_, index) =>
    writeElement(ElementId.Cluster, [
      writeUint(ElementId.Timecode, firstTimecode + index * 1000),
      ...Array.from({ length: frames }, (_, frame) =>
        writeSimpleBlock({
          track: 1,
          timecode: frame * 40,
          keyframe: frame === 0,
          data: new Uint8Array(frameBytes).fill((index * frames + frame) % 251),
        }),
      ),
    ]),
  )
  return concatBytes([header, ...clusters])
}

/** Collects events until `until` says stop (then leaves the loop, which closes the connection). */
async function collect<T extends ReadStreamEvent>(
  source: AsyncIterable<T>,
  until: (events: T[]) => boolean,
): Promise<T[]> {
  const events: T[] = []
  for await (const event of source) {
    events.push(event)
    if (until(events)) break
  }
  return events
}

/** Takes events until `until` says stop, leaving the iteration open for more. */
async function take<T>(stream: AsyncGenerator<T, void>, until: (events: T[]) => boolean): Promise<T[]> {
  const events: T[] = []
  for (;;) {
    const result = await stream.next()
    if (result.done) return events
    events.push(result.value)
    if (until(events)) return events
  }
}

const fragmentEnds = (events: readonly ReadStreamEvent[]) =>
  events.filter((event) => event.type === 'fragment-end' || event.type === 'fragment')
const reconnects = (events: readonly ReadStreamEvent[]) =>
  events.filter((event): event is ReconnectEvent => event.type === 'reconnect')

/** A hash of every frame's data, in order. */
function frameHash(events: readonly (ReadStreamEvent | GetMediaEvent)[]): string {
  const hash = createHash('sha256')
  for (const event of events) if (event.type === 'frame') hash.update(event.data)
  return hash.digest('hex')
}

/** Checks frame-mode structure: start, frames, end per fragment, nothing interleaved or repeated. */
function expectWellFormed(events: readonly ReadStreamEvent[]): void {
  let open: string | undefined
  const seen = new Set<string>()
  for (const event of events) {
    if (event.type === 'fragment-start') {
      expect(open).toBeUndefined()
      expect(seen.has(event.fragmentNumber!)).toBe(false)
      open = event.fragmentNumber
      seen.add(open!)
    } else if (event.type === 'frame') {
      expect(open).toBeDefined()
    } else if (event.type === 'fragment-end') {
      expect(event.fragmentNumber).toBe(open)
      open = undefined
    }
  }
}

function base(emulator: Emulator, streamName: string) {
  return { streamName, dataEndpoint: emulator.url, signer: signerFor(emulator) }
}

describe('readStream', () => {
  it('reads every fragment from EARLIEST in frame mode, then follows fragments put later', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'follow')
    await put(emulator, 'follow', CLUSTERS)
    const stream = readStream({
      ...base(emulator, 'follow'),
      startSelector: { StartSelectorType: 'EARLIEST' },
    })
    const first = await take(stream, (events) => fragmentEnds(events).length === 8)
    await put(emulator, 'follow', mkv(2, 20_000))
    const more = await take(stream, (events) => fragmentEnds(events).length === 2)
    await stream.return()
    const events = [...first, ...more]
    expectWellFormed(events)
    const numbers = emulator.storage.listFragments('follow').map((fragment) => fragment.fragmentNumber)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers)
    expect(fragmentEnds(events).every((event) => event.type === 'fragment-end' && event.complete)).toBe(true)
    expect(reconnects(events)).toEqual([])
    // The frames are those of the file that was put.
    const direct = createGetMediaParser().push(CLUSTERS)
    expect(frameHash(first)).toBe(frameHash(direct))
  })

  it('delivers every fragment and frame exactly once while the emulator drops the connection mid-fragment 20+ times', async () => {
    // Budgets cycle up and down: some connections end inside the first fragment they resend, some further on.
    const budgets = [60_000, 110_000, 170_000, 240_000, 45_000]
    const emulator = await emulatorFor({
      faults: {
        getMedia: (_name, index) =>
          index < 60 ? { dropAfterBytes: budgets[index % budgets.length]! } : undefined,
      },
    })
    await createStream(emulator, 'drops')
    await put(emulator, 'drops', CLUSTERS)
    await put(emulator, 'drops', CLUSTERS, Date.now() + 20_000)
    const numbers = emulator.storage.listFragments('drops').map((fragment) => fragment.fragmentNumber)
    expect(numbers).toHaveLength(16)
    const events = await collect(
      readStream({
        ...base(emulator, 'drops'),
        startSelector: { StartSelectorType: 'EARLIEST' },
        backoff: { initialDelayMs: 1, maxDelayMs: 5 },
      }),
      (seen) => fragmentEnds(seen).length === 16,
    )
    expect(reconnects(events).length).toBeGreaterThanOrEqual(20)
    expectWellFormed(events)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers)
    const direct = createGetMediaParser().push(concatBytes([CLUSTERS, CLUSTERS]))
    expect(events.filter((event) => event.type === 'frame')).toHaveLength(
      direct.filter((e) => e.type === 'frame').length,
    )
    expect(frameHash(events)).toBe(frameHash(direct))
    for (const reconnect of reconnects(events)) expect(KvsConnectionError.is(reconnect.cause)).toBe(true)
  })

  it('delivers each whole fragment once in raw mode while every connection drops inside its second fragment', async () => {
    const emulator = await emulatorFor({ faults: { getMedia: { dropInFragment: 2 } } })
    await createStream(emulator, 'raw-drops')
    await put(emulator, 'raw-drops', mkv(30))
    const events = await collect(
      readStream({
        ...base(emulator, 'raw-drops'),
        mode: 'raw',
        startSelector: { StartSelectorType: 'EARLIEST' },
        backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      }),
      (seen) => fragmentEnds(seen).length === 30,
    )
    const fragments = events.filter((event) => event.type === 'fragment')
    expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual(
      emulator.storage.listFragments('raw-drops').map((fragment) => fragment.fragmentNumber),
    )
    expect(reconnects(events).length).toBeGreaterThanOrEqual(29)
    expect(reconnects(events).every((event) => event.failures === 0 && event.delayMs === 0)).toBe(true)
    // Resumed with the last complete fragment's continuation token.
    expect(reconnects(events)[0]!.startSelector).toEqual({
      StartSelectorType: 'CONTINUATION_TOKEN',
      ContinuationToken: fragments[0]!.fragmentNumber,
    })
    expect(fragments.map((fragment) => [fragment.complete, fragment.frameCount])).toEqual(
      fragments.map(() => [true, 4]),
    )
    // Each fragment's document holds the cluster that was stored, byte for byte.
    for (const fragment of fragments) {
      const stored = await emulator.storage.readFragment('raw-drops', fragment.fragmentNumber!)
      expect(Buffer.from(concatBytes(fragment.parts)).indexOf(Buffer.from(stored!.cluster))).toBeGreaterThan(
        0,
      )
    }
  })

  it('gives up after maxFailures consecutive failures with ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED and the last cause', async () => {
    const emulator = await startEmulator()
    const url = emulator.url
    await emulator.close()
    const events: ReadStreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of readStream({
        streamName: 'gone',
        dataEndpoint: url,
        signer: signerFor(emulator),
        startSelector: { StartSelectorType: 'NOW' },
        maxFailures: 3,
        backoff: { initialDelayMs: 2, maxDelayMs: 4 },
      })) {
        events.push(event)
      }
    } catch (error) {
      thrown = error
    }
    expect(ReadStreamError.is(thrown)).toBe(true)
    expect(thrown).toMatchObject({
      name: 'ReadStreamError',
      code: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
      failures: 3,
    })
    expect(KvsConnectionError.is((thrown as Error).cause)).toBe(true)
    expect(reconnects(events).map((event) => event.failures)).toEqual([1, 2])
    expect(reconnects(events).every((event) => event.delayMs >= 1 && event.delayMs <= 4)).toBe(true)
  })

  it('reconnects after idleTimeoutMs of silence with the continuation token, and goes on without repeating', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'idle')
    await put(emulator, 'idle', mkv(2))
    const stream = readStream({
      ...base(emulator, 'idle'),
      startSelector: { StartSelectorType: 'EARLIEST' },
      idleTimeoutMs: 200,
    })
    const before = await take(stream, (events) => events.some((event) => event.type === 'reconnect'))
    const reconnect = reconnects(before)[0]!
    expect(ReadStreamError.is(reconnect.cause)).toBe(true)
    expect(reconnect.cause).toMatchObject({ code: 'ERR_KVS_GETMEDIA_IDLE_TIMEOUT' })
    // Caught up on a quiet stream: not a failure.
    expect(reconnect.failures).toBe(0)
    const ends = fragmentEnds(before)
    expect(reconnect.startSelector).toEqual({
      StartSelectorType: 'CONTINUATION_TOKEN',
      ContinuationToken: ends[1]!.fragmentNumber,
    })
    await put(emulator, 'idle', mkv(2, 10_000))
    const after = await take(stream, (events) => fragmentEnds(events).length === 2)
    await stream.return()
    expect([...fragmentEnds(before), ...fragmentEnds(after)].map((event) => event.fragmentNumber)).toEqual(
      emulator.storage.listFragments('idle').map((fragment) => fragment.fragmentNumber),
    )
    expectWellFormed([...before, ...after])
  })

  it('ends the iteration promptly on abort, closing its GetMedia connections', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'abort')
    await put(emulator, 'abort', mkv(1))
    const controller = new AbortController()
    // Three readers: the stream's whole GetMedia allowance.
    const readers = [0, 1, 2].map(async () => {
      const events: ReadStreamEvent[] = []
      for await (const event of readStream({
        ...base(emulator, 'abort'),
        startSelector: { StartSelectorType: 'EARLIEST' },
        signal: controller.signal,
      })) {
        events.push(event)
      }
      return events
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    controller.abort()
    const results = await Promise.all(readers)
    expect(results.map((events) => fragmentEnds(events).length)).toEqual([1, 1, 1])
    // Their connections are gone: three new readers are accepted (the emulator may take a moment to see it).
    const bodies: ResponseBody[] = []
    for (let attempt = 0; bodies.length < 3 && attempt < 100; attempt++) {
      try {
        bodies.push(
          await getMedia({
            ...base(emulator, 'abort'),
            endpoint: emulator.url,
            startSelector: { StartSelectorType: 'NOW' },
          }),
        )
      } catch (error) {
        expect(KvsHttpError.is(error) && error.errorType).toBe('ConnectionLimitExceededException')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    expect(bodies).toHaveLength(3)
    for (const body of bodies) body.destroy()
  })

  it('ends promptly when aborted while waiting to reconnect', async () => {
    const emulator = await startEmulator()
    await emulator.close()
    const controller = new AbortController()
    const events: ReadStreamEvent[] = []
    for await (const event of readStream({
      streamName: 'gone',
      dataEndpoint: emulator.url,
      signer: signerFor(emulator),
      startSelector: { StartSelectorType: 'NOW' },
      backoff: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
      signal: controller.signal,
    })) {
      events.push(event)
      controller.abort()
    }
    expect(events.map((event) => event.type)).toEqual(['reconnect'])
  })

  it('retries ConnectionLimitExceededException until a slot frees up', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'busy')
    await put(emulator, 'busy', mkv(1))
    const busy = await Promise.all(
      [0, 1, 2].map(() =>
        getMedia({
          ...base(emulator, 'busy'),
          endpoint: emulator.url,
          startSelector: { StartSelectorType: 'NOW' },
        }),
      ),
    )
    const stream = readStream({
      ...base(emulator, 'busy'),
      startSelector: { StartSelectorType: 'EARLIEST' },
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
      maxFailures: 1000,
    })
    const first = await stream.next()
    expect(first.value).toMatchObject({ type: 'reconnect', failures: 1 })
    expect(KvsHttpError.is((first.value as ReconnectEvent).cause)).toBe(true)
    expect((first.value as ReconnectEvent).cause).toMatchObject({
      errorType: 'ConnectionLimitExceededException',
    })
    busy[0]!.destroy()
    const rest = await collect(stream, (events) => fragmentEnds(events).length === 1)
    expect(fragmentEnds(rest)).toHaveLength(1)
    for (const body of busy) body.destroy()
  })

  it('reports an error chunk once and resumes after a fragment that is not found (4000)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kvs-read-stream-'))
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }))
    const emulator = await emulatorFor({ dataDir })
    await createStream(emulator, 'damaged')
    await put(emulator, 'damaged', mkv(5))
    const numbers = emulator.storage.listFragments('damaged').map((fragment) => fragment.fragmentNumber)
    const directory = join(dataDir, 'streams', 'damaged', 'fragments')
    await rm(join(directory, (await readdir(directory)).find((name) => name.startsWith(numbers[2]!))!))
    const events = await collect(
      readStream({ ...base(emulator, 'damaged'), startSelector: { StartSelectorType: 'EARLIEST' } }),
      (seen) => fragmentEnds(seen).length === 4,
    )
    expect(
      events.flatMap((event) =>
        event.type === 'fragment-end'
          ? [event.fragmentNumber]
          : event.type === 'error'
            ? [`error ${event.error.errorId} ${event.error.fragmentNumber}`]
            : event.type === 'reconnect'
              ? ['reconnect']
              : [],
      ),
    ).toEqual([numbers[0], numbers[1], `error 4000 ${numbers[2]}`, 'reconnect', numbers[3], numbers[4]])
    expect(reconnects(events)[0]!.startSelector).toEqual({
      StartSelectorType: 'FRAGMENT_NUMBER',
      AfterFragmentNumber: numbers[2],
    })
  })

  it('gives up on an error chunk that comes back on every attempt (5000), reporting it once and as the cause', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kvs-read-stream-'))
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }))
    const emulator = await emulatorFor({ dataDir })
    await createStream(emulator, 'corrupt')
    await put(emulator, 'corrupt', mkv(3))
    const numbers = emulator.storage.listFragments('corrupt').map((fragment) => fragment.fragmentNumber)
    const directory = join(dataDir, 'streams', 'corrupt', 'fragments')
    await writeFile(
      join(directory, (await readdir(directory)).find((name) => name.startsWith(numbers[1]!))!),
      'garbage',
    )
    const events: ReadStreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of readStream({
        ...base(emulator, 'corrupt'),
        startSelector: { StartSelectorType: 'EARLIEST' },
        maxFailures: 3,
        backoff: { initialDelayMs: 1, maxDelayMs: 2 },
      })) {
        events.push(event)
      }
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
      continuationToken: numbers[0],
    })
    expect(GetMediaServiceError.is((thrown as Error).cause)).toBe(true)
    expect((thrown as Error).cause).toMatchObject({ errorId: 5000, fragmentNumber: numbers[1] })
    expect(events.filter((event) => event.type === 'error')).toHaveLength(1)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual([numbers[0]])
    // Each retry resumed after the last complete fragment.
    for (const reconnect of reconnects(events)) {
      expect(reconnect.startSelector).toEqual({
        StartSelectorType: 'CONTINUATION_TOKEN',
        ContinuationToken: numbers[0],
      })
    }
  })

  it('finds the data endpoint with GetDataEndpoint from region, credentials and a control-plane endpoint', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'resolved')
    await put(emulator, 'resolved', mkv(2))
    const events = await collect(
      readStream({
        streamName: 'resolved',
        region: emulator.region,
        credentials,
        endpoint: emulator.url,
        startSelector: { StartSelectorType: 'EARLIEST' },
      }),
      (seen) => fragmentEnds(seen).length === 2,
    )
    expect(fragmentEnds(events)).toHaveLength(2)
    const resolver = createDataEndpointResolver({
      region: emulator.region,
      credentials,
      endpoint: emulator.url,
    })
    const viaResolver = await collect(
      readStream({
        streamName: 'resolved',
        resolver,
        signer: signerFor(emulator),
        mode: 'raw',
        startSelector: { StartSelectorType: 'EARLIEST' },
      }),
      (seen) => fragmentEnds(seen).length === 2,
    )
    expect(fragmentEnds(viaResolver)).toHaveLength(2)
  })

  it('throws errors no retry can fix at once: an unknown stream', async () => {
    const emulator = await emulatorFor()
    const stream = readStream({ ...base(emulator, 'missing'), startSelector: { StartSelectorType: 'NOW' } })
    await expect(stream.next()).rejects.toSatisfy(
      (error) => KvsHttpError.is(error) && error.errorType === 'ResourceNotFoundException',
    )
  })

  it('rejects bad options synchronously with a TypeError', () => {
    const signer = createKvsSigner({ region: 'us-east-1', credentials })
    const ok = {
      streamName: 's',
      dataEndpoint: 'http://127.0.0.1:1',
      signer,
      startSelector: { StartSelectorType: 'NOW' },
    } as const
    expect(() => readStream({ ...ok, startSelector: { StartSelectorType: 'LATEST' as 'NOW' } })).toThrow(
      /^startSelector.StartSelectorType must be/,
    )
    expect(() => readStream({ ...ok, maxFailures: 0 })).toThrow('maxFailures must be an integer >= 1, got 0')
    expect(() => readStream({ ...ok, idleTimeoutMs: -1 })).toThrow(TypeError)
    expect(() => readStream({ ...ok, mode: 'events' as 'raw' })).toThrow(
      `mode must be 'frames' or 'raw', got "events"`,
    )
    expect(() => readStream({ ...ok, signer: undefined })).toThrow(/^signer must be/)
    expect(() =>
      readStream({
        streamName: 's',
        signer,
        startSelector: { StartSelectorType: 'NOW' },
      } as ReadStreamOptions),
    ).toThrow(/^dataEndpoint must be/)
    expect(() => readStream({ ...ok, streamArn: 'arn' } as unknown as ReadStreamOptions)).toThrow(TypeError)
  })
})
