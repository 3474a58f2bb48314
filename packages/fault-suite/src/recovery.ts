/** p50 and p99 of a list of durations, ms (nearest rank); `undefined` for an empty list. */
export interface Percentiles {
  count: number
  p50: number | undefined
  p99: number | undefined
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: undefined, p99: undefined }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  return { count: values.length, p50: Math.round(rank(0.5)), p99: Math.round(rank(0.99)) }
}

/**
 * Recovery time of each fault: from the fault to the first progress after it (an acknowledged fragment for
 * producers, a fragment read for readers), ms. Faults with no progress after them are left out (the run's
 * end bounds them). Both lists hold `performance.now()` times; `progress` must be sorted.
 */
export function recoveryTimes(faults: readonly number[], progress: readonly number[]): number[] {
  const times: number[] = []
  for (const at of faults) {
    let low = 0
    let high = progress.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (progress[middle]! < at) low = middle + 1
      else high = middle
    }
    if (low < progress.length) times.push(progress[low]! - at)
  }
  return times
}
