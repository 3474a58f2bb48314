import type { ProducerState } from './events.ts'

/** Percentiles of one latency, over the most recent samples (`LATENCY_SAMPLES`). */
export interface LatencySummary {
  /** Samples taken since the producer started (all of them, not only the recent ones). */
  count: number
  /** Median, ms; undefined before the first sample. */
  p50: number | undefined
  p99: number | undefined
  max: number | undefined
}

/** A snapshot of the producer's counters (`producer.stats()`, `stats` events). */
export interface ProducerStats {
  state: ProducerState
  /** MKV bytes written to PutMedia sessions: headers, fragments, end-of-fragment tags and resends. */
  bytesSent: number
  fragments: {
    /** Fragments taken from the input. */
    accepted: number
    /** In the replay buffer now: accepted and not yet acknowledged or skipped. */
    buffered: number
    /** Fragments written to a session at least once. */
    sent: number
    /** Writes of a fragment that had been written before (after a failure). */
    resent: number
    /** Fragments acknowledged RECEIVED. */
    received: number
    /** Fragments acknowledged PERSISTED. */
    persisted: number
    /** Fragments found stored by reconciliation after their session failed (not resent). */
    reconciled: number
    /** Fragments acknowledged per `acknowledgeOn` (or reconciled): the ones that are safe. */
    acknowledged: number
    /** Skipped after a non-retriable ERROR ack or a violation, or dropped by `whenFull: 'drop-oldest'`. */
    skipped: number
    /** Of the skipped, those dropped after being sent, with no answer on whether the service stored them. */
    fateUnknown: number
    /** Resends of a fragment of unknown fate without a ListFragments check (`possible-duplicate` events). */
    possibleDuplicates: number
  }
  replayBuffer: {
    bytes: number
    /** From the start of the oldest buffered fragment to the end of the newest, ms of media time. */
    durationMs: number
    maxBytes: number
    maxDurationMs: number
  }
  /** From the fragment's acceptance by the writable to its RECEIVED / PERSISTED ack. */
  ackLatencyMs: { received: LatencySummary; persisted: LatencySummary }
  /** PutMedia sessions opened. */
  sessions: number
  /** Sessions opened after a failure. */
  reconnects: number
  /** Sessions ended on purpose and replaced (connection age, credential expiry, header change). */
  rotations: number
  /** Consecutive failures without an acknowledged fragment (resets on progress). */
  consecutiveFailures: number
}

/** How many recent samples the latency percentiles are computed over (memory stays constant). */
export const LATENCY_SAMPLES = 2048

/** A fixed-size ring of recent latency samples with percentiles: constant memory however long it runs. */
export class LatencyRecorder {
  /** The most recent samples; `#next` is where the next one goes once the ring is full. */
  readonly #samples: number[] = []
  #next = 0
  /** Samples ever taken. */
  #count = 0

  record(milliseconds: number): void {
    this.#count++
    if (this.#samples.length < LATENCY_SAMPLES) this.#samples.push(milliseconds)
    else {
      this.#samples[this.#next] = milliseconds
      this.#next = (this.#next + 1) % LATENCY_SAMPLES
    }
  }

  summary(): LatencySummary {
    if (this.#samples.length === 0) return { count: 0, p50: undefined, p99: undefined, max: undefined }
    const sorted = this.#samples.slice().sort((a, b) => a - b)
    return {
      count: this.#count,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1],
    }
  }
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))
  return sorted[rank]
}
