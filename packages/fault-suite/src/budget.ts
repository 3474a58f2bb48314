/**
 * The suite's fault budget: each scenario file asserts in `afterAll` that it injected at least its share, and
 * the shares add up to at least `MIN_TOTAL_FAULTS` (asserted in fault-budget.test.ts), so a CI run that
 * passes injected at least that many faults.
 */
export const FAULT_BUDGET = {
  /** The producer API through the hostile proxy, one scenario per fault kind and mixed ones. */
  producerProxy: 350,
  /** The producer and readStream with forced GCs, through the proxy. */
  forcedGc: 60,
  /** The producer against an emulator process killed -9 and restarted, behind the proxy. */
  producerRestart: 20,
  /** `readStream` through the proxy, with and without forced GCs. */
  readStream: 650,
  /** `kvs put` and `kvs get` through the proxy. */
  cli: 60,
} as const

export const MIN_TOTAL_FAULTS = 1_000
