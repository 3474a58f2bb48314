import type { IncrementalCore } from '../src/index.ts'

/** Bytes as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** The error a `splitter()` core fails with: `events` holds what the failing call completed first. */
export class SplitterError extends Error {
  override name = 'SplitterError'
  events: readonly string[] = []
}

/**
 * A small core for the adapter tests: text chunks in, one event per `;`-terminated word out. A `!` in the
 * input fails the call that meets it, after the words completed before it (carried as the error's
 * `events`); `end()` fails when a word is left open.
 */
export function splitter(): IncrementalCore<string, string> {
  let open = ''
  return {
    push(chunk) {
      const events: string[] = []
      for (const char of chunk) {
        if (char === '!') {
          const error = new SplitterError(`bad input after ${events.length} words`)
          error.events = events
          throw error
        }
        if (char === ';') {
          events.push(open)
          open = ''
        } else open += char
      }
      return events
    },
    end() {
      if (open !== '') throw new SplitterError(`input ended inside "${open}"`)
      return []
    },
  }
}

/** Lets queued stream work run: several macrotask turns, no wall-clock time involved. */
export async function settle(turns = 20): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
}
