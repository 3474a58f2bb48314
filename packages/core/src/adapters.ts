/**
 * The shape every kvs-streams core has: a synchronous, incremental transformer from input chunks to events.
 * The adapters below hold no parsing logic; backpressure comes from the stream that hosts the core.
 */
export interface IncrementalCore<I, O> {
  /** Takes the next chunk; returns the events it completed (maybe none). */
  push(chunk: I): O[]
  /** The input ended: returns the trailing events, or throws when the input was cut short. */
  end(): O[]
}

/** Errors thrown by a core may carry the events completed before them; deliver those first. */
export function completedBefore<O>(error: unknown): readonly O[] {
  const events = (error as { events?: unknown } | null)?.events
  return Array.isArray(events) ? (events as O[]) : []
}

/**
 * Resolves once the readable side has handed out every queued chunk, or has closed or errored. Erroring a
 * WHATWG stream discards its queue, and a transformer is not told when chunks are read, so this polls
 * (1 ms, doubling up to 64 ms). Only a failed stream whose last chunks are still unread waits here.
 */
function drained(
  controller: TransformStreamDefaultController<unknown>,
  emptyDesiredSize: number,
): Promise<void> {
  return new Promise((resolve) => {
    let delay = 1
    const check = () => {
      const desiredSize = controller.desiredSize
      if (desiredSize === null || desiredSize >= emptyDesiredSize) return resolve()
      setTimeout(check, delay)
      delay = Math.min(delay * 2, 64)
    }
    check()
  })
}

/**
 * Builds the `Transformer` of a WHATWG `TransformStream` around a core. When `push()` fails, the events it
 * completed are enqueued and the error is raised only once they have been read (on the next write, which
 * the stream delays until its queue is empty, or in `flush` after the queue drains), since erroring a
 * stream discards the chunks still queued in it.
 */
export function coreTransformer<I, O>(core: IncrementalCore<I, O>): Transformer<I, O> {
  /** The error of a failed step whose completed events are still queued; raised by the next call. */
  let failure: { error: unknown } | undefined
  /** `desiredSize` of the readable side with an empty queue (its high-water mark), measured in `start`. */
  let emptyDesiredSize = 0
  /** Runs a step and enqueues its events. On failure enqueues the events it completed and holds the error. */
  const run = (step: () => O[], controller: TransformStreamDefaultController<O>): void => {
    let events: O[]
    try {
      events = step()
    } catch (error) {
      const before = completedBefore<O>(error)
      if (before.length === 0) throw error
      for (const event of before) controller.enqueue(event)
      failure = { error }
      return
    }
    for (const event of events) controller.enqueue(event)
  }
  return {
    start(controller) {
      emptyDesiredSize = controller.desiredSize ?? 0
    },
    transform(chunk, controller) {
      if (failure) throw failure.error
      run(() => core.push(chunk), controller)
    },
    async flush(controller) {
      if (!failure) run(() => core.end(), controller)
      if (failure) {
        await drained(controller, emptyDesiredSize)
        throw failure.error
      }
    },
  }
}

/** Options of `iterateCore`. */
export interface IterateCoreOptions {
  /** Stops before each chunk with the signal's reason once aborted (`stream.pipeline()` passes one). */
  signal?: AbortSignal | undefined
}

/**
 * Runs a core over an async (or sync) iterable, yielding its events (valid as a `stream.pipeline()` stage).
 * When the core fails, the events it completed before the failure are yielded, then the error is thrown.
 */
export async function* iterateCore<I, O>(
  core: IncrementalCore<I, O>,
  source: AsyncIterable<I> | Iterable<I>,
  options: IterateCoreOptions = {},
): AsyncGenerator<O> {
  const signal = options.signal
  // Events are yielded one by one rather than with `yield*`: delegating to an array from an async generator
  // wraps it in an async iterator and costs a promise round trip per chunk even when there is no event.
  for await (const chunk of source) {
    signal?.throwIfAborted()
    let events: O[]
    try {
      events = core.push(chunk)
    } catch (error) {
      yield* completedBefore<O>(error)
      throw error
    }
    for (let i = 0; i < events.length; i++) yield events[i]!
  }
  let events: O[]
  try {
    events = core.end()
  } catch (error) {
    yield* completedBefore<O>(error)
    throw error
  }
  for (let i = 0; i < events.length; i++) yield events[i]!
}
