import { performance } from 'node:perf_hooks'
import { concatBytes } from '@kvs-streams/core'
import { readStream } from '@kvs-streams/get-media'
import { clustersOf, sha256, within } from '../../src/index.ts'
import { credentials, REGION } from './services.ts'

/** Bound on one reader run (every fragment read), ms: beyond it the run is a hang. */
export const READER_BOUND_MS = 60_000

export interface ReaderRun {
  /** SHA-256 of each fragment's Cluster, in the order read. */
  hashes: string[]
  /** `performance.now()` of each fragment read. */
  progressMs: number[]
  /** Fragments that arrived without their continuation token (not whole). */
  incomplete: number
  reconnects: number
  error: unknown
}

export interface ReaderRunOptions {
  streamName: string
  endpoint: string
  dataEndpoint: string
  /** Stop after this many fragments. */
  fragments: number
  boundMs?: number
}

/**
 * Reads a stream from EARLIEST with `readStream` (raw mode) through `dataEndpoint` until `fragments` fragments
 * have arrived, within a bound; never throws (the error is returned with what was read).
 */
export async function runReader(options: ReaderRunOptions): Promise<ReaderRun> {
  const run: ReaderRun = { hashes: [], progressMs: [], incomplete: 0, reconnects: 0, error: undefined }
  const controller = new AbortController()
  try {
    await within(
      `readStream on ${options.streamName}`,
      options.boundMs ?? READER_BOUND_MS,
      (async () => {
        for await (const event of readStream({
          streamName: options.streamName,
          region: REGION,
          credentials: credentials(),
          endpoint: options.endpoint,
          dataEndpoint: options.dataEndpoint,
          startSelector: { StartSelectorType: 'EARLIEST' },
          mode: 'raw',
          idleTimeoutMs: 500,
          connectTimeoutMs: 2_000,
          retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 30 },
          signal: controller.signal,
        })) {
          if (event.type === 'reconnect') run.reconnects++
          if (event.type !== 'fragment') continue
          if (!event.complete) run.incomplete++
          const clusters = clustersOf(concatBytes(event.parts))
          run.hashes.push(clusters.length === 1 ? sha256(clusters[0]!) : `clusters:${clusters.length}`)
          run.progressMs.push(performance.now())
          if (run.hashes.length >= options.fragments) break
        }
      })(),
    )
  } catch (error) {
    run.error = error
  } finally {
    controller.abort()
  }
  return run
}
