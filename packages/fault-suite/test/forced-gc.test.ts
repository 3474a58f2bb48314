import { performance } from 'node:perf_hooks'
import { startEmulator } from '@kvs-streams/emulator'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  compareDelivery,
  FAULT_BUDGET,
  type FaultWeights,
  formatSummary,
  type GcPressure,
  HostileProxy,
  inSourceOrder,
  makeSource,
  percentiles,
  recoveryTimes,
  startGcPressure,
} from '../src/index.ts'
import { fill } from './support/fill.ts'
import { PRODUCER_BOUND_MS, runProducer } from './support/producer-run.ts'
import { READER_BOUND_MS, runReader } from './support/reader-run.ts'
import { createStream, storedHashes } from './support/services.ts'

let injected = 0
/** One GC loop for the file: its tests run concurrently in this process and all live under it. */
let gc: GcPressure

beforeAll(() => {
  gc = startGcPressure(5, 10)
})

afterAll(() => {
  const collections = gc.stop()
  console.log(`[fault-suite] forced GCs: ${injected} faults injected, ${collections} GCs forced`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.forcedGc)
})

/** Faults each producer run meets at least (it feeds up to `MAX_FRAGMENTS` fragments to get them). */
const MIN_FAULTS = 5
const MAX_FRAGMENTS = 300

/**
 * Faults whose recovery waits on timers (a stale session, a silent GetMedia connection, a ListFragments answer
 * that never comes): with a full GC every few ms, a timeout signal only weakly held is collected before it
 * fires (nodejs/node#57736 on Node 20), and the wait hangs. Each client must still finish within its bound.
 */
const timerFaults: FaultWeights = { stall: 2, 'lost-response': 2, 'half-close-response': 1, reset: 1 }

describe.concurrent('forced GCs every 5 ms in the client process (a full one every 50 ms)', () => {
  test.for([401, 402, 403])(
    `the producer stores every fragment exactly once within ${PRODUCER_BOUND_MS / 1000} s through stalls and lost responses (seed %i)`,
    { timeout: PRODUCER_BOUND_MS + 30_000 },
    async (seed, { expect }) => {
      const started = performance.now()
      const emulator = await startEmulator({ port: 0 })
      const proxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed,
        weights: timerFaults,
        routes: [
          {
            match: /^POST \/listFragments/,
            // Most lookups never answer: only the producer's own bound on the call gets it out.
            weights: { 'lost-response': 2, stall: 1, none: 1 },
            responseBytes: [1, 200],
          },
        ],
        requestBytes: [2_000, 60_000],
        // Longer than the client's bound: only the client's own timers can get it out of a stall.
        maxStallMs: 120_000,
      })
      const gcBefore = gc.collections
      let collections = 0
      try {
        const streamName = `gc-producer-${seed}`
        await createStream(emulator.url, streamName)
        // How many connections a run takes, and so how many faults it meets, depends on the machine's speed
        // (a watchdog that fires late lets one faulty connection carry more fragments): the run goes on past
        // 100 fragments until the proxy has injected at least MIN_FAULTS.
        const media = makeSource({ fragments: MAX_FRAGMENTS, clusterBytes: 10_000, seed })
        const run = await runProducer({
          streamName,
          endpoint: emulator.url,
          dataEndpoint: proxy.url,
          media,
          paceMs: 20,
          enough: (fed) => fed >= 100 && proxy.total >= MIN_FAULTS,
        })
        const fedHashes = media.hashes.slice(0, run.fed)
        collections = gc.collections - gcBefore
        await proxy.drain()
        const stored = await storedHashes(emulator, streamName)
        const delivery = compareDelivery(stored, fedHashes)
        injected += proxy.total
        console.log(
          formatSummary({
            scenario: 'producer/forced GCs, stalls and lost responses',
            seed,
            faults: proxy.counts.byKind,
            forcedGcs: collections,
            fragments: fedHashes.length,
            delivery,
            recoveryMs: percentiles(
              recoveryTimes(
                proxy.faults.map((fault) => fault.atMs),
                run.progressMs,
              ),
            ),
            wallMs: performance.now() - started,
            ...(run.error === undefined ? {} : { failure: String(run.error) }),
          }),
        )
        expect(run.error).toBeUndefined()
        expect(delivery).toEqual({ missing: [], duplicated: [], unknown: 0 })
        expect(run.fed).toBeGreaterThanOrEqual(100)
        expect(run.stats?.fragments).toMatchObject({ accepted: run.fed, acknowledged: run.fed, skipped: 0 })
        expect(collections).toBeGreaterThan(100)
        expect(proxy.total).toBeGreaterThanOrEqual(MIN_FAULTS)
      } finally {
        await proxy.close()
        await emulator.close()
      }
    },
  )

  test.for([411, 412])(
    `readStream reads every fragment once, in order, within ${READER_BOUND_MS / 1000} s through stalls and lost responses (seed %i)`,
    { timeout: READER_BOUND_MS + 30_000 },
    async (seed, { expect }) => {
      const started = performance.now()
      const emulator = await startEmulator({ port: 0 })
      const proxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed,
        weights: timerFaults,
        triggerOn: 'response',
        responseBytes: [5_000, 80_000],
        maxStallMs: 120_000,
      })
      let collections = 0
      try {
        const streamName = `gc-reader-${seed}`
        await createStream(emulator.url, streamName)
        const media = makeSource({ fragments: 100, clusterBytes: 10_000, seed })
        await fill(emulator.url, streamName, media)
        const gcBefore = gc.collections
        const run = await runReader({
          streamName,
          endpoint: emulator.url,
          dataEndpoint: proxy.url,
          fragments: media.hashes.length,
        })
        collections = gc.collections - gcBefore
        const delivery = compareDelivery(run.hashes, media.hashes)
        injected += proxy.total
        console.log(
          formatSummary({
            scenario: 'readStream/forced GCs, stalls and lost responses',
            seed,
            faults: proxy.counts.byKind,
            forcedGcs: collections,
            fragments: media.hashes.length,
            delivery,
            recoveryMs: percentiles(
              recoveryTimes(
                proxy.faults.map((fault) => fault.atMs),
                run.progressMs,
              ),
            ),
            wallMs: performance.now() - started,
            ...(run.error === undefined ? {} : { failure: String(run.error) }),
          }),
        )
        expect(run.error).toBeUndefined()
        expect(delivery).toEqual({ missing: [], duplicated: [], unknown: 0 })
        expect(inSourceOrder(run.hashes, media.hashes)).toBe(true)
        expect(run.incomplete).toBe(0)
        expect(inSourceOrder(await storedHashes(emulator, streamName), media.hashes)).toBe(true)
        expect(collections).toBeGreaterThan(100)
        expect(proxy.total).toBeGreaterThanOrEqual(10)
      } finally {
        await proxy.close()
        await emulator.close()
      }
    },
  )
})
