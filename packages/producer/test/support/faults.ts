/**
 * The suite's fault budget: each fault test file asserts it injected at least its share, and the shares add
 * up to at least 200 (asserted in producer-faults-budget.test.ts).
 */
export const FAULT_BUDGET = {
  /** TCP resets and stalls by the proxy. */
  proxy: 110,
  /** ERROR acks: retriable, non-retriable, 4002 from a too-long fragment, 4003 from the connection cap. */
  errorAcks: 75,
  /** kill -9 of the emulator process mid-stream. */
  restarts: 5,
  /** Credentials expiring mid-stream (sessions that had to be replaced before their credentials expired). */
  credentials: 10,
} as const

export const MIN_TOTAL_FAULTS = 200
