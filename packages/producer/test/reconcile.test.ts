import { describe, expect, test } from 'vitest'
import { MATCH_TOLERANCE_MS, matchStored, rangeOf } from '../src/reconcile.ts'

const at = (producerTimestampMs: number) => ({ producerTimestampMs })
const time = (fragment: { producerTimestampMs: number }) => fragment.producerTimestampMs

describe('reconciliation matching', () => {
  test('matches listed producer timestamps to fragments within a millisecond, each at most once', () => {
    const fragments = [at(1_000), at(1_100), at(1_200), at(1_300)]
    // ListFragments gives epoch seconds as floats: 1.0999999 s comes back as 1099 ms.
    const found = matchStored(fragments, [1_099, 1_300, 1_300, 5_000], time)
    expect([...found]).toEqual([fragments[1], fragments[3]])
    expect(MATCH_TOLERANCE_MS).toBe(1)
  })

  test('a fragment not listed is not matched, whatever else the stream holds', () => {
    expect(matchStored([at(1_000)], [998, 1_002, 2_000], time).size).toBe(0)
    expect(matchStored([at(1_000)], [], time).size).toBe(0)
  })

  test('the range covers every candidate', () => {
    expect(rangeOf([at(300), at(100), at(200)], time)).toEqual({ startMs: 100, endMs: 300 })
  })
})
