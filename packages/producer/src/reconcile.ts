import { type DataPlaneOptions, listAllFragments } from '@kvs-streams/transport'

/** An inclusive range of producer timestamps, epoch ms. */
export interface TimestampRange {
  startMs: number
  endMs: number
}

/**
 * Looks up which fragments the stream holds in a range of producer timestamps: resolves with their producer
 * timestamps, epoch ms (any order, duplicates allowed).
 */
export type StoredFragmentLister = (range: TimestampRange, signal: AbortSignal) => Promise<readonly number[]>

/** How far a listed producer timestamp may be from a fragment's and still be that fragment, ms. */
export const MATCH_TOLERANCE_MS = 1

/**
 * The fragments among `fragments` that `stored` lists, matched by producer timestamp (`timestampOf`) within
 * `MATCH_TOLERANCE_MS` (ListFragments returns epoch seconds as a float, so a millisecond may be off by one).
 * Each listed timestamp matches at most one fragment.
 */
export function matchStored<T>(
  fragments: readonly T[],
  stored: readonly number[],
  timestampOf: (fragment: T) => number,
): Set<T> {
  const sorted = stored.slice().sort((a, b) => a - b)
  const used = new Uint8Array(sorted.length)
  const found = new Set<T>()
  for (const fragment of fragments) {
    const target = timestampOf(fragment)
    let low = 0
    let high = sorted.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (sorted[middle]! < target - MATCH_TOLERANCE_MS) low = middle + 1
      else high = middle
    }
    for (let i = low; i < sorted.length && sorted[i]! <= target + MATCH_TOLERANCE_MS; i++) {
      if (used[i] === 1) continue
      used[i] = 1
      found.add(fragment)
      break
    }
  }
  return found
}

/** The smallest range covering every fragment's producer timestamp. */
export function rangeOf<T>(fragments: readonly T[], timestampOf: (fragment: T) => number): TimestampRange {
  let startMs = Number.POSITIVE_INFINITY
  let endMs = Number.NEGATIVE_INFINITY
  for (const fragment of fragments) {
    const producerTimestampMs = timestampOf(fragment)
    if (producerTimestampMs < startMs) startMs = producerTimestampMs
    if (producerTimestampMs > endMs) endMs = producerTimestampMs
  }
  return { startMs, endMs }
}

/**
 * The default lister: ListFragments (`@kvs-streams/transport`) with a PRODUCER_TIMESTAMP selector widened by
 * the match tolerance, every page. `endpoint` resolves the LIST_FRAGMENTS data endpoint for each call.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_ListFragments.html
 */
export function listFragmentsLister(
  options: Omit<DataPlaneOptions, 'endpoint' | 'signal'> & { streamName: string },
  endpoint: () => Promise<string>,
): StoredFragmentLister {
  return async (range, signal) => {
    const resolved = await endpoint()
    const timestamps: number[] = []
    const fragments = listAllFragments({
      ...options,
      endpoint: resolved,
      signal,
      maxResults: 1000,
      fragmentSelector: {
        FragmentSelectorType: 'PRODUCER_TIMESTAMP',
        TimestampRange: {
          StartTimestamp: (range.startMs - MATCH_TOLERANCE_MS) / 1000,
          EndTimestamp: (range.endMs + MATCH_TOLERANCE_MS) / 1000,
        },
      },
    })
    for await (const fragment of fragments) {
      const time = fragment.ProducerTimestamp?.getTime()
      if (time !== undefined && Number.isFinite(time)) timestamps.push(time)
    }
    return timestamps
  }
}
