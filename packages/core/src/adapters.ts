/**
 * The shape every kvs-streams core has: a synchronous, incremental transformer from input chunks to events.
 * The adapters below hold no parsing logic; backpressure comes from the stream that hosts the core.
 *
 * Errors: a core never loses an event it completed. When a `push()` or `end()` call fails after completing
 * some events, it returns those events and throws the error on the next call; when it completed none, it
 * throws at once. The failure is sticky: every later call (`push()` or `end()`) throws the same error.
 * Callers therefore handle the events a call returns before making the next call.
 *
 * `end()` may be called again once it has returned: a core that ended cleanly returns no event (or, if it can
 * read another input, treats it as an empty one), and a core whose `end()` failed after completing events
 * throws the error it held. The adapters make that second call whenever `end()` returned events.
 */
export interface IncrementalCore<I, O> {
  /** Takes the next chunk; returns the events it completed (maybe none). */
  push(chunk: I): O[]
  /** The input ended: returns the trailing events, or throws when the input was cut short. */
  end(): O[]
}

/**
 * What one call to a core completed: its events and, when it failed, the error, which comes after every one of
 * those events. `failed` tells a failure apart from an `error` that is undefined.
 */
export interface CoreOutcome<O> {
  events: O[]
  failed: boolean
  error: unknown
}

const NO_BYTES = new Uint8Array(0)

/**
 * Pushes `chunk` to `core` (ends it when `chunk` is undefined) and reports what the call completed; when it
 * returned events, calls again (an empty push, or `end()`) to surface an error held back for the next call.
 * No closures: this runs once per chunk on the parsers' hot paths.
 */
function settle<O>(core: IncrementalCore<Uint8Array, O>, chunk: Uint8Array | undefined): CoreOutcome<O> {
  let events: O[] = []
  try {
    events = chunk === undefined ? core.end() : core.push(chunk)
    if (events.length > 0) {
      if (chunk === undefined) core.end()
      else core.push(NO_BYTES)
    }
    return { events, failed: false, error: undefined }
  } catch (error) {
    return { events, failed: true, error }
  }
}

/**
 * Pushes `chunk` to a byte core and returns the events it completed together with the error it failed with,
 * if any: an error the core holds back for its next call (see `IncrementalCore`) is surfaced at once by an
 * empty push, so the caller handles the events and then the failure of this chunk, the one that held the
 * broken bytes. For callers that drive a core by hand; the adapters do this themselves.
 */
export function settledPush<O>(core: IncrementalCore<Uint8Array, O>, chunk: Uint8Array): CoreOutcome<O> {
  return settle(core, chunk)
}

/**
 * Ends a core and returns its trailing events together with the error it failed with, if any (an error held
 * back after trailing events is surfaced by calling `end()` again).
 */
export function settledEnd<O>(core: IncrementalCore<unknown, O>): CoreOutcome<O> {
  // Only `end()` is called: the input type does not matter.
  return settle(core as IncrementalCore<Uint8Array, O>, undefined)
}

/**
 * Ends a core, handing its trailing events to `deliver`, then throws the error it failed with, if any (after
 * the events were delivered). Internal to the adapters (not exported from the package).
 */
export function endCore<O>(core: IncrementalCore<unknown, O>, deliver: (events: O[]) => void): void {
  const { events, failed, error } = settledEnd(core)
  deliver(events)
  if (failed) throw error
}

/** Queuing strategies of the two sides of a `coreStreamPair` (as `TransformStream` takes them). */
export interface CoreStreamStrategies<I, O> {
  /** Of the writable side: input chunks buffered before `write()` waits. Default: high-water mark 1. */
  writableStrategy?: QueuingStrategy<I> | undefined
  /** Of the readable side: events buffered before writes wait. Default: high-water mark 0. */
  readableStrategy?: QueuingStrategy<O> | undefined
}

/**
 * Hosts a core in a WHATWG `{ readable, writable }` pair (for `pipeThrough()`), behaving as a
 * `TransformStream` would: a write runs `push()` once the readable side has room, closing the writable side
 * runs `end()`, cancelling the readable side errors the writable side, aborting the writable side errors the
 * readable side.
 *
 * When the core fails, the writable side errors at once (so a `pipeTo()` into it cancels its source), but
 * the readable side raises the error only once every event queued before it has been read: erroring a WHATWG
 * stream discards its queue, so the error is held until the consumer asks for more with an empty queue
 * (the readable's `pull()`), and a `pipeTo()` from it writes every event before aborting its sink. An abort
 * of the writable side (an upstream failure) reaches the readable side the same way. No timers are involved.
 */
export function coreStreamPair<I, O>(
  core: IncrementalCore<I, O>,
  strategies: CoreStreamStrategies<I, O> = {},
): ReadableWritablePair<O, I> {
  let readableController!: ReadableStreamDefaultController<O>
  let writableController!: WritableStreamDefaultController
  /** `desiredSize` of the readable side with an empty queue (its high-water mark). */
  let emptyDesiredSize = 0
  /** The core's error, or the writable side's abort reason: raised by the readable side once it is drained. */
  let failure: { error: unknown } | undefined
  /** The readable side's consumer cancelled it: writes fail with the reason. */
  let cancelled: { reason: unknown } | undefined
  /** The readable side is closed or errored: nothing more is enqueued. */
  let done = false
  /** True while the readable side has no outstanding demand: writes wait for its next `pull()`. */
  let backpressure = true
  /** Wakes a write waiting for demand (or for a cancel). */
  let wake: (() => void) | undefined

  const errorReadable = (error: unknown): void => {
    if (done) return
    done = true
    readableController.error(error)
  }
  /** Holds the core's error for the readable side: raised now when its queue is already empty. */
  const fail = (error: unknown): void => {
    failure = { error }
    if (readableController.desiredSize !== null && readableController.desiredSize >= emptyDesiredSize)
      errorReadable(error)
  }
  const enqueue = (events: O[]): void => {
    if (events.length === 0 || done) return
    // Set before enqueueing: an enqueue that leaves demand behind calls `pull()`, which clears it.
    backpressure = true
    for (let i = 0; i < events.length; i++) readableController.enqueue(events[i]!)
  }
  /** Runs a core call; on failure holds the error for the readable side and rethrows it (erroring the writable). */
  const run = (step: () => O[]): void => {
    let events: O[]
    try {
      events = step()
    } catch (error) {
      fail(error)
      throw error
    }
    enqueue(events)
  }

  const readable = new ReadableStream<O>(
    {
      start(controller) {
        readableController = controller
        emptyDesiredSize = controller.desiredSize ?? 0
      },
      pull(controller) {
        if (failure !== undefined) {
          // Only a read that found the queue empty leads here with a high-water mark of 0; with a bigger one,
          // `pull()` also runs while events are still queued, so check.
          if ((controller.desiredSize ?? 0) >= emptyDesiredSize) errorReadable(failure.error)
          return
        }
        backpressure = false
        const resume = wake
        wake = undefined
        resume?.()
      },
      cancel(reason) {
        done = true
        cancelled = { reason }
        writableController.error(reason)
        const resume = wake
        wake = undefined
        resume?.()
      },
    },
    strategies.readableStrategy ?? { highWaterMark: 0 },
  )

  const writable = new WritableStream<I>(
    {
      start(controller) {
        writableController = controller
      },
      async write(chunk) {
        while (backpressure && cancelled === undefined && failure === undefined)
          await new Promise<void>((resolve) => {
            wake = resolve
          })
        if (cancelled !== undefined) throw cancelled.reason
        if (failure !== undefined) throw failure.error
        run(() => core.push(chunk))
      },
      close() {
        if (failure !== undefined) throw failure.error
        try {
          endCore(core, enqueue)
        } catch (error) {
          fail(error)
          throw error
        }
        if (failure === undefined && !done) {
          done = true
          readableController.close()
        }
      },
      abort(reason) {
        // An upstream failure: like the core's own errors, raised once the events queued before it are read.
        fail(reason)
      },
    },
    strategies.writableStrategy ?? { highWaterMark: 1 },
  )

  return { readable, writable }
}

/**
 * Base of the WHATWG stream classes of kvs-streams: a core hosted by `coreStreamPair()`, exposing `readable`
 * and `writable` like a `TransformStream` (so `source.pipeThrough(new SomeStream())` works), without being one.
 */
export class CoreStream<I, O> implements ReadableWritablePair<O, I> {
  /** The events, and the core's error once every event before it was read. */
  readonly readable: ReadableStream<O>
  /** The input; its writes resolve as the readable side's consumer keeps up. */
  readonly writable: WritableStream<I>

  constructor(core: IncrementalCore<I, O>, strategies?: CoreStreamStrategies<I, O>) {
    const pair = coreStreamPair(core, strategies)
    this.readable = pair.readable
    this.writable = pair.writable
  }
}

/** Options of `iterateCore`. */
export interface IterateCoreOptions {
  /** Stops before each chunk with the signal's reason once aborted (`stream.pipeline()` passes one). */
  signal?: AbortSignal | undefined
}

/**
 * Runs a core over an async (or sync) iterable, yielding its events (valid as a `stream.pipeline()` stage).
 * When the core fails, the events its calls returned have been yielded; the error comes from the next call.
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
    const events = core.push(chunk)
    for (let i = 0; i < events.length; i++) yield events[i]!
  }
  const events = core.end()
  for (let i = 0; i < events.length; i++) yield events[i]!
  if (events.length > 0) yield* core.end()
}
