import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { KinesisVideoClient, ListStreamsCommand } from '@aws-sdk/client-kinesis-video'
import { KvsConnectionError } from '@kvs-streams/transport'
import { describe, expect, onTestFinished, test } from 'vitest'
import { createProducer, END_OF_FRAGMENT_TAGS, ProducerError, type ProducerEvent } from '../src/index.ts'
import { feed, write } from './support/feed.ts'
import { makeSource } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { FAST, ofType, producerFor, record, testEmulator } from './support/run.ts'
import { createStream, credentials } from './support/services.ts'
import { expectExactlyOnce, storedClusterHashes } from './support/verify.ts'

/** A data endpoint nothing listens on: every connection is refused. */
const UNREACHABLE = 'http://127.0.0.1:1'

describe('createProducer', () => {
  test('puts every fragment and resolves close() once all are PERSISTED, with acks, latencies and states reported', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'happy')
    const collected = (async () => {
      const events: ProducerEvent[] = []
      for await (const event of producer.events()) events.push(event)
      return events
    })()
    const media = makeSource({ fragments: 20, seed: 1 })
    await feed(producer.writable, media)
    const stats = await producer.close()
    const events = await collected

    expect(ofType(events, 'state').map((event) => [event.state, event.reason])).toEqual([
      ['connecting', 'start'],
      ['streaming', 'start'],
      ['closed', 'end'],
    ])
    const acknowledged = ofType(events, 'fragment-acknowledged')
    expect(acknowledged.map((event) => event.fragment.index)).toEqual([...Array(20).keys()])
    expect(acknowledged.map((event) => event.fragment.timecode)).toEqual(media.timecodes)
    for (const event of acknowledged) {
      expect(event).toMatchObject({ acknowledgedBy: 'PERSISTED', sends: 1 })
      expect(event.fragmentNumber).toMatch(/^\d{47}$/)
      expect(event.latencyMs).toBeGreaterThanOrEqual(0)
    }
    const acks = ofType(events, 'ack').filter((event) => event.fragment?.index === 3)
    expect(acks.map((event) => event.ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    expect(stats).toMatchObject({
      state: 'closed',
      fragments: {
        accepted: 20,
        buffered: 0,
        sent: 20,
        resent: 0,
        received: 20,
        persisted: 20,
        acknowledged: 20,
      },
      replayBuffer: { bytes: 0, durationMs: 0 },
      sessions: 1,
      reconnects: 0,
      consecutiveFailures: 0,
    })
    expect(stats.ackLatencyMs.persisted.count).toBe(20)
    expect(stats.ackLatencyMs.persisted.p99).toBeGreaterThanOrEqual(stats.ackLatencyMs.persisted.p50!)
    const clusterBytes = media.clusters.reduce((sum, cluster) => sum + cluster.length, 0)
    expect(stats.bytesSent).toBeGreaterThan(clusterBytes + 20 * END_OF_FRAGMENT_TAGS.length)
    expect(ofType(events, 'stats').at(-1)?.stats).toEqual(stats)
    expectExactlyOnce(await storedClusterHashes(emulator, 'happy'), media)
  })

  test('acknowledges on RECEIVED when the stream keeps no data (DataRetentionInHours 0)', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'no-retention', {}, 0)
    const events = record(producer)
    await feed(producer.writable, makeSource({ fragments: 5 }))
    const stats = await producer.close()
    expect(ofType(events, 'fragment-acknowledged').map((event) => event.acknowledgedBy)).toEqual(
      Array(5).fill('RECEIVED'),
    )
    expect(ofType(events, 'ack').some((event) => event.ack.eventType === 'PERSISTED')).toBe(false)
    expect(stats.fragments).toMatchObject({ received: 5, persisted: 0, acknowledged: 5 })
  })

  test("acknowledgeOn 'RECEIVED' settles fragments at RECEIVED and still counts the PERSISTED acks that follow", async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'received-first', { acknowledgeOn: 'RECEIVED' })
    const events = record(producer)
    await feed(producer.writable, makeSource({ fragments: 5 }))
    const stats = await producer.close()
    expect(ofType(events, 'fragment-acknowledged').map((event) => event.acknowledgedBy)).toEqual(
      Array(5).fill('RECEIVED'),
    )
    expect(stats.fragments).toMatchObject({ received: 5, persisted: 5, acknowledged: 5 })
    expect(stats.ackLatencyMs.persisted.count).toBe(5)
  })

  test('producers can share one control-plane client, which outlives them', async () => {
    const emulator = await testEmulator()
    const client = new KinesisVideoClient({
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
    })
    onTestFinished(() => client.destroy())
    for (const streamName of ['shared-1', 'shared-2']) {
      await createStream(emulator.url, emulator.region, streamName)
      const producer = createProducer({
        fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
        streamName,
        region: emulator.region,
        credentials: credentials(),
        client,
        ...FAST,
      })
      const media = makeSource({ fragments: 4 })
      await feed(producer.writable, media)
      await producer.close()
      expectExactlyOnce(await storedClusterHashes(emulator, streamName), media)
    }
    const listed = await client.send(new ListStreamsCommand({}))
    expect(listed.StreamInfoList?.map((info) => info.StreamName)).toEqual(['shared-1', 'shared-2'])
  })

  test('pipeline(source, producer.writable) resolves only once every fragment is acknowledged', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'pipeline')
    const media = makeSource({ fragments: 10 })
    await pipeline(Readable.from([media.header, ...media.clusters]), producer.writable)
    expect(producer.stats().fragments).toMatchObject({ accepted: 10, acknowledged: 10, buffered: 0 })
    expect(producer.state).toBe('closed')
    await expect(producer.close()).resolves.toMatchObject({ fragments: { acknowledged: 10 } })
  })

  test("holds the writer's callbacks while the replay buffer is full and releases them as fragments are acknowledged", async () => {
    const emulator = await testEmulator({ faults: { ackDelayMs: 60 } })
    const maxBytes = 50_000 // room for two ~20 KB fragments: a third one fills the buffer
    const producer = await producerFor(emulator, 'block', { replayBuffer: { maxBytes } })
    const media = makeSource({ fragments: 12 })
    const order: string[] = []
    producer.on('fragment-acknowledged', (event) => order.push(`ack ${event.fragment.index}`))
    await write(producer.writable, media.header)
    for (const [index, cluster] of media.clusters.entries()) {
      await write(producer.writable, cluster)
      order.push(`write ${index}`)
      expect(producer.stats().replayBuffer.bytes).toBeLessThan(maxBytes)
    }
    await producer.close()
    // Cluster k completes fragment k-1: once its write returns, at most two fragments are unacknowledged.
    for (let k = 3; k < 12; k++) {
      const acknowledgedBefore = order
        .slice(0, order.indexOf(`write ${k}`))
        .filter((entry) => entry.startsWith('ack'))
      expect(acknowledgedBefore.length, `acks before write ${k}`).toBeGreaterThanOrEqual(k - 2)
    }
  })

  test("whenFull 'drop-oldest' never holds the writer: the oldest fragments are dropped and reported", async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'drop')
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'drop',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      dataEndpoint: UNREACHABLE,
      ...FAST,
      replayBuffer: { maxBytes: 50_000 },
      whenFull: 'drop-oldest',
    })
    const events = record(producer)
    await feed(producer.writable, makeSource({ fragments: 10 }))
    // Nine fragments are complete (the tenth waits for the end of input); two fit in the buffer.
    expect(ofType(events, 'fragment-skipped').map((event) => [event.fragment.index, event.reason])).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((index) => [index, 'buffer-full']),
    )
    expect(producer.stats().fragments).toMatchObject({ accepted: 9, buffered: 2, skipped: 7, fateUnknown: 0 })
    // Never sent: known not stored.
    expect(new Set(ofType(events, 'fragment-skipped').map((event) => event.fate))).toEqual(
      new Set(['not-stored']),
    )
    producer.abort(new Error('test over'))
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_ABORTED' })
  })

  test("whenFull 'drop-oldest': a fragment dropped after it was sent is reported with fate 'unknown', never as not stored", async () => {
    // Acks come 2 s late: fragments are sent, then dropped from the full buffer before any answer.
    const emulator = await testEmulator({ faults: { ackDelayMs: 2_000 } })
    await createStream(emulator.url, emulator.region, 'drop-sent')
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'drop-sent',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      ...FAST,
      ackStalenessMs: 10_000,
      replayBuffer: { maxBytes: 50_000 },
      whenFull: 'drop-oldest',
    })
    const events = record(producer)
    const media = makeSource({ fragments: 10 })
    await feed(producer.writable, media, { paceMs: 20 })
    const error = await producer.close().then(
      () => undefined,
      (failure: unknown) => failure,
    )
    const skipped = ofType(events, 'fragment-skipped')
    expect(skipped.length).toBeGreaterThan(0)
    expect(skipped.every((event) => event.fate === 'unknown')).toBe(true)
    const { fragments } = producer.stats()
    expect(fragments.fateUnknown).toBe(skipped.length)
    expect(error).toMatchObject({ code: 'ERR_KVS_PRODUCER_INCOMPLETE' })
    expect((error as Error).message).toContain(`${skipped.length} sent and dropped before an answer`)
    // What the stream holds: every fragment, the dropped ones included (they were sent whole): "unknown" was
    // the exact report.
    expect(emulator.storage.listFragments('drop-sent')).toHaveLength(10)
  }, 20_000)

  test('a write waits while the endpoint is unreachable and the buffer is full; abort() fails it', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'held')
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'held',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      dataEndpoint: UNREACHABLE,
      ...FAST,
      replayBuffer: { maxBytes: 50_000 },
    })
    const media = makeSource({ fragments: 5 })
    await write(producer.writable, media.header)
    for (const cluster of media.clusters.slice(0, 3)) await write(producer.writable, cluster)
    let settled = false
    const held = write(producer.writable, media.clusters[3]!).finally(() => {
      settled = true
    })
    await sleep(100)
    expect(settled).toBe(false)
    expect(producer.state).not.toBe('closed')
    producer.abort(new Error('give up'))
    await expect(held).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_ABORTED' })
  })

  test('gives up after retry.maxAttempts failures without progress, with ERR_KVS_PRODUCER_TOO_MANY_FAILURES and the last cause', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'unreachable')
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'unreachable',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      dataEndpoint: UNREACHABLE,
      ...FAST,
      retry: { initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 },
    })
    const events = record(producer)
    const errors: Error[] = []
    producer.on('error', (error) => errors.push(error))
    await feed(producer.writable, makeSource({ fragments: 3 }))
    const failure = await producer.close().catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'ERR_KVS_PRODUCER_TOO_MANY_FAILURES', attempts: 3 })
    expect(KvsConnectionError.is((failure as Error).cause)).toBe(true)
    expect(errors).toEqual([failure])
    const reconnecting = ofType(events, 'state').filter((event) => event.state === 'reconnecting')
    expect(reconnecting.map((event) => event.attempt)).toEqual([1, 2])
    for (const event of reconnecting) expect(KvsConnectionError.is(event.cause)).toBe(true)
    expect(ofType(events, 'state').at(-1)).toMatchObject({ state: 'closed', reason: 'fatal', cause: failure })
    expect(producer.writable.destroyed).toBe(true)
  })

  test('fails with ERR_KVS_PRODUCER_STREAM_NOT_FOUND when the stream does not exist (DescribeStream or PutMedia)', async () => {
    const emulator = await testEmulator()
    const common = {
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      fragmentTimecodeType: 'ABSOLUTE' as const, // the test media's timecodes are wall-clock times
      ...FAST,
    }
    const described = createProducer({ streamName: 'missing', ...common })
    await feed(described.writable, makeSource({ fragments: 2 }))
    await expect(described.close()).rejects.toMatchObject({
      code: 'ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
      status: 404,
      cause: { name: 'ResourceNotFoundException' },
    })
    const put = createProducer({
      streamName: 'missing',
      ...common,
      dataEndpoint: emulator.url,
      acknowledgeOn: 'PERSISTED',
    })
    await feed(put.writable, makeSource({ fragments: 2 }))
    await expect(put.close()).rejects.toMatchObject({
      code: 'ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
      status: 404,
    })
  })

  test('fails with ERR_KVS_PRODUCER_NOT_AUTHORIZED for credentials the service does not know', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'private')
    const stranger = { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'nope' }
    const common = {
      streamName: 'private',
      region: emulator.region,
      endpoint: emulator.url,
      fragmentTimecodeType: 'ABSOLUTE' as const, // the test media's timecodes are wall-clock times
      ...FAST,
    }
    for (const options of [
      { ...common, credentials: { ...stranger } },
      {
        ...common,
        credentials: { ...stranger },
        dataEndpoint: emulator.url,
        acknowledgeOn: 'PERSISTED' as const,
      },
    ]) {
      const producer = createProducer(options)
      await feed(producer.writable, makeSource({ fragments: 2 }))
      await expect(producer.close()).rejects.toMatchObject({
        code: 'ERR_KVS_PRODUCER_NOT_AUTHORIZED',
        status: 403,
      })
    }
  })

  test('a second MKV segment in the input ends the session and starts one with the new header', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'two-segments')
    const events = record(producer)
    const first = makeSource({ fragments: 6, seed: 5, width: 640 })
    const second = makeSource({
      fragments: 6,
      seed: 6,
      width: 1280,
      startTimecode: first.timecodes[5]! + 1000,
    })
    await feed(producer.writable, first)
    await feed(producer.writable, second)
    const stats = await producer.close()
    expect(ofType(events, 'violation').map((event) => event.violation.kind)).toEqual(['second-segment'])
    expect(
      ofType(events, 'state')
        .filter((event) => event.state === 'connecting')
        .map((event) => event.reason),
    ).toEqual(['start', 'header'])
    expect(stats).toMatchObject({ sessions: 2, rotations: 1, reconnects: 0 })
    const stored = emulator.storage.listFragments('two-segments')
    const headers = await Promise.all(
      stored.map(
        async (info) => (await emulator.storage.readFragment('two-segments', info.fragmentNumber))!.header,
      ),
    )
    expect(new Set(headers.slice(0, 6).map((header) => Buffer.from(header).toString('hex'))).size).toBe(1)
    expect(Buffer.from(headers[0]!).equals(Buffer.from(headers[6]!))).toBe(false)
    const hashes = await readBackClusterHashes(emulator.url, emulator.region, 'two-segments')
    expectExactlyOnce(hashes, { ...first, hashes: [...first.hashes, ...second.hashes] })
  })

  test('input that is not MKV fails the write and close() with ERR_KVS_PRODUCER_INVALID_INPUT after delivering what came before', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'broken')
    const media = makeSource({ fragments: 5 })
    await feed(producer.writable, media)
    await expect(write(producer.writable, new Uint8Array([0, 0, 0, 0, 1, 2, 3]))).rejects.toMatchObject({
      code: 'ERR_KVS_PRODUCER_INVALID_INPUT',
    })
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_INVALID_INPUT' })
    expect(producer.stats().fragments).toMatchObject({ accepted: 5, acknowledged: 5 })
    expectExactlyOnce(await storedClusterHashes(emulator, 'broken'), media)
  })

  test("onViolation 'throw' stops the input at a fragment the service would reject", async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'strict', { onViolation: 'throw' })
    const media = makeSource({ fragments: 8, tooLong: [4] })
    await expect(feed(producer.writable, media)).rejects.toMatchObject({
      code: 'ERR_KVS_PRODUCER_VIOLATION',
      errorId: 4002,
    })
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_VIOLATION' })
    expect(producer.stats().fragments).toMatchObject({ accepted: 4, acknowledged: 4 })
  })

  test('abort through the signal stops at once: close() rejects with ERR_KVS_PRODUCER_ABORTED and the reason', async () => {
    const emulator = await testEmulator({ faults: { ackDelayMs: 200 } })
    const controller = new AbortController()
    const producer = await producerFor(emulator, 'aborted', { signal: controller.signal })
    const events = record(producer)
    await feed(producer.writable, makeSource({ fragments: 5 }))
    const reason = new Error('shutting down')
    controller.abort(reason)
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_ABORTED', cause: reason })
    expect(ofType(events, 'state').at(-1)).toMatchObject({ state: 'closed', reason: 'aborted' })
    expect(producer.writable.destroyed).toBe(true)
  })

  test('copyInput: a writer that reuses its buffer once the callback ran does not corrupt buffered fragments', async () => {
    const emulator = await testEmulator({ faults: { ackDelayMs: 30 } })
    const producer = await producerFor(emulator, 'reused', { copyInput: true })
    const media = makeSource({ fragments: 12 })
    const scratch = Buffer.alloc(64 * 1024)
    for (const chunk of [media.header, ...media.clusters]) {
      scratch.set(chunk)
      await write(producer.writable, scratch.subarray(0, chunk.length))
      scratch.fill(0xee)
    }
    await producer.close()
    expectExactlyOnce(await storedClusterHashes(emulator, 'reused'), media)
  })

  test('RELATIVE timecodes: a connection dropped after RECEIVED is reconciled by producer start + timecode', async () => {
    const emulator = await testEmulator({
      faults: (_stream, connection) => (connection < 6 ? { dropAfterFragments: 3 } : undefined),
    })
    const producer = await producerFor(emulator, 'relative', {
      fragmentTimecodeType: 'RELATIVE',
      producerStartTimestamp: Date.now() - 60_000,
    })
    const events = record(producer)
    const media = makeSource({ fragments: 40, startTimecode: 0 })
    await feed(producer.writable, media, { paceMs: 2 })
    const stats = await producer.close()
    const reconciliations = ofType(events, 'reconciliation')
    expect(reconciliations.length).toBeGreaterThanOrEqual(6)
    expect(reconciliations.every((event) => event.error === undefined)).toBe(true)
    expect(stats.fragments.reconciled).toBeGreaterThan(0)
    expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'relative'), media)
  })

  test('a session the service closes for idleness is replaced when data comes again, without counting a failure', async () => {
    const emulator = await testEmulator({ idleTimeoutMs: 150, idleAckIntervalMs: 50 })
    const producer = await producerFor(emulator, 'intermittent')
    const events = record(producer)
    const media = makeSource({ fragments: 8 })
    await write(producer.writable, media.header)
    for (const cluster of media.clusters.slice(0, 4)) await write(producer.writable, cluster)
    await sleep(400)
    for (const cluster of media.clusters.slice(4)) await write(producer.writable, cluster)
    const stats = await producer.close()
    expect(stats).toMatchObject({ sessions: 2, reconnects: 0, consecutiveFailures: 0 })
    expect(
      ofType(events, 'state')
        .filter((event) => event.state === 'connecting')
        .map((event) => event.reason),
    ).toEqual(['start', 'resume'])
    expectExactlyOnce(await storedClusterHashes(emulator, 'intermittent'), media)
  })

  test.each([true, false])(
    'an input pause three times ackStalenessMs is not a stale session (endOfFragmentTags %s): one session, no reconnect',
    async (endOfFragmentTags) => {
      // Nothing is unanswered during the pause: with the tags every fragment is settled; without them the last
      // one cannot complete until the next starts, and is not waited for.
      const emulator = await testEmulator()
      const producer = await producerFor(emulator, 'paused', { endOfFragmentTags })
      const media = makeSource({ fragments: 6 })
      await write(producer.writable, media.header)
      for (const cluster of media.clusters.slice(0, 3)) await write(producer.writable, cluster)
      await sleep(900)
      for (const cluster of media.clusters.slice(3)) await write(producer.writable, cluster)
      const stats = await producer.close()
      expect(stats).toMatchObject({ sessions: 1, reconnects: 0, consecutiveFailures: 0 })
      expectExactlyOnce(await storedClusterHashes(emulator, 'paused'), media)
    },
  )
})

describe('without a service', () => {
  test('close() without input resolves at once, without a connection', async () => {
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'nothing',
      region: 'us-east-1',
      credentials: credentials(),
      dataEndpoint: UNREACHABLE,
      acknowledgeOn: 'RECEIVED',
    })
    const events = record(producer)
    await expect(producer.close()).resolves.toMatchObject({
      state: 'closed',
      sessions: 0,
      fragments: { accepted: 0 },
    })
    expect(ofType(events, 'state').map((event) => event.state)).toEqual(['closed'])
    const iterator = producer.events()
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  test('periodic stats report the replay buffer filling while the service cannot be reached', async () => {
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'stats',
      region: 'us-east-1',
      credentials: credentials(),
      dataEndpoint: UNREACHABLE,
      acknowledgeOn: 'RECEIVED',
      ...FAST,
      statsIntervalMs: 20,
    })
    const reports: number[] = []
    producer.on('stats', (event) => reports.push(event.stats.replayBuffer.bytes))
    const media = makeSource({ fragments: 6 })
    await feed(producer.writable, media)
    while (reports.length < 2) await sleep(20)
    const expected = media.clusters.slice(0, 5).reduce((sum, cluster) => sum + cluster.length, 0)
    expect(reports.at(-1)).toBe(expected)
    expect(producer.stats()).toMatchObject({ fragments: { buffered: 5 } })
    expect(['connecting', 'reconnecting']).toContain(producer.state)
    expect(producer.stats().replayBuffer.durationMs).toBeGreaterThan(0)
    producer.abort()
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_ABORTED' })
  })
})

describe('options', () => {
  test.each([
    [{ streamName: '' }, 'streamName must be a stream name'],
    [
      { streamName: 's', region: 'us-east-1', whenFull: 'drop' },
      "whenFull must be 'block' or 'drop-oldest', got \"drop\"",
    ],
    [
      { streamName: 's', region: 'us-east-1', replayBuffer: { maxBytes: 0 } },
      'replayBuffer.maxBytes must be a number > 0, got 0',
    ],
    [
      { streamName: 's', region: 'us-east-1', retry: { maxAttempts: 0 } },
      'retry.maxAttempts must be a number >= 1, got 0',
    ],
    [
      { streamName: 's', region: 'us-east-1', retry: { maxAttempts: 1.5 } },
      'retry.maxAttempts must be an integer >= 1 or Infinity, got 1.5',
    ],
    [
      { streamName: 's', region: 'us-east-1', replayBuffer: { maxBytes: Number.NaN } },
      'replayBuffer.maxBytes must be a number > 0, got NaN',
    ],
    [
      { streamName: 's', region: 'us-east-1', ackStalenessMs: Number.POSITIVE_INFINITY },
      'ackStalenessMs must be a finite number of milliseconds, got Infinity',
    ],
    [
      { streamName: 's', region: 'us-east-1', retry: { initialDelayMs: 500, maxDelayMs: 100 } },
      'retry.maxDelayMs must be at least',
    ],
    [
      { streamName: 's', region: 'us-east-1', acknowledgeOn: 'BUFFERING' },
      "acknowledgeOn must be 'PERSISTED' or 'RECEIVED'",
    ],
    [{ streamName: 's', region: 'us-east-1', endpoint: 'not a url' }, 'endpoint must be an http(s) URL'],
    [
      { streamName: 's', region: 'us-east-1', reconcile: 'yes' },
      'reconcile must be a boolean or { settleMs?, lister? }',
    ],
    [
      { streamName: 's', region: 'us-east-1', maxConnectionDurationMs: 0 },
      'maxConnectionDurationMs must be a number > 0, got 0',
    ],
  ])('rejects %o with a TypeError', (options, message) => {
    expect(() => createProducer(options as never)).toThrow(TypeError)
    expect(() => createProducer(options as never)).toThrow(message)
  })

  test('ProducerError.is recognises the errors across copies of the package', () => {
    const error = new ProducerError('ERR_KVS_PRODUCER_ABORTED', 'stop')
    expect(ProducerError.is(error)).toBe(true)
    expect(ProducerError.is({ [Symbol.for('kvs-streams.producer-error')]: 'ERR_KVS_PRODUCER_ABORTED' })).toBe(
      true,
    )
    expect(ProducerError.is(new Error('other'))).toBe(false)
    expect(error).toMatchObject({ name: 'ProducerError', code: 'ERR_KVS_PRODUCER_ABORTED', skipped: [] })
  })
})
