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
    /**
     * Fragments acknowledged PERSISTED. With `acknowledgeOn: 'RECEIVED'` a session waits for the PERSISTED of
     * only its last 256 acknowledged fragments (a stream without retention sends none): one that comes for an
     * older fragment is not counted.
     */
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

/** Work space of `LatencyRecorder.summary()`: summaries are computed synchronously, one at a time. */
const scratch = new Float64Array(LATENCY_SAMPLES)

/**
 * A fixed-size ring of recent latency samples with percentiles: constant memory however long it runs. A
 * summary is computed only after new samples (by selection, not a sort), so `producer.stats()` stays cheap
 * when called every second on many producers at once.
 */
export class LatencyRecorder {
  /** The most recent samples, in a ring from `LATENCY_SAMPLES` on; `#next` is where the next one goes. */
  #samples: Float64Array | undefined
  #length = 0
  #next = 0
  /** Samples ever taken. */
  #count = 0
  /** The summary of the samples as they are, until the next one. */
  #summary: LatencySummary | undefined

  record(milliseconds: number): void {
    this.#count++
    this.#summary = undefined
    let samples = this.#samples
    if (samples === undefined || (this.#length === samples.length && samples.length < LATENCY_SAMPLES)) {
      // Grown as samples come (a short upload keeps a short ring); it wraps only once it is full size.
      const grown = new Float64Array(Math.min(LATENCY_SAMPLES, Math.max(64, this.#length * 2)))
      if (samples !== undefined) grown.set(samples)
      this.#samples = samples = grown
    }
    samples[this.#next] = milliseconds
    this.#next = (this.#next + 1) % LATENCY_SAMPLES
    if (this.#length < LATENCY_SAMPLES) this.#length++
  }

  summary(): LatencySummary {
    if (this.#samples === undefined) return { count: 0, p50: undefined, p99: undefined, max: undefined }
    this.#summary ??= this.#compute(this.#samples)
    return { ...this.#summary }
  }

  #compute(samples: Float64Array): LatencySummary {
    const length = this.#length
    const work = scratch.subarray(0, length)
    work.set(samples.subarray(0, length))
    const p50 = rank(length, 0.5)
    const p99 = rank(length, 0.99)
    select(work, p50, 0, length - 1)
    // Everything from p50 on is now at least the median: the 99th percentile and the maximum are among them.
    select(work, p99, p50, length - 1)
    let max = work[p99]!
    for (let index = p99 + 1; index < length; index++) if (work[index]! > max) max = work[index]!
    return { count: this.#count, p50: work[p50], p99: work[p99], max }
  }
}

/** The index of the nearest-rank `fraction` percentile among `length` sorted samples. */
function rank(length: number, fraction: number): number {
  return Math.min(length - 1, Math.max(0, Math.ceil(fraction * length) - 1))
}

/**
 * Moves the `k`-th smallest of `values[low..high]` to index `k`, smaller or equal ones before it and greater or
 * equal ones after it (Hoare's quickselect, median-of-three pivot): linear time on average.
 */
function select(values: Float64Array, k: number, low: number, high: number): void {
  while (low < high) {
    const a = values[low]!
    const b = values[(low + high) >>> 1]!
    const c = values[high]!
    const pivot = a < b ? (b < c ? b : Math.max(a, c)) : a < c ? a : Math.max(b, c)
    let i = low
    let j = high
    while (i <= j) {
      while (values[i]! < pivot) i++
      while (values[j]! > pivot) j--
      if (i <= j) {
        const swap = values[i]!
        values[i] = values[j]!
        values[j] = swap
        i++
        j--
      }
    }
    if (k <= j) high = j
    else if (k >= i) low = i
    else return
  }
}
