/**
 * The shape every kvs-streams core has: a synchronous, incremental transformer from input chunks to events.
 * The adapters below hold no logic of their own; backpressure comes from the stream that hosts the core.
 */
export interface IncrementalCore<I, O> {
  push(chunk: I): O[]
  end(): O[]
}

/** Errors thrown by a core may carry the events completed before them; deliver those first. */
function completedBefore<O>(error: unknown): readonly O[] {
  const events = (error as { events?: unknown } | null)?.events
  return Array.isArray(events) ? (events as O[]) : []
}

/** Builds the `Transformer` of a WHATWG `TransformStream` around a core. */
export function coreTransformer<I, O>(core: IncrementalCore<I, O>): Transformer<I, O> {
  const run = (step: () => O[], controller: TransformStreamDefaultController<O>) => {
    let events: O[]
    try {
      events = step()
    } catch (error) {
      for (const event of completedBefore<O>(error)) controller.enqueue(event)
      throw error
    }
    for (const event of events) controller.enqueue(event)
  }
  return {
    transform: (chunk, controller) => run(() => core.push(chunk), controller),
    flush: (controller) => run(() => core.end(), controller),
  }
}

/** Runs a core over an async iterable, yielding its events (valid as a `stream.pipeline()` stage). */
export async function* iterateCore<I, O>(core: IncrementalCore<I, O>, source: AsyncIterable<I>): AsyncGenerator<O> {
  for await (const chunk of source) {
    let events: O[]
    try {
      events = core.push(chunk)
    } catch (error) {
      yield* completedBefore<O>(error)
      throw error
    }
    yield* events
  }
  let events: O[]
  try {
    events = core.end()
  } catch (error) {
    yield* completedBefore<O>(error)
    throw error
  }
  yield* events
}
