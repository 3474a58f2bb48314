// Measurement helpers for bench/*.mjs files. See README.md in this folder.
import { performance } from 'node:perf_hooks'

/**
 * Peak resident set size of this process so far, in bytes (`process.resourceUsage().maxRSS`). It never goes
 * down, so read it once at the end of a bench, or run each thing you compare in its own bench file.
 * @returns {number}
 */
export function peakRss() {
  return process.resourceUsage().maxRSS * 1024
}

/**
 * The median of a list of numbers (mean of the middle two for an even count).
 * @param {readonly number[]} numbers
 * @returns {number}
 */
export function median(numbers) {
  if (numbers.length === 0) throw new TypeError('numbers must not be empty, got []')
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * @typedef {{ median: number, min: number, max: number, samples: number[] }} Rounds
 *   Wall-clock milliseconds per round.
 */

/**
 * Runs `fn` (sync or async) `warmup` times unmeasured, then `rounds` times, each after a major GC when the
 * process runs with `--expose-gc` (bench/run.mjs passes it), and returns the times in milliseconds.
 * @param {() => unknown} fn
 * @param {number} [rounds]
 * @param {{ warmup?: number }} [options]
 * @returns {Promise<Rounds>}
 */
export async function measureRounds(fn, rounds = 5, options = {}) {
  const { warmup = 1 } = options
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new TypeError(`rounds must be an integer >= 1, got ${rounds}`)
  for (let i = 0; i < warmup; i++) await fn()
  const samples = []
  for (let i = 0; i < rounds; i++) samples.push(await timeOnce(fn))
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples }
}

/**
 * Measures a candidate against a baseline in the same process, alternating them round by round (so drift
 * in machine load affects both alike), after one unmeasured warm-up of each.
 * `ratio` is candidate median / baseline median: 1.10 means the candidate took 10 % longer.
 * `options.beforeEach`, when given, is awaited before every call (warm-ups included), outside the timing:
 * for clean-up that neither side should pay for, such as freeing what the previous call left on a server.
 * `options.warmupMs` repeats the unmeasured warm-up pairs until that much time has passed (at least one pair):
 * for work whose first seconds in a process run in another regime than the rest (see README.md).
 * `warmup` in the result holds the warm-up times (ms), which are not in the medians.
 * @param {{ baseline: () => unknown, candidate: () => unknown }} fns
 * @param {number} [rounds]
 * @param {{ beforeEach?: () => unknown, warmupMs?: number }} [options]
 * @returns {Promise<{ baseline: Rounds, candidate: Rounds, ratio: number,
 *   warmup: { baseline: number[], candidate: number[] } }>}
 */
export async function compareRounds({ baseline, candidate }, rounds = 5, options = {}) {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new TypeError(`rounds must be an integer >= 1, got ${rounds}`)
  const { beforeEach = () => {}, warmupMs = 0 } = options
  if (typeof beforeEach !== 'function')
    throw new TypeError(`options.beforeEach must be a function, got ${typeof beforeEach}`)
  if (!Number.isFinite(warmupMs) || warmupMs < 0)
    throw new TypeError(`options.warmupMs must be a number >= 0, got ${warmupMs}`)
  const warmupStart = performance.now()
  const warmup = { baseline: [], candidate: [] }
  do {
    await beforeEach()
    warmup.baseline.push(await timeOnce(baseline))
    await beforeEach()
    warmup.candidate.push(await timeOnce(candidate))
  } while (performance.now() - warmupStart < warmupMs)
  const samples = { baseline: [], candidate: [] }
  for (let i = 0; i < rounds; i++) {
    await beforeEach()
    samples.baseline.push(await timeOnce(baseline))
    await beforeEach()
    samples.candidate.push(await timeOnce(candidate))
  }
  const stats = (list) => ({
    median: median(list),
    min: Math.min(...list),
    max: Math.max(...list),
    samples: list,
  })
  const result = { baseline: stats(samples.baseline), candidate: stats(samples.candidate) }
  return { ...result, ratio: result.candidate.median / result.baseline.median, warmup }
}

/**
 * Throughput as text, decimal megabytes: `formatMBs(200e6, 1000)` → `'200.0 MB/s'`.
 * @param {number} bytes
 * @param {number} ms
 * @returns {string}
 */
export function formatMBs(bytes, ms) {
  return `${mbPerSecond(bytes, ms).toFixed(1)} MB/s`
}

/**
 * Throughput as a number of decimal megabytes per second, for RESULT fields.
 * @param {number} bytes
 * @param {number} ms
 * @returns {number}
 */
export function mbPerSecond(bytes, ms) {
  return bytes / 1e6 / (ms / 1e3)
}

/**
 * Size as text in MiB with one decimal: `formatMiB(peakRss())` → `'87.3 MiB'`.
 * @param {number} bytes
 * @returns {string}
 */
export function formatMiB(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

/**
 * Prints the bench's one `RESULT` line: `result({ bench: 'chunker', mbs: 812.3, ratio: 1.04 })` prints
 * `RESULT bench=chunker mbs=812.3 ratio=1.04`. Numbers get at most 3 decimals; keys and values must not
 * contain spaces or `=` (bench/run.mjs and whoever reads its output split on them).
 * @param {Record<string, string | number | boolean>} fields
 */
export function result(fields) {
  const parts = Object.entries(fields).map(([key, value]) => {
    const text = typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : String(value)
    if (/[\s=]/.test(key) || /[\s=]/.test(text) || text === '') {
      throw new TypeError(`RESULT fields must be non-empty and free of spaces and "=", got ${key}=${text}`)
    }
    return `${key}=${text}`
  })
  console.log(`RESULT ${parts.join(' ')}`)
}

/**
 * Collects garbage before a timed round, when the process runs with `--expose-gc`, without throwing away
 * compiled code. A bare `gc()` is V8's memory-reducing "collect all available garbage", which also flushes
 * optimized code: every round after it re-runs the measured code in the interpreter until it is optimized
 * again (seen with `--trace-opt`: each hot parser function recompiled once per round), a cost a long-running
 * stream pays once. A synchronous major GC frees the same garbage and keeps the code.
 */
export function collectGarbage() {
  globalThis.gc?.({ type: 'major', execution: 'sync' })
}

async function timeOnce(fn) {
  collectGarbage()
  const start = performance.now()
  await fn()
  return performance.now() - start
}
