import type { Readable, Writable } from 'node:stream'
import { detectFormat } from '@kvs-streams/muxer'
import { detectForeignFormat, type ForeignFormat } from './input-format.ts'
import { bytesOf, DETECT_BYTES, type InputFormat, type InputStage } from './input-stage.ts'

// How `kvs put` moves its input into a producer: format detection, the input stage, backpressure, Ctrl-C.

/** `source` through `stage` (raw video muxed, MKV repackaged), for a first read of a file; stops at an error. */
export async function* throughStage(
  source: AsyncIterable<Uint8Array>,
  stage: InputStage,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield* bytesOf(stage.push(chunk))
    yield* bytesOf(stage.end())
  } catch {
    // The producer reports unusable input when the same bytes are written to it.
  }
}

/** Waits until `writable` drains, closes, or `signal` aborts. */
function drained(writable: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writable.off('drain', done)
      writable.off('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    writable.once('drain', done)
    writable.once('close', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** What `feed` found out about the input on the way. */
export interface FeedState {
  bytesRead: number
  foreign?: ForeignFormat | undefined
  /** The input's format (`--format`, or detected from its first bytes). */
  format?: InputFormat | undefined
  stage?: InputStage | undefined
  /** The input stage failed (corrupt or truncated input): what was complete before it was sent. */
  stageError?: unknown
}

/**
 * Copies `input` into `writable` until the input ends or `signal` aborts (then the input is dropped where
 * it is), through the input stage `makeStage` gives for the format seen in the first bytes (raw H.264/H.265/
 * AAC muxed into Matroska, MKV repackaged); counts the bytes read. Resolves with whether the input ended by
 * itself.
 */
export async function feed(
  input: Readable,
  producer: { writable: Writable; fragments: Writable },
  signal: AbortSignal,
  state: FeedState,
  makeStage: (format: InputFormat) => InputStage | undefined,
): Promise<boolean> {
  // Ctrl-C while the input is quiet (a live pipe): stop waiting for it.
  const stop = () => input.destroy()
  signal.addEventListener('abort', stop, { once: true })
  if (signal.aborted) stop()
  /** MKV bytes as they are go to `writable`; a stage's fragments to `fragments` (sent as each completes). */
  const target = (): Writable => (state.stage === undefined ? producer.writable : producer.fragments)
  const send = async (items: readonly unknown[]): Promise<boolean> => {
    const writable = target()
    for (const item of items) {
      if (signal.aborted || writable.destroyed) return false
      if (!writable.write(item)) await drained(writable, signal)
    }
    return true
  }
  /** The first bytes, held until there are enough to tell the format. */
  const head: Uint8Array[] = []
  let headBytes = 0
  let started = false
  /** Sends `chunk` through the stage; false when the stage failed (`state.stageError`) or sending stopped. */
  const pass = async (chunk: Uint8Array): Promise<boolean> => {
    if (state.stage === undefined) return send([chunk])
    let events: readonly unknown[]
    try {
      // A stage that fails after completing fragments returns them; the error comes from its next call.
      events = state.stage.push(chunk)
    } catch (error) {
      state.stageError = error
      return false
    }
    return send(events)
  }
  /** Tells the format from the first bytes, makes the stage and passes them; false when nothing more goes. */
  const start = async (): Promise<boolean> => {
    started = true
    const first = head.length === 1 ? head[0]! : Buffer.concat(head)
    if (state.format === undefined) {
      // MP4, TS, …: nothing of it is sent, the caller names what it is.
      state.foreign = detectForeignFormat(first)
      if (state.foreign !== undefined) return false
      state.format = detectFormat(first) ?? 'mkv'
    }
    state.stage = makeStage(state.format)
    return pass(first)
  }
  /**
   * Ends the stage, also after Ctrl-C: the fragments it still holds (the last one of a live source waits for
   * the next one's first frames) are complete and go out; an input cut by Ctrl-C is no error.
   */
  const flush = async (): Promise<void> => {
    const writable = target()
    if (state.stage === undefined || state.stageError !== undefined || writable.destroyed) return
    let events: readonly unknown[] = []
    try {
      events = state.stage.end()
    } catch (error) {
      if (!signal.aborted) state.stageError = error
    }
    for (const event of events) {
      if (writable.destroyed) return
      if (!writable.write(event) && !signal.aborted) await drained(writable, signal)
    }
    // An end() that returned fragments throws an error it found after them on the next call.
    if (events.length > 0) {
      try {
        state.stage.end()
      } catch (error) {
        if (!signal.aborted) state.stageError = error
      }
    }
  }
  /** The input ended by itself unless sending stopped (Ctrl-C, or the producer failed). */
  const ended = () => !signal.aborted && !target().destroyed
  try {
    for await (const chunk of input) {
      if (signal.aborted || target().destroyed) return false
      const bytes = chunk as Uint8Array
      state.bytesRead += bytes.byteLength
      if (!started) {
        head.push(bytes)
        headBytes += bytes.byteLength
        if (headBytes >= DETECT_BYTES && !(await start())) return ended()
        continue
      }
      if (!(await pass(bytes))) return ended()
    }
    if (!started && headBytes > 0 && !(await start())) return ended()
    return !signal.aborted
  } catch (error) {
    if (signal.aborted) return false
    throw error
  } finally {
    signal.removeEventListener('abort', stop)
    await flush()
    const writable = target()
    if (!writable.destroyed && !writable.writableEnded) writable.end()
  }
}

/** The EBML reader's `ERR_KVS_EBML_TRUNCATED` in `error`'s causes: the input stopped inside an element. */
export function truncationOf(error: unknown): { offset: number; message: string } | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const { code, offset } = current as { code?: unknown; offset?: unknown }
    if (code === 'ERR_KVS_EBML_TRUNCATED' && typeof offset === 'number') {
      return { offset, message: current.message.replace(/ \(at byte \d+\)$/, '') }
    }
    current = current.cause
  }
  return undefined
}
