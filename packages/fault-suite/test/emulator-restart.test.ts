import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, test } from 'vitest'
import {
  compareDelivery,
  type EmulatorProcess,
  FAULT_BUDGET,
  formatSummary,
  HostileProxy,
  killHard,
  makeSource,
  percentiles,
  readStoredFragments,
  recoveryTimes,
  seededRandom,
  startEmulatorProcess,
} from '../src/index.ts'
import { PRODUCER_BOUND_MS, runProducer } from './support/producer-run.ts'
import { createStream } from './support/services.ts'

let injected = 0

afterAll(() => {
  console.log(`[fault-suite] emulator kill -9 and restart: ${injected} faults injected`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.producerRestart)
})

describe.concurrent('the emulator process killed -9 and restarted on the same port and data directory', () => {
  test.for([501, 502])(
    `the producer, also behind the hostile proxy, stores every fragment exactly once within ${PRODUCER_BOUND_MS / 1000} s, as read from the data directory (seed %i)`,
    { timeout: PRODUCER_BOUND_MS + 30_000 },
    async (seed, { expect }) => {
      const started = performance.now()
      const dataDir = await mkdtemp(join(tmpdir(), 'kvs-fault-suite-restart-'))
      let running: EmulatorProcess = await startEmulatorProcess({ port: 0, dataDir })
      const { port, url } = running
      const proxy = await HostileProxy.start({
        targetPort: port,
        seed,
        weights: { reset: 2, 'late-bytes': 2, 'half-close-request': 1, 'lost-response': 1, none: 2 },
        routes: [{ match: /^POST \/listFragments/, weights: { 'lost-response': 1, none: 3 } }],
        delayedHeadShare: 0.2,
        requestBytes: [5_000, 150_000],
        maxStallMs: 1_000,
        lateDelayMs: [20, 600],
      })
      const kills: number[] = []
      try {
        const streamName = `restart-${seed}`
        await createStream(url, streamName)
        const media = makeSource({ fragments: 150, clusterBytes: 10_000, seed })
        let done = false
        const running$ = runProducer({
          streamName,
          endpoint: url,
          dataEndpoint: proxy.url,
          media,
          // 9 s of feeding: room for at least 4 kills and restarts (about 2 s each on a loaded machine).
          paceMs: 60,
          overrides: {
            ackStalenessMs: 1_000,
            connectTimeoutMs: 1_000,
            retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 200 },
            reconcile: { settleMs: 100 },
          },
        }).finally(() => {
          done = true
        })
        const random = seededRandom(seed)
        // Kills land while fragments are being fed and acknowledged, with some uptime between them for the
        // producer to get fragments through (a restart itself takes about a second).
        for (let kill = 0; kill < 8 && !done; kill++) {
          await sleep(300 + Math.floor(random() * 700))
          if (done) break
          await killHard(running)
          kills.push(performance.now())
          await sleep(50 + Math.floor(random() * 200))
          running = await startEmulatorProcess({ port, dataDir })
        }
        const run = await running$
        await proxy.drain()
        await killHard(running)
        const walk = await readStoredFragments(dataDir, streamName)
        const delivery = compareDelivery(
          walk.fragments.map((fragment) => fragment.hash),
          media.hashes,
        )
        const faultTimes = [...proxy.faults.map((fault) => fault.atMs), ...kills].sort((a, b) => a - b)
        injected += proxy.total + kills.length
        console.log(
          formatSummary({
            scenario: 'producer/emulator kill -9 and restart, behind the proxy',
            seed,
            faults: { ...proxy.counts.byKind, 'kill-9': kills.length },
            lateBytes: proxy.counts.lateBytesDelivered,
            fragments: media.hashes.length,
            delivery,
            recoveryMs: percentiles(recoveryTimes(faultTimes, run.progressMs)),
            wallMs: performance.now() - started,
            ...(run.error === undefined ? {} : { failure: String(run.error) }),
          }),
        )
        expect(run.error).toBeUndefined()
        expect(walk.corrupt).toEqual([])
        expect(delivery).toEqual({ missing: [], duplicated: [], unknown: 0 })
        expect(walk.fragments).toHaveLength(media.hashes.length)
        expect(run.stats?.fragments).toMatchObject({ accepted: 150, acknowledged: 150, skipped: 0 })
        expect(kills.length).toBeGreaterThanOrEqual(4)
      } finally {
        await proxy.close()
        await killHard(running)
        await rm(dataDir, { recursive: true, force: true })
      }
    },
  )
})
