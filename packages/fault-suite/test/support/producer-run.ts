import { performance } from 'node:perf_hooks'
import {
  createProducer,
  type Producer,
  type ProducerOptions,
  type ProducerStats,
} from '@kvs-streams/producer'
import { HangError, type SourceMedia, within } from '../../src/index.ts'
import { feed } from './feed.ts'
import { credentials, REGION } from './services.ts'

/** Test-sized timers: faults are detected and retried in milliseconds, not seconds. */
export const PRODUCER_TIMERS = {
  ackStalenessMs: 300,
  connectTimeoutMs: 2_000,
  retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 200 },
  reconcile: { settleMs: 50 },
  statsIntervalMs: 0,
} satisfies Partial<ProducerOptions>

/** Bound on one producer run (feeding every fragment and `close()`), ms: beyond it the run is a hang. */
export const PRODUCER_BOUND_MS = 60_000

export interface ProducerRunOptions {
  streamName: string
  /** Control plane (DescribeStream), straight at the emulator. */
  endpoint: string
  /** PutMedia and ListFragments: the proxy. */
  dataEndpoint: string
  media: SourceMedia
  paceMs?: number
  overrides?: Partial<ProducerOptions>
  boundMs?: number
  /** Stops feeding once it returns true (see `feed`); the run's `fed` says how many clusters were written. */
  enough?: (clustersFed: number) => boolean
}

export interface ProducerRun {
  stats: ProducerStats | undefined
  /** `performance.now()` of every acknowledged fragment, in order. */
  progressMs: number[]
  error: unknown
  /** Clusters of `media` written to the producer (all of them unless `enough` stopped the feed). */
  fed: number
}

/** Feeds `media` to a producer and closes it, within a bound; never throws (the error is returned). */
export async function runProducer(options: ProducerRunOptions): Promise<ProducerRun> {
  const producer = createProducer({
    fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
    streamName: options.streamName,
    region: REGION,
    credentials: credentials(),
    endpoint: options.endpoint,
    dataEndpoint: options.dataEndpoint,
    ...PRODUCER_TIMERS,
    ...options.overrides,
  })
  const progressMs: number[] = []
  producer.on('fragment-acknowledged', () => progressMs.push(performance.now()))
  // The last events, for a hung run's log: what the producer saw last tells a stuck wait from a slow recovery.
  const recent: string[] = []
  const note = (line: string): void => {
    recent.push(`${Math.round(performance.now())} ${line}`)
    if (recent.length > 40) recent.shift()
  }
  producer.on('ack', (event) =>
    note(`ack s${event.sessionId} ${event.ack.eventType} ${event.ack.fragmentTimecode ?? '-'}`),
  )
  producer.on('state', (event) =>
    note(`state ${event.state} s${event.sessionId ?? '-'} ${event.reason} ${String(event.cause ?? '')}`),
  )
  producer.on('reconciliation', (event) =>
    note(`reconciled s${event.sessionId} ${event.found}/${event.checked}`),
  )
  // Errors are reported through close(); the listener keeps an 'error' event from throwing.
  producer.on('error', () => {})
  let fed = 0
  try {
    const stats = await within(
      `producer on ${options.streamName}`,
      options.boundMs ?? PRODUCER_BOUND_MS,
      (async () => {
        fed = await feed(producer.writable, options.media, {
          paceMs: options.paceMs ?? 2,
          ...(options.enough === undefined ? {} : { enough: options.enough }),
        })
        return producer.close()
      })(),
    )
    return { stats, progressMs, error: undefined, fed }
  } catch (error) {
    // Where a hung run stood, for the log (the last event's time tells a stuck wait from a slow recovery).
    if (error instanceof HangError)
      console.log(
        `[fault-suite] ${options.streamName} hung: ${describeHang(producer)}\n  ${recent.join('\n  ')}`,
      )
    producer.abort()
    return { stats: undefined, progressMs, error, fed }
  }
}

/** The producer's state and counters and its input writable's state, on one line. */
function describeHang(producer: Producer): string {
  const { state, fragments, replayBuffer, sessions, reconnects } = producer.stats()
  const input = producer.writable
  return JSON.stringify({
    state,
    fragments,
    replayBufferBytes: replayBuffer.bytes,
    sessions,
    reconnects,
    writable: {
      length: input.writableLength,
      ended: input.writableEnded,
      finished: input.writableFinished,
      destroyed: input.destroyed,
      needDrain: input.writableNeedDrain,
    },
  })
}
