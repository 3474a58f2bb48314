import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LATENCY_SAMPLES, LatencyRecorder } from '../src/stats.ts'

/** What the summary must be: nearest-rank percentiles of the most recent samples, sorted. */
function reference(samples: readonly number[]) {
  const recent = samples.slice(-LATENCY_SAMPLES).sort((a, b) => a - b)
  const at = (fraction: number) =>
    recent[Math.min(recent.length - 1, Math.max(0, Math.ceil(fraction * recent.length) - 1))]
  return { count: samples.length, p50: at(0.5), p99: at(0.99), max: recent.at(-1) }
}

describe('LatencyRecorder', () => {
  it('has no percentiles before the first sample', () => {
    expect(new LatencyRecorder().summary()).toEqual({
      count: 0,
      p50: undefined,
      p99: undefined,
      max: undefined,
    })
  })

  it('gives the nearest-rank p50, p99 and max of the most recent samples, after every sample', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 1e6, noNaN: true })), {
          minLength: 1,
          maxLength: 200,
        }),
        (samples) => {
          const recorder = new LatencyRecorder()
          samples.forEach((sample, index) => {
            recorder.record(sample)
            expect(recorder.summary()).toEqual(reference(samples.slice(0, index + 1)))
          })
        },
      ),
    )
  })

  it('forgets the oldest samples once the ring is full', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), {
          minLength: LATENCY_SAMPLES - 3,
          maxLength: 3 * LATENCY_SAMPLES,
        }),
        (samples) => {
          const recorder = new LatencyRecorder()
          for (const sample of samples) recorder.record(sample)
          expect(recorder.summary()).toEqual(reference(samples))
        },
      ),
      { numRuns: 40 },
    )
    // Sorted input, ascending then descending: the cases a careless pivot makes quadratic.
    const recorder = new LatencyRecorder()
    const samples = [
      ...Array.from({ length: 3000 }, (_, i) => i),
      ...Array.from({ length: 1000 }, (_, i) => 5000 - i),
    ]
    for (const sample of samples) recorder.record(sample)
    expect(recorder.summary()).toEqual(reference(samples))
  })

  it('returns a summary its caller may change without changing the next one', () => {
    const recorder = new LatencyRecorder()
    recorder.record(10)
    recorder.record(30)
    const first = recorder.summary()
    first.p50 = 999
    expect(recorder.summary()).toEqual({ count: 2, p50: 10, p99: 30, max: 30 })
  })
})
