import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { afterAll, describe, expect, test } from 'vitest'
import { createProducer, type ProducerOptions } from '../src/index.ts'
import { FaultProxy } from './support/fault-proxy.ts'
import { FAULT_BUDGET } from './support/faults.ts'
import { feed } from './support/feed.ts'
import { makeSource } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { createStream, credentials } from './support/services.ts'
import { expectExactlyOnce } from './support/verify.ts'

let injected = 0

afterAll(() => {
  console.log(`faults injected (proxy): ${injected}`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.proxy)
})

/** A producer for `streamName` whose data plane goes through `proxy`, with test-sized timers. */
function producerThrough(
  emulator: Emulator,
  proxy: FaultProxy,
  streamName: string,
  overrides: Partial<ProducerOptions> = {},
) {
  return createProducer({
    fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
    streamName,
    region: emulator.region,
    credentials: credentials(),
    endpoint: emulator.url,
    dataEndpoint: proxy.url,
    ackStalenessMs: 250,
    connectTimeoutMs: 2_000,
    retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 50 },
    // ListFragments goes through the proxy too, and meets its faults.
    reconcile: { settleMs: 50 },
    statsIntervalMs: 0,
    ...overrides,
  })
}

interface Scenario {
  name: string
  seed: number
  faultAfterBytes?: [number, number]
  faultAfterMs?: [number, number]
  stallShare: number
  paceMs: number
  /** Faults this scenario must inject at least (the seeds make the counts reproducible up to timing). */
  minFaults: number
}

const scenarios: Scenario[] = [
  // Resets at a byte position, mostly inside the burst a new session resends: acks are lost wholesale and
  // reconciliation has to tell which fragments the emulator stored.
  {
    name: 'resets at random bytes',
    seed: 11,
    faultAfterBytes: [5_000, 160_000],
    stallShare: 0,
    paceMs: 3,
    minFaults: 40,
  },
  // Resets and stalls at random times, while acks flow.
  {
    name: 'resets and stalls at random times',
    seed: 12,
    faultAfterMs: [5, 50],
    stallShare: 0.08,
    paceMs: 4,
    minFaults: 8,
  },
  // Both, with more stalls.
  {
    name: 'resets and stalls at random bytes or times',
    seed: 13,
    faultAfterBytes: [20_000, 400_000],
    faultAfterMs: [10, 120],
    stallShare: 0.15,
    paceMs: 3,
    minFaults: 25,
  },
]

describe('through a proxy that resets and stalls connections', () => {
  test.each(scenarios)(
    'stores every fragment exactly once: $name (seed $seed)',
    async (scenario) => {
      // The proxy cuts connections but never corrupts a body: any ERROR 4006 means bytes went missing
      // mid-stream (a proxy bug, or the client's), never a fault the network can make.
      const invalidMkv: string[] = []
      const emulator = await startEmulator({
        port: 0,
        logger: {
          info: (message, fields) => {
            if (message === 'PutMedia error' && fields?.errorId === 4006)
              invalidMkv.push(String(fields.message))
          },
        },
      })
      const proxy = await FaultProxy.start({
        targetPort: emulator.port,
        seed: scenario.seed,
        ...(scenario.faultAfterBytes ? { faultAfterBytes: scenario.faultAfterBytes } : {}),
        ...(scenario.faultAfterMs ? { faultAfterMs: scenario.faultAfterMs } : {}),
        stallShare: scenario.stallShare,
        maxStallMs: 5_000,
      })
      try {
        const streamName = `proxy-${scenario.seed}`
        await createStream(emulator.url, emulator.region, streamName)
        const producer = producerThrough(emulator, proxy, streamName)
        const media = makeSource({ fragments: 250, seed: scenario.seed })
        let reconnects = 0
        producer.on('state', (event) => {
          if (event.state === 'reconnecting') reconnects++
        })
        await feed(producer.writable, media, { paceMs: scenario.paceMs, chunkBytes: 16_384 })
        const stats = await producer.close()
        const faults = proxy.counts.resets + proxy.counts.stalls
        injected += faults
        expect(invalidMkv).toEqual([])
        expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, streamName), media)
        expect(faults).toBeGreaterThanOrEqual(scenario.minFaults)
        // Each fault ends a connection; one that finds nothing unacknowledged needs no reconnect (the next
        // fragment opens a session), one on a ListFragments request belongs to no session.
        expect(stats.sessions).toBeGreaterThan(faults / 2)
        expect(reconnects).toBeGreaterThan(0)
        expect(stats.fragments).toMatchObject({ accepted: 250, acknowledged: 250, skipped: 0, buffered: 0 })
        expect(stats.fragments.received + stats.fragments.reconciled).toBeGreaterThanOrEqual(250)
        if (scenario.stallShare > 0) expect(proxy.counts.stalls).toBeGreaterThan(0)
      } finally {
        await proxy.close()
        await emulator.close()
      }
    },
    60_000,
  )
})
