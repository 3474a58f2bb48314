import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, test } from 'vitest'
import { createProducer } from '../src/index.ts'
import { type EmulatorProcess, killHard, startEmulatorProcess } from './support/emulator-process.ts'
import { FAULT_BUDGET } from './support/faults.ts'
import { feed } from './support/feed.ts'
import { makeSource, seededRandom } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { createStream, credentials } from './support/services.ts'
import { expectExactlyOnce } from './support/verify.ts'

let injected = 0

afterAll(() => {
  console.log(`faults injected (restarts): ${injected}`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.restarts)
})

describe('the emulator process killed and restarted', () => {
  test('kill -9 mid-stream, restart on the same port and data directory: every fragment stored exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kvs-producer-restart-'))
    let running: EmulatorProcess = await startEmulatorProcess(0, dataDir)
    const { port, url } = running
    const region = 'us-east-1'
    try {
      await createStream(url, region, 'restart', 1)
      const producer = createProducer({
        fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
        streamName: 'restart',
        region,
        credentials: credentials(),
        endpoint: url,
        ackStalenessMs: 1_000,
        connectTimeoutMs: 1_000,
        retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 200 },
        reconcile: { settleMs: 100 },
        statsIntervalMs: 0,
      })
      const media = makeSource({ fragments: 250, seed: 31 })
      let fed = false
      const feeding = feed(producer.writable, media, { paceMs: 20 }).finally(() => {
        fed = true
      })
      const random = seededRandom(31)
      // Kill while the source is still being fed, so every kill lands mid-stream.
      for (let kill = 0; kill < 8 && !fed; kill++) {
        await sleep(150 + Math.floor(random() * 250))
        if (fed) break
        await killHard(running)
        injected++
        await sleep(50 + Math.floor(random() * 150))
        running = await startEmulatorProcess(port, dataDir)
      }
      await feeding
      const stats = await producer.close()
      expect(stats.fragments).toMatchObject({ accepted: 250, acknowledged: 250, skipped: 0 })
      expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.restarts)
      expect(stats.sessions).toBeGreaterThan(injected / 2)
      expectExactlyOnce(await readBackClusterHashes(url, region, 'restart'), media)
    } finally {
      await killHard(running)
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
