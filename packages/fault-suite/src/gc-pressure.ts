import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type GcFunction = (options?: { type?: 'major' | 'minor' }) => void

/**
 * The V8 `gc()` function: the global one under `node --expose-gc`, else exposed at run time (setting the
 * flag and reading `gc` from a fresh context), so vitest workers need no extra `execArgv`.
 */
export function exposeGc(): GcFunction {
  const existing = (globalThis as { gc?: GcFunction }).gc
  if (typeof existing === 'function') return existing
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as GcFunction
}

/** A running forced-GC loop. */
export interface GcPressure {
  /** Collections forced so far (minor and full). */
  readonly collections: number
  /** Ends the loop; returns `collections`. */
  stop(): number
}

/**
 * Forces a GC every `intervalMs` in this process — a minor one (scavenge) each time and a full one every
 * `fullEvery` ticks — so that an object only weakly held, such as an `AbortSignal.timeout()` combined with
 * `AbortSignal.any()` on Node 20 (nodejs/node#57736), is collected before it fires: a wait that depends on it
 * hangs. Minor collections are cheap, so the loop keeps its pace even with a large heap.
 */
export function startGcPressure(intervalMs = 5, fullEvery = 10): GcPressure {
  const gc = exposeGc()
  let collections = 0
  const timer = setInterval(() => {
    collections++
    if (collections % fullEvery === 0) gc()
    else gc({ type: 'minor' })
  }, intervalMs)
  return {
    get collections() {
      return collections
    },
    stop() {
      clearInterval(timer)
      return collections
    },
  }
}
