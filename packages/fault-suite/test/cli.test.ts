import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { concatBytes } from '@kvs-streams/core'
import { afterAll, describe, expect, test } from 'vitest'
import {
  clustersOf,
  compareDelivery,
  type EmulatorProcess,
  FAULT_BUDGET,
  type FaultRoute,
  formatSummary,
  HostileProxy,
  inSourceOrder,
  killHard,
  makeSource,
  percentiles,
  readStoredFragments,
  recoveryTimes,
  sha256,
  startEmulatorProcess,
} from '../src/index.ts'
import { credentials, REGION } from './support/services.ts'

const kvs = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))

/** Bound on each `kvs` run, ms: beyond it the run is a hang (the process is killed). */
const CLI_BOUND_MS = 90_000

let injected = 0

afterAll(() => {
  console.log(`[fault-suite] kvs put and kvs get through the hostile proxy: ${injected} faults injected`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.cli)
})

interface CliRun {
  code: number | null
  /** The process was killed at the bound. */
  hung: boolean
  stdout: string
  stderr: string
  /** `performance.now()` of each progress line (a fragment acknowledged, or a fragment read). */
  progressMs: number[]
}

/** Runs `node packages/cli/dist/bin.js …args` with the emulator's credentials, killed after `CLI_BOUND_MS`. */
function runKvs(
  args: string[],
  endpoint: string,
  progress: RegExp,
  stream: 'stdout' | 'stderr',
): Promise<CliRun> {
  const child = spawn(process.execPath, [kvs, ...args], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials().accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials().secretAccessKey,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const run: CliRun = { code: null, hung: false, stdout: '', stderr: '', progressMs: [] }
  const watch = (name: 'stdout' | 'stderr') => {
    let pending = ''
    child[name].on('data', (chunk: Buffer) => {
      const text = chunk.toString()
      run[name] += text
      if (name !== stream) return
      pending += text
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (progress.test(line)) run.progressMs.push(performance.now())
    })
  }
  watch('stdout')
  watch('stderr')
  const timer = setTimeout(() => {
    run.hung = true
    child.kill('SIGKILL')
  }, CLI_BOUND_MS)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      run.code = code
      resolve(run)
    })
  })
}

/** The control plane passes untouched (the CLI gives up on it after the AWS SDK's three attempts). */
const controlPlane: FaultRoute = {
  match: /^POST \/(createStream|describeStream|getDataEndpoint|listStreams)/,
  weights: { none: 1 },
}

describe.concurrent('the kvs CLI through the hostile proxy (all its traffic: the emulator answers GetDataEndpoint with the proxy)', () => {
  test.for([601, 602])(
    `kvs put stores every fragment of a file exactly once, and kvs get writes exactly the stored fragments, each within ${CLI_BOUND_MS / 1000} s (seed %i)`,
    { timeout: 2 * CLI_BOUND_MS + 30_000 },
    async (seed, { expect }) => {
      const started = performance.now()
      const directory = await mkdtemp(join(tmpdir(), 'kvs-fault-suite-cli-'))
      const dataDir = join(directory, 'data')
      // Bound to every interface, the emulator answers GetDataEndpoint with the Host the client used: the proxy.
      let emulator: EmulatorProcess | undefined = await startEmulatorProcess({
        port: 0,
        dataDir,
        host: '0.0.0.0',
      })
      const putProxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed,
        weights: { reset: 3, 'half-close-request': 1, 'half-close-response': 1, 'late-bytes': 2, stall: 1 },
        routes: [
          controlPlane,
          { match: /^POST \/listFragments/, weights: { 'lost-response': 1, reset: 1, none: 3 } },
        ],
        dripShare: 0.1,
        delayedHeadShare: 0.2,
        requestBytes: [20_000, 150_000],
        maxStallMs: 1_000,
        lateDelayMs: [20, 600],
      })
      const getProxy = await HostileProxy.start({
        targetPort: emulator.port,
        seed: seed + 1_000,
        weights: { reset: 2, 'half-close-response': 2, 'lost-response': 1, stall: 1 },
        routes: [controlPlane],
        triggerOn: 'response',
        // At least one whole fragment per connection, so a count of failed connections in a row (readStream's retry.maxAttempts) is never the limit.
        responseBytes: [15_000, 60_000],
        dripShare: 0.1,
        delayedHeadShare: 0.2,
        maxStallMs: 1_000,
      })
      try {
        const streamName = `cli-${seed}`
        const media = makeSource({ fragments: 100, clusterBytes: 10_000, seed })
        const file = join(directory, 'source.mkv')
        await writeFile(file, concatBytes([media.header, ...media.clusters]))
        const put = await runKvs(
          ['put', streamName, file, '--create', '--timecode-type', 'absolute', '--json'],
          putProxy.url,
          /"type":"fragment-acknowledged"/,
          'stdout',
        )
        await putProxy.drain()
        const out = join(directory, 'copy.mkv')
        const get = await runKvs(
          [
            'get',
            streamName,
            '--start',
            'earliest',
            '--until',
            String(media.hashes.length),
            '-o',
            out,
            '--json',
          ],
          getProxy.url,
          /"type":"fragment"/,
          'stderr',
        )
        await killHard(emulator)
        emulator = undefined
        const walk = await readStoredFragments(dataDir, streamName)
        const stored = walk.fragments.map((fragment) => fragment.hash)
        const delivery = compareDelivery(stored, media.hashes)
        let written: string[] = []
        let writtenError: string | undefined
        try {
          written = clustersOf(await readFile(out)).map(sha256)
        } catch (error) {
          writtenError = String(error)
        }
        injected += putProxy.total + getProxy.total
        for (const [name, proxy, run, compared] of [
          ['kvs put', putProxy, put, delivery],
          ['kvs get', getProxy, get, compareDelivery(written, media.hashes)],
        ] as const) {
          console.log(
            formatSummary({
              scenario: `cli/${name}`,
              seed,
              faults: proxy.counts.byKind,
              ...(name === 'kvs put' ? { lateBytes: proxy.counts.lateBytesDelivered } : {}),
              fragments: media.hashes.length,
              delivery: compared,
              recoveryMs: percentiles(
                recoveryTimes(
                  proxy.faults.map((fault) => fault.atMs),
                  run.progressMs,
                ),
              ),
              wallMs: performance.now() - started,
              ...(run.code === 0
                ? {}
                : {
                    failure: `${run.hung ? 'hung' : `exit ${run.code}`}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`,
                  }),
            }),
          )
        }
        expect({ code: put.code, hung: put.hung }).toEqual({ code: 0, hung: false })
        expect(walk.corrupt).toEqual([])
        expect(delivery).toEqual({ missing: [], duplicated: [], unknown: 0 })
        expect(stored).toHaveLength(media.hashes.length)
        expect({ code: get.code, hung: get.hung }).toEqual({ code: 0, hung: false })
        expect(writtenError).toBeUndefined()
        // Whole fragments only, each stored one once, in storage order.
        expect(inSourceOrder(written, stored)).toBe(true)
        expect(putProxy.total).toBeGreaterThanOrEqual(1)
        expect(getProxy.total).toBeGreaterThanOrEqual(10)
      } finally {
        await putProxy.close()
        await getProxy.close()
        if (emulator !== undefined) await killHard(emulator)
        await rm(directory, { recursive: true, force: true })
      }
    },
  )
})
