import type { IncrementalCore } from '../src/index.ts'

/** Bytes as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** The error a `splitter()` core fails with. */
export class SplitterError extends Error {
  override name = 'SplitterError'
}

/**
 * A small core for the adapter tests, following the error contract of `IncrementalCore`: text chunks in, one
 * event per `;`-terminated word out. A `!` in the input fails the call that meets it: the words completed
 * before it in that call are returned and the error is thrown by the next call (at once when there are none).
 * `end()` fails at once when a word is left open, except a word ending in `+`: `end()` returns it, then
 * fails on the next call. Every call after a failure throws the same error.
 */
export function splitter(): IncrementalCore<string, string> {
  let open = ''
  let failure: SplitterError | undefined
  let ended = false
  return {
    push(chunk) {
      if (failure) throw failure
      const events: string[] = []
      for (const char of chunk) {
        if (char === '!') {
          failure = new SplitterError(`bad input after ${events.length} words`)
          if (events.length === 0) throw failure
          return events
        }
        if (char === ';') {
          events.push(open)
          open = ''
        } else open += char
      }
      return events
    },
    end() {
      if (failure) throw failure
      if (ended) return []
      ended = true
      if (open.endsWith('+')) {
        failure = new SplitterError(`input ended after "${open}"`)
        return [open]
      }
      if (open !== '') throw (failure = new SplitterError(`input ended inside "${open}"`))
      return []
    },
  }
}

/** Lets queued stream work run: several macrotask turns, no wall-clock time involved. */
export async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
}
