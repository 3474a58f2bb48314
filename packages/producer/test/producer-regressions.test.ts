// Deterministic regression tests for the three exactly-once bugs an outside fault-injection harness found
// (issue 10), and the hang that followed them: each failed on the code before the fix.
import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { exposeGc } from '@kvs-streams/test-utils'
import { KvsHttpError } from '@kvs-streams/transport'
import { afterEach, describe, expect, test } from 'vitest'
import { createProducer, type ProducerEvent } from '../src/index.ts'
import { listFragmentsLister, type StoredFragmentLister } from '../src/reconcile.ts'
import { feed } from './support/feed.ts'
import { DelayedHeadProxy, LateBytesProxy, LostPersistedProxy } from './support/late-bytes-proxy.ts'
import { makeSource } from './support/media.ts'
import { createStream, credentials } from './support/services.ts'
import { expectExactlyOnce, storedClusterHashes } from './support/verify.ts'

const emulators: Emulator[] = []
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()))
})

async function emulator(options: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const started = await startEmulator({ port: 0, ...options })
  emulators.push(started)
  return started
}

/** The real ListFragments lister against `url`, as the producer makes it. */
function realLister(url: string, region: string, streamName: string): StoredFragmentLister {
  const signer = createKvsSigner({ region, credentials: credentials() })
  return listFragmentsLister({ streamName, signer }, async () => url)
}

describe('bug 1: a wait bounded only by AbortSignal.timeout', () => {
  test('a ListFragments call that never answers, under forced GCs, still ends within its bound: no hang in connecting', async () => {
    const gc = exposeGc()
    const kvs = await emulator({
      faults: (_stream, index) => (index === 0 ? { dropAfterBytes: 90_000 } : undefined),
    })
    await createStream(kvs.url, kvs.region, 'gc-hang')
    const real = realLister(kvs.url, kvs.region, 'gc-hang')
    let calls = 0
    // The first lookup never answers (a response lost after a few bytes); it only gives up when its signal
    // aborts. The producer's bound on it is 500 ms.
    const lister: StoredFragmentLister = (range, signal) => {
      calls++
      if (calls > 1) return real(range, signal)
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'gc-hang',
      region: kvs.region,
      credentials: credentials(),
      endpoint: kvs.url,
      ackStalenessMs: 500,
      retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 20 },
      reconcile: { settleMs: 0, lister },
      statsIntervalMs: 0,
    })
    const media = makeSource({ fragments: 12, seed: 41 })
    const collector = setInterval(gc, 5)
    const started = performance.now()
    try {
      await feed(producer.writable, media)
      const stats = await Promise.race([
        producer.close(),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error(`still ${producer.state} after 8 s`)), 8_000),
        ),
      ])
      expect(stats.fragments).toMatchObject({ accepted: 12, acknowledged: 12, skipped: 0 })
    } finally {
      clearInterval(collector)
      producer.abort()
    }
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(performance.now() - started).toBeLessThan(8_000)
    expectExactlyOnce(await storedClusterHashes(kvs, 'gc-hang'), media)
  }, 20_000)
})

describe("bug 2: an abandoned session's late bytes", () => {
  test('bytes of a given-up session that reach the service after the producer moved on are never stored twice', async () => {
    const kvs = await emulator()
    await createStream(kvs.url, kvs.region, 'late-bytes')
    const proxy = await LateBytesProxy.start({ targetPort: kvs.port, holdAfterBytes: 200_000, lateByMs: 300 })
    try {
      const producer = createProducer({
        fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
        streamName: 'late-bytes',
        region: kvs.region,
        credentials: credentials(),
        endpoint: kvs.url,
        dataEndpoint: proxy.url,
        ackStalenessMs: 2_000,
        retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 20 },
        reconcile: { settleMs: 0 },
        statsIntervalMs: 0,
      })
      const events: ProducerEvent[] = []
      producer.on('possible-duplicate', (event) => events.push(event))
      const media = makeSource({ fragments: 30, seed: 42 })
      await feed(producer.writable, media, { paceMs: 20 })
      const stats = await producer.close()
      expect(proxy.delivered).toBe(true)
      expectExactlyOnce(await storedClusterHashes(kvs, 'late-bytes'), media)
      expect(proxy.lateBytes).toBeGreaterThan(100_000)
      expect(stats.sessions).toBeGreaterThanOrEqual(2)
      expect(stats.fragments).toMatchObject({
        accepted: 30,
        acknowledged: 30,
        skipped: 0,
        possibleDuplicates: 0,
      })
      expect(stats.fragments.reconciled).toBeGreaterThan(0)
      expect(events).toEqual([])
    } finally {
      await proxy.close()
    }
  }, 30_000)
})

describe("bug 2, variant: the abandoned session's request head arrives after the new session's", () => {
  test('the new session is signed in a later second, so the service takes it as the newer: the late one stores nothing', async () => {
    const kvs = await emulator()
    await createStream(kvs.url, kvs.region, 'late-head')
    const proxy = await DelayedHeadProxy.start({ targetPort: kvs.port, lateByMs: 300 })
    // Start on a whole second, so the first session and its replacement (half a second later) would share
    // their x-amz-date second if nothing kept them apart.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)))
    try {
      const producer = createProducer({
        fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
        streamName: 'late-head',
        region: kvs.region,
        credentials: credentials(),
        endpoint: kvs.url,
        dataEndpoint: proxy.url,
        acknowledgeOn: 'PERSISTED',
        ackStalenessMs: 400,
        retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 20 },
        reconcile: { settleMs: 0 },
        statsIntervalMs: 0,
      })
      const media = makeSource({ fragments: 20, seed: 44 })
      await feed(producer.writable, media, { paceMs: 50 })
      const stats = await producer.close()
      await proxy.delivered
      expectExactlyOnce(await storedClusterHashes(kvs, 'late-head'), media)
      expect(proxy.lateBytes).toBeGreaterThan(0)
      expect(proxy.lateStatus).toMatch(/^HTTP\/1\.1 400/)
      expect(stats.fragments).toMatchObject({ accepted: 20, acknowledged: 20, skipped: 0 })
    } finally {
      await proxy.close()
    }
  }, 30_000)
})

describe('bug 3: one refused ListFragments call', () => {
  test('does not turn reconciliation off for the rest of the run: later lost acks are looked up, not resent', async () => {
    // Connection 0 is cut mid-fragment (nothing stored is left unacknowledged); connection 1 stores three
    // fragments whose acks are lost with the connection (delayed, then dropped).
    const kvs = await emulator({
      faults: (_stream, index) =>
        index === 0
          ? { dropAfterBytes: 90_000 }
          : index === 1
            ? { ackDelayMs: 300, dropAfterFragments: 3 }
            : undefined,
    })
    await createStream(kvs.url, kvs.region, 'refused-once')
    const real = realLister(kvs.url, kvs.region, 'refused-once')
    let calls = 0
    const lister: StoredFragmentLister = (range, signal) => {
      calls++
      if (calls === 1) {
        return Promise.reject(
          new KvsHttpError('HTTP 400', {
            status: 400,
            errorType: 'SerializationException',
            requestId: 'r-1',
          }),
        )
      }
      return real(range, signal)
    }
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'refused-once',
      region: kvs.region,
      credentials: credentials(),
      endpoint: kvs.url,
      acknowledgeOn: 'RECEIVED',
      ackStalenessMs: 2_000,
      retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 20 },
      reconcile: { settleMs: 0, lister },
      statsIntervalMs: 0,
    })
    const reconciliations: ProducerEvent[] = []
    producer.on('reconciliation', (event) => reconciliations.push(event))
    const duplicates: ProducerEvent[] = []
    producer.on('possible-duplicate', (event) => duplicates.push(event))
    const media = makeSource({ fragments: 16, seed: 43 })
    await feed(producer.writable, media, { paceMs: 10 })
    const stats = await producer.close()
    expect(calls).toBeGreaterThanOrEqual(2)
    // The refusal is reported (the cut fragment is resent unchecked, said so), and the next failure is
    // reconciled: the three fragments whose acks were lost are found stored.
    expect(reconciliations[0]).toMatchObject({ error: { errorType: 'SerializationException' } })
    expect(duplicates.length).toBeGreaterThan(0)
    expect(reconciliations.some((event) => event.type === 'reconciliation' && event.found >= 3)).toBe(true)
    expect(stats.fragments.reconciled).toBeGreaterThanOrEqual(3)
    expectExactlyOnce(await storedClusterHashes(kvs, 'refused-once'), media)
  }, 30_000)
})

describe('bug 4: a session that goes silent after the last RECEIVED', () => {
  test('a PERSISTED ack lost with nothing left to send ends the session after ackStalenessMs: no hang, stored once', async () => {
    const kvs = await emulator()
    await createStream(kvs.url, kvs.region, 'lost-persisted')
    const fragments = 6
    // Every fragment is RECEIVED on the first connection; the last PERSISTED never arrives, and the connection
    // stays open. Nothing is left to send, so no byte-level timer runs: only an ack deadline can end the wait.
    const proxy = await LostPersistedProxy.start({ targetPort: kvs.port, afterReceived: fragments })
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'lost-persisted',
      region: kvs.region,
      credentials: credentials(),
      endpoint: kvs.url,
      dataEndpoint: proxy.url,
      ackStalenessMs: 400,
      retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 20 },
      reconcile: { settleMs: 0 },
      statsIntervalMs: 0,
    })
    try {
      const states: string[] = []
      producer.on('state', (event) => {
        if (event.state === 'reconnecting') states.push(String((event.cause as Error).message))
      })
      const media = makeSource({ fragments, seed: 45 })
      await feed(producer.writable, media, { paceMs: 20 })
      const started = performance.now()
      const stats = await Promise.race([
        producer.close(),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error('close() did not settle within 10 s: hung')), 10_000),
        ),
      ])
      expect(proxy.dark).toBe(true)
      expect(performance.now() - started).toBeLessThan(10_000)
      expect(states[0]).toMatch(/No response byte for 400 ms while fragment timecode \d+ awaits/)
      expect(stats.fragments).toMatchObject({ accepted: fragments, acknowledged: fragments, skipped: 0 })
      // The last fragment was stored on the first connection: the lookup finds it, it is not sent again.
      expect(stats.fragments.reconciled).toBeGreaterThanOrEqual(1)
      expect(stats.fragments.resent).toBe(0)
      expectExactlyOnce(await storedClusterHashes(kvs, 'lost-persisted'), media)
    } finally {
      producer.abort()
      await proxy.close()
    }
  }, 30_000)
})
