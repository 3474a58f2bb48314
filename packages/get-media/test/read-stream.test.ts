import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { concatBytes } from '@kvs-streams/core'
import {
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
import { exposeGc, makeAwsHome, readFixture } from '@kvs-streams/test-utils'
import {
  classifyError,
  createDataEndpointResolver,
  getMedia,
  KvsConnectionError,
  KvsHttpError,
  putMedia,
  type ResponseBody,
  START_SELECTOR_TYPES as TRANSPORT_START_SELECTOR_TYPES,
} from '@kvs-streams/transport'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  createGetMediaParser,
  type GetMediaEvent,
  GetMediaParseError,
  GetMediaServiceError,
} from '../src/index.ts'
import {
  isRetriable,
  ReadStreamError,
  type ReadStreamEvent,
  type ReadStreamOptions,
  type ReconnectEvent,
  readStream,
  START_SELECTOR_TYPES,
} from '../src/read-stream.ts'
import { type FaultProxy, type ProxyFault, startFaultProxy } from './fault-proxy.ts'

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

/** Offset of the `index`-th (0-based) Cluster of an MKV body written by `mkv()`. */
function indexOfCluster(body: Uint8Array, index: number): number {
  const id = Buffer.from([0x1f, 0x43, 0xb6, 0x75])
  let at = -1
  for (let found = 0; found <= index; found++) at = Buffer.from(body).indexOf(id, at + 1)
  if (at < 0) throw new Error(`no cluster ${index}`)
  return at
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

async function proxyFor(emulator: Emulator, choose: (index: number) => ProxyFault): Promise<FaultProxy> {
  const proxy = await startFaultProxy(emulator.url, choose)
  onTestFinished(() => proxy.close())
  return proxy
}

/** Runs `source` to its end or its error; the events delivered and the error thrown, if any. */
async function drain<T>(source: AsyncIterable<T>): Promise<{ events: T[]; thrown: unknown }> {
  const events: T[] = []
  try {
    for await (const event of source) events.push(event)
  } catch (error) {
    return { events, thrown: error }
  }
  return { events, thrown: undefined }
}

describe('readStream', () => {
  it('with nothing but ~/.aws/config (region, endpoint_url) and ~/.aws/credentials, reads what was put', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'from-files')
    await put(emulator, 'from-files', CLUSTERS)
    const { env } = makeAwsHome({
      config: `[default]\nregion = ${emulator.region}\nendpoint_url = ${emulator.url}\n`,
      credentials: `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`,
    })
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    const { events, thrown } = await drain(
      readStream({
        streamName: 'from-files',
        startSelector: { StartSelectorType: 'EARLIEST' },
        follow: false,
      }),
    )
    expect(thrown).toBeUndefined()
    const numbers = emulator.storage.listFragments('from-files').map((fragment) => fragment.fragmentNumber)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers)
    expect(numbers).toHaveLength(8)
  })

  it('without a region anywhere, fails with the settings error instead of reading', async () => {
    const { env } = makeAwsHome({ config: '', credentials: '' })
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    const { events, thrown } = await drain(
      readStream({
        streamName: 'nowhere',
        startSelector: { StartSelectorType: 'NOW' },
        retry: { maxAttempts: 1 },
      }),
    )
    expect(events.filter((event) => event.type !== 'reconnect')).toEqual([])
    expect(thrown).toMatchObject({ cause: { code: 'ERR_KVS_NO_REGION' } })
  })

  it('reads every fragment from EARLIEST in frame mode, then follows fragments put later', async () => {
    // The response stays open between the two puts: no caught-up end comes in between.
    const emulator = await emulatorFor({ getMediaIdleTimeoutMs: 60_000 })
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
        retry: { initialDelayMs: 1, maxDelayMs: 5 },
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
        retry: { initialDelayMs: 1, maxDelayMs: 1 },
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

  it.each([
    ['retry', { retry: { maxAttempts: 3, initialDelayMs: 2, maxDelayMs: 4 } }],
    // The deprecated names still work (mapped onto retry).
    [
      'maxFailures and backoff (deprecated)',
      { maxFailures: 3, backoff: { initialDelayMs: 2, maxDelayMs: 4 } },
    ],
  ] as const)(
    'gives up after retry.maxAttempts consecutive failures with ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED and the last cause (%s)',
    async (_, limits) => {
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
          ...limits,
          random: () => 0.5,
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
      expect((thrown as Error).message).toMatch(
        /^GetMedia gave up after 3 connections in a row failed without delivering anything \(retry\.maxAttempts 3, \d+\.\d s\)\. Last error: KvsConnectionError: /,
      )
      expect(reconnects(events).map((event) => event.failures)).toEqual([1, 2])
      // Full jitter, random 0.5: half of 2, then half of 4.
      expect(reconnects(events).map((event) => event.delayMs)).toEqual([1, 2])
    },
  )

  it('keeps reconnecting through a 2 s outage of dropped, reset, half-closed and cut-short connections, then delivers every fragment exactly once', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'outage')
    await put(emulator, 'outage', mkv(10))
    const numbers = emulator.storage.listFragments('outage').map((fragment) => fragment.fragmentNumber)
    // Time as the reader sees it: it passes 150 ms per failed connection, and the outage lasts 2 s of it.
    let now = 0
    const outage: ProxyFault[] = ['drop', 'reset', 'half-close', 'status-only', 'empty-400']
    let failed = 0
    const proxy = await proxyFor(emulator, (index) =>
      // The first connection is cut inside the fourth fragment; then the endpoint is down for 2 s.
      index === 0 ? { cutAfterBytes: 10_000 } : now < 2000 ? outage[failed++ % outage.length]! : 'pass',
    )
    const events: ReadStreamEvent[] = []
    for await (const event of readStream({
      ...base(emulator, 'outage'),
      dataEndpoint: proxy.url,
      startSelector: { StartSelectorType: 'EARLIEST' },
      retryForMs: 5000,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      clock: () => now,
    })) {
      events.push(event)
      if (event.type === 'reconnect' && event.failures > 0) now += 150
      if (fragmentEnds(events).length === numbers.length) break
    }
    expectWellFormed(events)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers)
    const direct = createGetMediaParser().push(mkv(10))
    expect(frameHash(events)).toBe(frameHash(direct))
    const first = reconnects(events)[0]!
    expect(first.failures).toBe(0)
    expect(first.startSelector).toEqual({
      StartSelectorType: 'CONTINUATION_TOKEN',
      ContinuationToken: numbers[2],
    })
    // The cut came inside the fourth fragment: its start went out before, its end after the outage.
    const cutAt = events.indexOf(first)
    expect(events.slice(0, cutAt).filter((event) => event.type === 'fragment-start')).toHaveLength(4)
    // Each kind of cut connection was met, and 14 failures in a row did not end the reader (5 used to).
    expect(new Set(proxy.faults.slice(1, 1 + failed))).toEqual(new Set(outage))
    expect(Math.max(...reconnects(events).map((event) => event.failures))).toBe(14)
    for (const reconnect of reconnects(events).slice(1)) {
      expect(
        KvsConnectionError.is(reconnect.cause) ||
          (KvsHttpError.is(reconnect.cause) && reconnect.cause.status === 400),
      ).toBe(true)
    }
  })

  it('gives up once retryForMs has passed without delivery, saying for how long, how many attempts, the last error and where to resume', async () => {
    const emulator = await emulatorFor({
      faults: { getMedia: (_name, index) => (index === 0 ? { dropInFragment: 3 } : undefined) },
    })
    await createStream(emulator, 'dead')
    await put(emulator, 'dead', mkv(5))
    const numbers = emulator.storage.listFragments('dead').map((fragment) => fragment.fragmentNumber)
    // Two whole fragments, then the endpoint is gone for good.
    const proxy = await proxyFor(emulator, (index) => (index === 0 ? 'pass' : 'drop'))
    let now = 0
    const stream = readStream({
      ...base(emulator, 'dead'),
      dataEndpoint: proxy.url,
      mode: 'raw',
      startSelector: { StartSelectorType: 'EARLIEST' },
      retryForMs: 100,
      retry: { initialDelayMs: 20, maxDelayMs: 80 },
      random: () => 0.5,
      clock: () => now,
    })
    const events: ReadStreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of stream) {
        events.push(event)
        // The reader's time passes as it waits.
        if (event.type === 'reconnect') now += event.delayMs
      }
    } catch (error) {
      thrown = error
    }
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers.slice(0, 2))
    // Backoff 10, 20, 40 ms (full jitter, random 0.5, of 20, 40, 80), then 30: the last attempt is made when
    // the 100 ms run out.
    expect(reconnects(events).map((event) => [event.failures, event.delayMs])).toEqual([
      [0, 0],
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 30],
    ])
    expect(ReadStreamError.is(thrown)).toBe(true)
    const error = thrown as ReadStreamError
    expect(error).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
      failures: 5,
      retriedForMs: 100,
      lastFragmentNumber: numbers[1],
      continuationToken: numbers[1],
      startSelector: { StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: numbers[1] },
    })
    expect(KvsConnectionError.is(error.cause)).toBe(true)
    expect(error.message).toBe(
      'GetMedia gave up after retrying for 0.1 s (retryForMs 100): 5 connections in a row failed without ' +
        `delivering anything. Last error: KvsConnectionError: ${(error.cause as Error).message}. Resume: the ` +
        `last fragment delivered whole is ${numbers[1]}; a new reader resumes after it from continuation ` +
        `token ${numbers[1]}`,
    )
  })

  it('on an endpoint that never answers, keeps trying for retryForMs of real time, then gives up', async () => {
    const emulator = await startEmulator()
    const url = emulator.url
    await emulator.close()
    const started = performance.now()
    const { events, thrown } = await drain(
      readStream({
        streamName: 'gone',
        dataEndpoint: url,
        signer: signerFor(emulator),
        startSelector: { StartSelectorType: 'NOW' },
        retryForMs: 200,
        retry: { initialDelayMs: 5, maxDelayMs: 20 },
      }),
    )
    expect(thrown).toMatchObject({
      code: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
      lastFragmentNumber: undefined,
    })
    const error = thrown as ReadStreamError
    expect(error.retriedForMs).toBeGreaterThanOrEqual(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(200)
    expect(error.failures).toBe(reconnects(events).length + 1)
    expect(error.failures).toBeGreaterThanOrEqual(2)
    expect(error.startSelector).toEqual({ StartSelectorType: 'NOW' })
    expect(error.message).toMatch(
      /^GetMedia gave up after retrying for \d+\.\d s \(retryForMs 200\): \d+ connections in a row failed without delivering anything\. Last error: KvsConnectionError: .*ECONNREFUSED.*\. Resume: no fragment was delivered whole; a new reader starts from NOW$/,
    )
  })

  it('throws a request the service refused at once, whatever the retry budget', async () => {
    const emulator = await emulatorFor()
    const proxy = await proxyFor(emulator, () => 'invalid-argument')
    const { events, thrown } = await drain(
      readStream({
        ...base(emulator, 'refused'),
        dataEndpoint: proxy.url,
        startSelector: { StartSelectorType: 'NOW' },
        retryForMs: 60_000,
      }),
    )
    expect(events).toEqual([])
    expect(KvsHttpError.is(thrown) && thrown.errorType).toBe('InvalidArgumentException')
    expect(proxy.faults).toHaveLength(1)
  })

  it('retries an expired token (as the producer does): the next request is signed with fresh credentials', async () => {
    const emulator = await emulatorFor()
    await createStream(emulator, 'expired')
    await put(emulator, 'expired', mkv(3))
    const numbers = emulator.storage.listFragments('expired').map((fragment) => fragment.fragmentNumber)
    const proxy = await proxyFor(emulator, (index) => (index === 0 ? 'expired-token' : 'pass'))
    // A provider whose credentials carry no expiration: only refreshCredentials() makes the signer ask again.
    const asked: unknown[] = []
    const signer = createKvsSigner({
      region: emulator.region,
      credentials: async (properties?: unknown) => {
        asked.push(properties)
        return credentials
      },
    })
    const { events, thrown } = await drain(
      readStream({
        ...base(emulator, 'expired'),
        signer,
        dataEndpoint: proxy.url,
        mode: 'raw',
        follow: false,
        startSelector: { StartSelectorType: 'EARLIEST' },
        retry: { initialDelayMs: 1, maxDelayMs: 1 },
      }),
    )
    expect(thrown).toBeUndefined()
    const [first] = reconnects(events)
    expect(first?.failures).toBe(1)
    expect(KvsHttpError.is(first?.cause) && first.cause.errorType).toBe('ExpiredTokenException')
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(numbers)
    expect(proxy.faults.slice(0, 2)).toEqual(['expired-token', 'pass'])
    expect(asked).toEqual([undefined, { forceRefresh: true }])
  })

  it('tells what the network did (retried) from what no new request can fix (thrown)', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
    const retried = [
      new KvsConnectionError('Connection failed: read ECONNRESET'),
      new TypeError('fetch failed', { cause: socket }),
      new TypeError('terminated', { cause: new KvsConnectionError('x', { cause: socket }) }),
      Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
      new KvsHttpError('HTTP 400', { status: 400, body: '' }),
      new KvsHttpError('HTTP 500', { status: 500 }),
      new KvsHttpError('x', { status: 400, errorType: 'ConnectionLimitExceededException', body: '{}' }),
      new ReadStreamError('ERR_KVS_GETMEDIA_IDLE_TIMEOUT', 'no bytes'),
      new GetMediaParseError('ERR_KVS_GETMEDIA_NOT_MKV', 'not MKV', { offset: 0 }),
      new KvsHttpError('expired', { status: 403, errorType: 'ExpiredTokenException', body: '{}' }),
      new KvsHttpError('moved', { status: 400, errorType: 'InvalidEndpointException', body: '{}' }),
    ]
    const thrown = [
      new TypeError('startSelector must be an object'),
      new KvsHttpError('no', { status: 400, errorType: 'InvalidArgumentException', body: '{}' }),
      new KvsHttpError('HTTP 400: bad', { status: 400, body: 'bad' }),
      new KvsHttpError('no', { status: 404, errorType: 'ResourceNotFoundException', body: '{}' }),
      new KvsHttpError('no', { status: 403, errorType: 'NotAuthorizedException', body: '{}' }),
      new GetMediaParseError('ERR_KVS_GETMEDIA_FRAME_TOO_LARGE', 'too large', { offset: 9 }),
      Object.assign(new Error('Stream not found'), { name: 'ResourceNotFoundException', $fault: 'client' }),
      new KvsHttpError('HTTP 403', { status: 403, body: '' }),
    ]
    expect(retried.map((error) => isRetriable(error, classifyError))).toEqual(retried.map(() => true))
    expect(thrown.map((error) => isRetriable(error, classifyError))).toEqual(thrown.map(() => false))
  })

  it('ends its waits while the garbage collector runs: idle timeouts, backoff, and the caller aborting', async () => {
    const gc = exposeGc()
    const emulator = await emulatorFor()
    const proxy = await proxyFor(emulator, () => 'silent')
    const collecting = setInterval(gc, 2)
    onTestFinished(() => clearInterval(collecting))
    const controller = new AbortController()
    // Every connection stays silent: each attempt ends only by its idle timer, each pause by the backoff timer.
    // The reader's clock moves 50 ms per failed connection: the fourth one uses up the 150 ms.
    let now = 0
    const events: ReadStreamEvent[] = []
    let thrown: unknown
    try {
      for await (const event of readStream({
        ...base(emulator, 'silent'),
        dataEndpoint: proxy.url,
        startSelector: { StartSelectorType: 'NOW' },
        idleTimeoutMs: 20,
        retryForMs: 150,
        retry: { initialDelayMs: 5, maxDelayMs: 10 },
        signal: controller.signal,
        clock: () => now,
      })) {
        events.push(event)
        now += 50
      }
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED', failures: 4 })
    expect((thrown as Error).cause).toMatchObject({ code: 'ERR_KVS_GETMEDIA_IDLE_TIMEOUT' })
    expect(reconnects(events).map((event) => event.failures)).toEqual([1, 2, 3])
    // A reader waiting on a silent connection ends when the caller aborts, collected or not.
    const waiting = drain(
      readStream({
        ...base(emulator, 'silent'),
        dataEndpoint: proxy.url,
        startSelector: { StartSelectorType: 'NOW' },
        signal: controller.signal,
      }),
    )
    const accepted = proxy.faults.length
    while (proxy.faults.length === accepted) await new Promise((resolve) => setTimeout(resolve, 5))
    for (let round = 0; round < 5; round++) {
      gc()
      await new Promise((resolve) => setImmediate(resolve))
    }
    controller.abort()
    expect(await waiting).toEqual({ events: [], thrown: undefined })
  })

  it('reconnects after idleTimeoutMs of silence with the continuation token, and goes on without repeating', async () => {
    // A service that keeps a caught-up response open (the emulator ends it only after a minute here).
    const emulator = await emulatorFor({ getMediaIdleTimeoutMs: 60_000 })
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

  it('follows a producer that pauses longer than the idle window: each fragment once, caught-up ends no failure', async () => {
    const emulator = await emulatorFor({ getMediaIdleTimeoutMs: 250 })
    await createStream(emulator, 'pause')
    // One PutMedia connection: two clusters, a pause of several idle windows, two more.
    const body = new PassThrough()
    const acks: Buffer[] = []
    const producing = pipeline(
      body,
      putMedia({
        endpoint: emulator.url,
        streamName: 'pause',
        signer: signerFor(emulator),
        producerStartTimestamp: Date.now(),
      }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          acks.push(chunk)
          callback()
        },
      }),
    )
    const media = mkv(4)
    const third = indexOfCluster(media, 2)
    body.write(media.subarray(0, third))
    // Any failure ends the iteration at once: a caught-up end counted as one would throw.
    const stream = readStream({
      ...base(emulator, 'pause'),
      startSelector: { StartSelectorType: 'EARLIEST' },
      retryForMs: 0,
      retry: { maxAttempts: 1 },
    })
    const caughtUp = (event: ReadStreamEvent) =>
      event.type === 'reconnect' && (event.cause as { code?: unknown }).code === 'ERR_KVS_GETMEDIA_CAUGHT_UP'
    // The first fragment (the second stays open until the third cluster comes), then the response ends caught
    // up, and so do the next ones, which deliver nothing: the pause outlasts the idle window three times.
    const before = await take(stream, (events) => events.filter(caughtUp).length === 3)
    body.end(media.subarray(third))
    const after = await take(stream, (events) => fragmentEnds(events).length === 3)
    await producing
    await stream.return()
    expect(Buffer.concat(acks).toString('utf8')).not.toContain('"ERROR"')
    const events = [...before, ...after]
    expectWellFormed(events)
    const stored = emulator.storage.listFragments('pause').map((fragment) => fragment.fragmentNumber)
    expect(stored).toHaveLength(4)
    expect(fragmentEnds(events).map((event) => event.fragmentNumber)).toEqual(stored)
    expect(fragmentEnds(before)).toHaveLength(1)
    const waits = reconnects(events)
    expect(waits.length).toBeGreaterThanOrEqual(3)
    for (const reconnect of waits) {
      expect(reconnect.cause).toMatchObject({ name: 'ReadStreamError', code: 'ERR_KVS_GETMEDIA_CAUGHT_UP' })
      expect(reconnect.failures).toBe(0)
      // From the last fragment delivered: the next request starts after it.
      expect(reconnect.startSelector).toEqual({
        StartSelectorType: 'CONTINUATION_TOKEN',
        ContinuationToken: stored[0],
      })
    }
    expect(frameHash(events)).toBe(frameHash(createGetMediaParser().push(media)))
  })

  it('with follow: false, returns once the service ends a caught-up response, after every stored fragment', async () => {
    const emulator = await emulatorFor({ getMediaIdleTimeoutMs: 250 })
    await createStream(emulator, 'to-the-end')
    await put(emulator, 'to-the-end', mkv(3))
    const { events, thrown } = await drain(
      readStream({
        ...base(emulator, 'to-the-end'),
        startSelector: { StartSelectorType: 'EARLIEST' },
        mode: 'raw',
        follow: false,
      }),
    )
    expect(thrown).toBeUndefined()
    expect(events.map((event) => (event.type === 'fragment' ? event.fragmentNumber : event.type))).toEqual(
      emulator.storage.listFragments('to-the-end').map((fragment) => fragment.fragmentNumber),
    )
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
      retry: { initialDelayMs: 600_000, maxDelayMs: 600_000 },
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
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 1000 },
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
          : event.type === 'service-error'
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
        retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
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
    expect(events.filter((event) => event.type === 'service-error')).toHaveLength(1)
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

  it('checks start selectors against the transport list without loading the transport', () => {
    expect([...START_SELECTOR_TYPES]).toEqual([...TRANSPORT_START_SELECTOR_TYPES])
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
    expect(() => readStream({ ...ok, retry: { maxAttempts: 0 } })).toThrow(
      'retry.maxAttempts must be an integer >= 1 or Infinity, got 0',
    )
    expect(() => readStream({ ...ok, retry: { maxAttempts: 1.5 } })).toThrow(
      'retry.maxAttempts must be an integer >= 1 or Infinity, got 1.5',
    )
    expect(() => readStream({ ...ok, retry: { initialDelayMs: -1 } })).toThrow(
      'retry.initialDelayMs must be a finite number >= 0, got -1',
    )
    expect(() => readStream({ ...ok, retry: { initialDelayMs: 100, maxDelayMs: 50 } })).toThrow(
      'retry.maxDelayMs must be at least retry.initialDelayMs (100), got 50',
    )
    expect(() => readStream({ ...ok, retry: 5 as unknown as { maxAttempts: number } })).toThrow(
      /^retry must be/,
    )
    expect(() => readStream({ ...ok, retry: { maxAttempts: Number.POSITIVE_INFINITY } })).not.toThrow()
    // The deprecated names: checked under their own name, and refused when they disagree with retry.
    expect(() => readStream({ ...ok, maxFailures: 0 })).toThrow(
      'maxFailures must be an integer >= 1 or Infinity, got 0',
    )
    expect(() => readStream({ ...ok, backoff: { maxDelayMs: Number.NaN } })).toThrow(
      'backoff.maxDelayMs must be a finite number >= 0, got NaN',
    )
    expect(() => readStream({ ...ok, maxFailures: 2, retry: { maxAttempts: 3 } })).toThrow(
      new TypeError(
        'maxFailures must be absent or equal to retry.maxAttempts (it is a deprecated alias of retry.maxAttempts), got 2',
      ),
    )
    expect(() => readStream({ ...ok, backoff: { initialDelayMs: 1 }, retry: { initialDelayMs: 2 } })).toThrow(
      new TypeError(
        'backoff.initialDelayMs must be absent or equal to retry.initialDelayMs (it is a deprecated alias of retry.initialDelayMs), got 1',
      ),
    )
    expect(() => readStream({ ...ok, maxFailures: 3, retry: { maxAttempts: 3 } })).not.toThrow()
    expect(() => readStream({ ...ok, retryForMs: -1 })).toThrow('retryForMs must be an integer >= 0, got -1')
    expect(() => readStream({ ...ok, clock: 5 as unknown as () => number })).toThrow(
      'clock must be a function returning milliseconds, got 5',
    )
    expect(() => readStream({ ...ok, idleTimeoutMs: -1 })).toThrow(TypeError)
    expect(() => readStream({ ...ok, follow: 'no' as unknown as boolean })).toThrow(
      'follow must be a boolean, got "no"',
    )
    expect(() => readStream({ ...ok, mode: 'events' as 'raw' })).toThrow(
      `mode must be 'frames' or 'raw', got "events"`,
    )
    expect(() => readStream({ ...ok, signer: 'signer' as unknown as typeof signer })).toThrow(
      /^signer must be/,
    )
    expect(() => readStream({ ...ok, dataEndpoint: 'not a url' })).toThrow(/^dataEndpoint must be/)
    expect(() => readStream({ ...ok, profile: '' })).toThrow('profile must be a profile name, got ""')
    expect(() => readStream({ ...ok, streamArn: 'arn' } as unknown as ReadStreamOptions)).toThrow(TypeError)
  })
})
