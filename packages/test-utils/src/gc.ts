import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * V8's `gc()` without `--expose-gc` on the command line: the flag is set at run time and `gc` read from a new
 * context. For tests that check what a long-lived object still holds (a `WeakRef` cleared after a collection).
 * A `WeakRef` made or dereferenced in the current job stays alive until it ends: await a macrotask first.
 */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
