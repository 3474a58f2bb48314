import { readFileSync } from 'node:fs'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import {
  type ChunkerEvent,
  type ChunkerFragmentEvent,
  createClusterChunker,
  type HeaderEvent,
} from '@kvs-streams/chunker'
import { DEFAULT_CREDENTIALS, type Emulator, type FaultsOption, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { afterEach, describe, expect, it } from 'vitest'
import { listAllFragments } from '../src/index.ts'
import { RequestPacer } from '../src/request-pacer.ts'
import {
  createFragmentPutter,
  type FragmentRetry,
  isRetriableFragmentError,
  KvsAbortError,
  KvsConnectionError,
  KvsErrorAckError,
  KvsHttpError,
  type PutFragmentInput,
  PutFragmentStream,
  type PutFragmentStreamEvent,
  type PutHeaderInput,
  putFragment,
} from '../src/web.ts'

const file = readFileSync(new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url))

/** clusters.mkv through the chunker: its header and its 8 fragments. */
function chunked(): { header: HeaderEvent; fragments: ChunkerFragmentEvent[] } {
  const chunker = createClusterChunker()
  const events: ChunkerEvent[] = [...chunker.push(file), ...chunker.end()]
  const header = events.find((event): event is HeaderEvent => event.type === 'header')!
  const fragments = events.filter((event): event is ChunkerFragmentEvent => event.type === 'fragment')
  return { header, fragments }
}

const emulators: Emulator[] = []
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()))
})

/** An emulator with a stream that keeps data (so fragments are PERSISTED), and what to put into it with. */
async function target(faults?: FaultsOption) {
  const emulator = await startEmulator({ port: 0, ...(faults === undefined ? {} : { faults }) })
  emulators.push(emulator)
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  await client.send(new CreateStreamCommand({ StreamName: 'web', DataRetentionInHours: 24 }))
  client.destroy()
  const signer = createKvsSigner({ region: emulator.region, credentials })
  /** Each request `fetch` was asked for, in order. */
  const requests: string[] = []
  const countingFetch: typeof fetch = (input, init) => {
    requests.push(String(input))
    return fetch(input, init)
  }
  return {
    emulator,
    signer,
    requests,
    options: {
      endpoint: emulator.url,
      streamName: 'web',
      signer,
      producerStartTimestamp: Date.now() - 60_000,
      fetch: countingFetch,
    },
  }
}

describe('RequestPacer', () => {
  it('lets the first request go at once and spaces later starts by the interval', () => {
    const pacer = new RequestPacer(200)
    expect(pacer.delayMs(1_000)).toBe(0)
    pacer.started(1_000)
    expect(pacer.delayMs(1_000)).toBe(200)
    expect(pacer.delayMs(1_150)).toBe(50)
    expect(pacer.delayMs(1_200)).toBe(0)
    expect(pacer.delayMs(5_000)).toBe(0)
    pacer.started(1_210)
    expect(pacer.delayMs(1_300)).toBe(110)
  })
})

describe('isRetriableFragmentError', () => {
  const http = (status: number, errorType?: string) =>
    new KvsHttpError(`HTTP ${status}`, { status, errorType, body: errorType === undefined ? 'no' : '' })
  it.each([
    ['a retriable ERROR ack', new KvsErrorAckError('4002', { errorId: 5000, retriable: true }), true],
    ['a final ERROR ack', new KvsErrorAckError('4001', { errorId: 4001, retriable: false }), false],
    ['an abort', new KvsAbortError(), false],
    ['a cut connection', new KvsConnectionError('cut'), true],
    ['throttling', http(400, 'ClientLimitExceededException'), true],
    ['a 503', http(503), true],
    ['expired credentials', http(403, 'ExpiredTokenException'), true],
    ['a refused identity', http(403, 'AccessDeniedException'), false],
    ['an unknown stream', http(404, 'ResourceNotFoundException'), false],
    ['a bad argument', new TypeError('bad'), false],
  ])('%s', (_what, error, retriable) => {
    expect(isRetriableFragmentError(error)).toBe(retriable)
  })
})

describe('putFragment (fetch)', () => {
  it('stores a fragment with one request and resolves with its PERSISTED ack', async () => {
    const { options, requests } = await target()
    const { header, fragments } = chunked()
    const result = await putFragment(options, header, fragments[0]!)
    expect(requests).toHaveLength(1)
    expect(result.fragmentTimecode).toBe(0)
    expect(result.fragmentNumber).toMatch(/^\d{47}$/)
    expect(result.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it("takes any header and fragment of the right shape, not only the chunker's events", async () => {
    const { options } = await target()
    const { header, fragments } = chunked()
    const fragment = fragments[0]!
    const plainHeader: PutHeaderInput = { bytes: header.bytes.slice() }
    const plainFragment: PutFragmentInput = {
      index: 0,
      timecode: fragment.timecode,
      parts: [Buffer.concat(fragment.parts)],
    }
    const result = await putFragment(options, plainHeader, plainFragment)
    expect(result.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
  })

  it('rejects with the typed HTTP error when the stream does not exist', async () => {
    const { options } = await target()
    const { header, fragments } = chunked()
    const error = await putFragment({ ...options, streamName: 'missing' }, header, fragments[0]!).catch(
      (failure: unknown) => failure,
    )
    expect(KvsHttpError.is(error)).toBe(true)
    expect(error).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' })
  })

  it('rejects with KvsErrorAckError for an ERROR ack, naming the ErrorId and whether a resend may help', async () => {
    const { options } = await target({ errorAfterFragments: { count: 0, errorId: 4002 } })
    const { header, fragments } = chunked()
    const error = await putFragment(options, header, fragments[0]!).catch((failure: unknown) => failure)
    expect(KvsErrorAckError.is(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'ERR_KVS_ERROR_ACK',
      errorId: 4002,
      errorCode: 'MAX_FRAGMENT_DURATION_REACHED',
      retriable: false,
    })
  })

  it('refuses a header or fragment of the wrong shape, and bad options, with TypeError', async () => {
    const { options } = await target()
    const { header, fragments } = chunked()
    expect(() => putFragment(options, header, new Uint8Array(4) as never)).toThrow(
      /^fragment must be an object with the fragment's parts and timecode \(as the chunker's fragment event\), got an object$/,
    )
    expect(() => putFragment(options, header, { index: 0, parts: [] } as never)).toThrow(
      /^fragment must be an object with the fragment's parts and timecode/,
    )
    expect(() => putFragment(options, fragments[0]! as never, fragments[0]!)).toThrow(
      /^header must be an object with the header's bytes \(as the chunker's header event\), got an object$/,
    )
    expect(() => putFragment(options, null as never, fragments[0]!)).toThrow(/^header must be .*, got null$/)
    expect(() => createFragmentPutter({ ...options, maxAttempts: 0 })).toThrow(
      /maxAttempts must be an integer >= 1, got 0/,
    )
    expect(() => createFragmentPutter({ ...options, waitFor: 'BUFFERING' as never })).toThrow(
      /waitFor must be/,
    )
  })
})

describe('createFragmentPutter', () => {
  it('stores the 8 fragments of clusters.mkv one request each, each listed once', async () => {
    const { options, requests, emulator, signer } = await target()
    const { header, fragments } = chunked()
    const putter = createFragmentPutter(options)
    const outcomes = await Promise.all(fragments.map((fragment) => putter.put(header, fragment)))
    expect(outcomes.map((outcome) => [outcome.index, outcome.attempts])).toEqual(
      fragments.map((fragment) => [fragment.index, 1]),
    )
    expect(outcomes.map((outcome) => outcome.fragmentTimecode)).toEqual(
      fragments.map((item) => item.timecode),
    )
    expect(requests).toHaveLength(8)
    const listed: string[] = []
    for await (const fragment of listAllFragments({ endpoint: emulator.url, streamName: 'web', signer })) {
      listed.push(fragment.FragmentNumber)
    }
    expect(listed.sort()).toEqual(outcomes.map((outcome) => outcome.fragmentNumber).sort())
  })

  it('sends a fragment again when its connection is cut, and stores it once', async () => {
    const { options, requests, emulator, signer } = await target((_stream, connectionIndex) =>
      connectionIndex === 2 ? { dropAfterBytes: 1000 } : undefined,
    )
    const { header, fragments } = chunked()
    const retries: FragmentRetry[] = []
    const putter = createFragmentPutter({
      ...options,
      // Full jitter: the first resend waits a random point below retryDelayMs (100).
      random: () => 0.5,
      onRetry: (retry) => retries.push(retry),
    })
    const outcomes = []
    for (const fragment of fragments.slice(0, 4)) outcomes.push(await putter.put(header, fragment))
    expect(outcomes.map((outcome) => outcome.attempts)).toEqual([1, 1, 2, 1])
    expect(requests).toHaveLength(5)
    expect(retries).toHaveLength(1)
    expect(retries[0]).toMatchObject({ index: 2, attempt: 1, delayMs: 50 })
    expect(KvsConnectionError.is(retries[0]!.error)).toBe(true)
    const listed: string[] = []
    for await (const fragment of listAllFragments({ endpoint: emulator.url, streamName: 'web', signer })) {
      listed.push(fragment.FragmentNumber)
    }
    expect(listed.sort()).toEqual(outcomes.map((outcome) => outcome.fragmentNumber).sort())
  })

  it('does not resend a fragment the service refused for good', async () => {
    const { options, requests } = await target({ errorAfterFragments: { count: 0, errorId: 4001 } })
    const { header, fragments } = chunked()
    const putter = createFragmentPutter(options)
    const error = await putter.put(header, fragments[0]!).catch((failure: unknown) => failure)
    expect(error).toMatchObject({ code: 'ERR_KVS_ERROR_ACK', errorId: 4001, retriable: false })
    expect(requests).toHaveLength(1)
  })

  it('gives up after maxAttempts requests with the last error', async () => {
    const { options, requests } = await target({ dropAfterBytes: 500 })
    const { header, fragments } = chunked()
    const putter = createFragmentPutter({ ...options, maxAttempts: 3, retryDelayMs: 0 })
    const error = await putter.put(header, fragments[0]!).catch((failure: unknown) => failure)
    expect(KvsConnectionError.is(error)).toBe(true)
    expect(requests).toHaveLength(3)
  })
})

describe('PutFragmentStream', () => {
  it('takes chunker events and emits fragment-acknowledged events in order, violations passed through', async () => {
    const { options } = await target()
    const { header, fragments } = chunked()
    const violation: ChunkerEvent = {
      type: 'violation',
      violation: { kind: 'duration-too-long', errorId: 4002, message: 'm', fragmentIndex: 9, offset: 0 },
    }
    const events: PutFragmentStreamEvent[] = []
    await new ReadableStream<ChunkerEvent>({
      start(controller) {
        controller.enqueue(header)
        controller.enqueue(fragments[0]!)
        controller.enqueue(violation)
        controller.enqueue(fragments[1]!)
        controller.close()
      },
    })
      .pipeThrough(new PutFragmentStream(options))
      .pipeTo(new WritableStream({ write: (event) => void events.push(event) }))
    expect(events.map((event) => event.type)).toEqual([
      'fragment-acknowledged',
      'violation',
      'fragment-acknowledged',
    ])
    expect(events[2]).toMatchObject({ index: 1, attempts: 1, fragmentTimecode: fragments[1]!.timecode })
  })

  it('errors with a TypeError when a fragment comes before any header', async () => {
    const { options } = await target()
    const { fragments } = chunked()
    const piped = new ReadableStream<ChunkerEvent>({
      start(controller) {
        controller.enqueue(fragments[0]!)
        controller.close()
      },
    })
      .pipeThrough(new PutFragmentStream(options))
      .pipeTo(new WritableStream())
    await expect(piped).rejects.toThrow(/chunk must be a header event before the first fragment/)
  })
})
