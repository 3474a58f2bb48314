import { performance } from 'node:perf_hooks'
import { startEmulator } from '@kvs-streams/emulator'
import { afterAll, describe, expect, test } from 'vitest'
import {
  compareDelivery,
  FAULT_BUDGET,
  type FaultRoute,
  type FaultWeights,
  formatSummary,
  HostileProxy,
  makeSource,
  percentiles,
  recoveryTimes,
} from '../src/index.ts'
import { PRODUCER_BOUND_MS, runProducer } from './support/producer-run.ts'
import { createStream, storedHashes } from './support/services.ts'

let injected = 0

afterAll(() => {
  console.log(`[fault-suite] producer through the hostile proxy: ${injected} faults injected`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.producerProxy)
})

interface Scenario {
  name: string
  seed: number
  weights: FaultWeights
  dripShare?: number
  delayedHeadShare?: number
  routes?: FaultRoute[]
  requestBytes?: [number, number]
  /**
   * Faults this scenario must inject at least: about half the fewest seen in runs, as the count depends on
   * timing (a fault that lets a session carry many fragments leaves fewer connections to fault).
   */
  minFaults: number
}

/** ListFragments answers cut after a few bytes, by a FIN or by dropping the rest. */
const cutListFragments: FaultRoute = {
  match: /^POST \/listFragments/,
  weights: { 'lost-response': 1, 'half-close-response': 1, none: 1 },
  responseBytes: [1, 40],
}

const everyKind: FaultWeights = {
  reset: 3,
  stall: 1,
  'half-close-request': 2,
  'half-close-response': 2,
  'lost-response': 2,
  'late-bytes': 3,
}

/** ListFragments (reconciliation) meets the scenario's fault on one call in three. */
const sometimes = (weights: FaultWeights): FaultRoute => ({
  match: /^POST \/listFragments/,
  weights: { ...weights, none: 2 },
  responseBytes: [1, 200],
})

const scenarios: Scenario[] = [
  { name: 'resets', seed: 101, weights: { reset: 1 }, minFaults: 30 },
  { name: 'stalls', seed: 102, weights: { stall: 1 }, minFaults: 30 },
  { name: 'slow drips, then resets', seed: 103, weights: { reset: 1 }, dripShare: 0.3, minFaults: 50 },
  { name: 'half-closed requests', seed: 104, weights: { 'half-close-request': 1 }, minFaults: 30 },
  { name: 'half-closed responses', seed: 105, weights: { 'half-close-response': 1 }, minFaults: 8 },
  {
    name: 'lost responses, ListFragments answers cut after a few bytes',
    seed: 106,
    weights: { 'lost-response': 1 },
    routes: [cutListFragments],
    minFaults: 3,
  },
  { name: 'late bytes', seed: 107, weights: { 'late-bytes': 1 }, minFaults: 8 },
  {
    name: 'late bytes racing delayed request heads',
    seed: 108,
    weights: { 'late-bytes': 2, reset: 1 },
    delayedHeadShare: 0.6,
    minFaults: 10,
  },
  ...[201, 202, 203].map((seed) => ({
    name: 'every kind mixed',
    seed,
    weights: everyKind,
    dripShare: 0.2,
    delayedHeadShare: 0.3,
    routes: [cutListFragments],
    minFaults: 3,
  })),
].map((scenario) => ({ ...scenario, routes: scenario.routes ?? [sometimes(scenario.weights)] }))

describe.concurrent('the producer API through the hostile proxy', () => {
  test.for(scenarios)(
    `stores every fragment exactly once and byte-identical, within ${PRODUCER_BOUND_MS / 1000} s: $name (seed $seed)`,
    { timeout: PRODUCER_BOUND_MS + 30_000 },
    async (scenario, { expect }) => {
      const started = performance.now()
      const emulator = await startEmulator({ port: 0 })
      const proxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed: scenario.seed,
        weights: scenario.weights,
        routes: scenario.routes ?? [],
        dripShare: scenario.dripShare ?? 0,
        delayedHeadShare: scenario.delayedHeadShare ?? 0,
        requestBytes: scenario.requestBytes ?? [2_000, 60_000],
        maxStallMs: 1_000,
        lateDelayMs: [20, 600],
        headDelayMs: [50, 500],
        drip: { bytes: [16, 512], delayMs: [1, 10], durationMs: [100, 600] },
      })
      try {
        const streamName = `proxy-${scenario.seed}`
        await createStream(emulator.url, streamName)
        const media = makeSource({ fragments: 150, clusterBytes: 10_000, seed: scenario.seed })
        const run = await runProducer({
          streamName,
          endpoint: emulator.url,
          dataEndpoint: proxy.url,
          media,
          paceMs: 20,
        })
        // Late bytes still held are delivered before the stream is read: a duplicate they make is counted.
        await proxy.drain()
        const stored = await storedHashes(emulator, streamName)
        const delivery = compareDelivery(stored, media.hashes)
        injected += proxy.total
        console.log(
          formatSummary({
            scenario: `producer/${scenario.name}`,
            seed: scenario.seed,
            faults: proxy.counts.byKind,
            lateBytes: proxy.counts.lateBytesDelivered,
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
        expect(stored).toHaveLength(media.hashes.length)
        expect(run.stats?.fragments).toMatchObject({ accepted: 150, acknowledged: 150, skipped: 0 })
        expect(proxy.total).toBeGreaterThanOrEqual(scenario.minFaults)
      } finally {
        await proxy.close()
        await emulator.close()
      }
    },
  )
})
