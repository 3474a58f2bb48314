import { performance } from 'node:perf_hooks'
import { startEmulator } from '@kvs-streams/emulator'
import { afterAll, describe, expect, test } from 'vitest'
import {
  compareDelivery,
  FAULT_BUDGET,
  type FaultWeights,
  formatSummary,
  HostileProxy,
  inSourceOrder,
  makeSource,
  percentiles,
  recoveryTimes,
} from '../src/index.ts'
import { fill } from './support/fill.ts'
import { READER_BOUND_MS, runReader } from './support/reader-run.ts'
import { createStream, storedHashes } from './support/services.ts'

let injected = 0

afterAll(() => {
  console.log(`[fault-suite] readStream through the hostile proxy: ${injected} faults injected`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.readStream)
})

interface Scenario {
  name: string
  seed: number
  weights: FaultWeights
  /** Budgets count response bytes (cuts mid-response) or request bytes (cuts in the request head). */
  triggerOn: 'request' | 'response'
  dripShare?: number
  delayedHeadShare?: number
  responseBytes?: [number, number]
  /** Fragments written while the reader reads (live), else all stored before it starts. */
  live?: boolean
  minFaults: number
}

const FRAGMENTS = 120

const scenarios: Scenario[] = [
  { name: 'resets mid-response', seed: 301, weights: { reset: 1 }, triggerOn: 'response', minFaults: 30 },
  {
    name: 'stalls mid-response',
    seed: 302,
    weights: { stall: 1 },
    triggerOn: 'response',
    responseBytes: [5_000, 200_000],
    minFaults: 5,
  },
  {
    name: 'slow drips, then resets',
    seed: 303,
    weights: { reset: 1 },
    dripShare: 0.5,
    triggerOn: 'response',
    minFaults: 100,
  },
  {
    name: 'half-closed responses',
    seed: 304,
    weights: { 'half-close-response': 1 },
    triggerOn: 'response',
    minFaults: 30,
  },
  {
    name: 'lost responses',
    seed: 305,
    weights: { 'lost-response': 1 },
    triggerOn: 'response',
    responseBytes: [5_000, 200_000],
    minFaults: 5,
  },
  {
    name: 'requests half-closed or reset inside their head, or responses cut',
    seed: 306,
    weights: { 'half-close-request': 1, reset: 1, 'half-close-response': 1, 'lost-response': 1 },
    triggerOn: 'request',
    minFaults: 40,
  },
  {
    name: 'delayed request heads, then resets',
    seed: 307,
    weights: { reset: 1 },
    delayedHeadShare: 0.7,
    triggerOn: 'response',
    minFaults: 40,
  },
  ...[308, 309].map((seed) => ({
    name: 'every kind mixed',
    seed,
    weights: { reset: 2, stall: 1, 'half-close-response': 2, 'lost-response': 1 },
    dripShare: 0.2,
    delayedHeadShare: 0.2,
    triggerOn: 'response' as const,
    minFaults: 40,
  })),
  {
    name: 'every kind mixed, reading while the producer writes',
    seed: 310,
    weights: { reset: 2, stall: 1, 'half-close-response': 2, 'lost-response': 1 },
    dripShare: 0.2,
    delayedHeadShare: 0.2,
    triggerOn: 'response',
    live: true,
    minFaults: 40,
  },
]

describe.concurrent('readStream through the hostile proxy', () => {
  test.for(scenarios)(
    `reads every fragment once, in order, whole and byte-identical, within ${READER_BOUND_MS / 1000} s: $name (seed $seed)`,
    { timeout: READER_BOUND_MS + 30_000 },
    async (scenario, { expect }) => {
      const started = performance.now()
      const emulator = await startEmulator({ port: 0 })
      const proxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed: scenario.seed,
        weights: scenario.weights,
        triggerOn: scenario.triggerOn,
        dripShare: scenario.dripShare ?? 0,
        delayedHeadShare: scenario.delayedHeadShare ?? 0,
        // A GetMedia request is one head of a few hundred bytes; a fragment is ~10 kB of response.
        requestBytes: [1, 400],
        responseBytes: scenario.responseBytes ?? [1, 50_000],
        maxStallMs: 1_500,
        headDelayMs: [50, 500],
        drip: { bytes: [16, 512], delayMs: [1, 10], durationMs: [100, 600] },
      })
      try {
        const streamName = `reader-${scenario.seed}`
        await createStream(emulator.url, streamName)
        const media = makeSource({ fragments: FRAGMENTS, clusterBytes: 10_000, seed: scenario.seed })
        const filling = fill(emulator.url, streamName, media, scenario.live ? 20 : 0)
        if (!scenario.live) await filling
        const run = await runReader({
          streamName,
          endpoint: emulator.url,
          dataEndpoint: proxy.url,
          fragments: FRAGMENTS,
        })
        await filling
        const stored = await storedHashes(emulator, streamName)
        const delivery = compareDelivery(run.hashes, media.hashes)
        injected += proxy.total
        console.log(
          formatSummary({
            scenario: `readStream/${scenario.name}`,
            seed: scenario.seed,
            faults: proxy.counts.byKind,
            fragments: FRAGMENTS,
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
        // The stream itself is intact (the reader's faults must not matter to it)…
        expect(inSourceOrder(stored, media.hashes)).toBe(true)
        // …and the reader got every fragment once, whole, in order.
        expect(run.error).toBeUndefined()
        expect(delivery).toEqual({ missing: [], duplicated: [], unknown: 0 })
        expect(inSourceOrder(run.hashes, media.hashes)).toBe(true)
        expect(run.incomplete).toBe(0)
        expect(proxy.total).toBeGreaterThanOrEqual(scenario.minFaults)
      } finally {
        await proxy.close()
        await emulator.close()
      }
    },
  )
})
