import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { type ChunkerEvent, type ClusterChunker, createClusterChunker } from '@kvs-streams/chunker'
import { settledEnd, settledPush } from '@kvs-streams/core'
import type { KvsSigner } from '@kvs-streams/signer'
import { createSettingsSigner } from '@kvs-streams/transport'
import { type ControlPlane, createControlPlane } from './control-plane.ts'
import { type DescribedStream, type ProducerCommand, ProducerCore, type ProducerTimer } from './core.ts'
import { withDeadline } from './deadline.ts'
import { END_OF_FRAGMENT_TAGS } from './end-of-fragment.ts'
import { FragmentMetadataError, ProducerError } from './errors.ts'
import { DEFAULT_MAX_QUEUED_EVENTS, EventQueue } from './event-queue.ts'
import type { ProducerEvent, ProducerEventMap, ProducerState } from './events.ts'
import type { PutMetadataOptions } from './fragment-metadata.ts'
import { type ProducerOptions, type ResolvedProducerOptions, resolveOptions } from './options.ts'
import { listFragmentsLister, type StoredFragmentLister, type TimestampRange } from './reconcile.ts'
import { SessionConnection } from './session.ts'
import type { ProducerStats } from './stats.ts'

/** Options of `producer.events()`. */
export interface ProducerEventsOptions {
  /** Events a slow consumer may fall behind before its iterator fails (`ERR_KVS_PRODUCER_EVENTS_OVERFLOW`). Default 10,000. */
  maxQueuedEvents?: number
}

/**
 * A resilient PutMedia producer. Write MKV bytes to `writable` (or pipe a file, stdin, `ffmpeg … -f matroska -`
 * into it); the producer cuts them into fragments, keeps each in a bounded replay buffer until the service
 * acknowledges it, and survives dropped, stale and refused connections by reconnecting and resending what was
 * not acknowledged — after checking with ListFragments which of those the service stored anyway.
 */
export interface Producer extends EventEmitter<ProducerEventMap> {
  /**
   * MKV bytes in. Its callbacks wait while the replay buffer is full (`whenFull: 'block'`), so backpressure
   * reaches the source. Ending it (or `close()`) sends what is left; it finishes once every fragment is
   * acknowledged, and errors (with the producer's error) otherwise. Destroying it ends the input where it is
   * (a partial last fragment is dropped): what was accepted is still delivered.
   */
  readonly writable: Writable
  /**
   * Fragments in, instead of MKV bytes: an object-mode writable taking the events of the chunker, the
   * repackager (`@kvs-streams/repackager`) or the muxer (`@kvs-streams/muxer`) as they emit them — a
   * `header` event, then `fragment` events (and `violation` events, handled as the producer's own
   * chunker's). Each fragment is taken as complete when it is written, so it is sent at once (MKV bytes wait
   * for the next element to know whether Tags follow the Cluster). Behaves as `writable` otherwise (the same
   * backpressure, end and destroy); write to one of the two, not both: `close()` ends the one written to.
   */
  readonly fragments: Writable
  readonly streamName: string
  /** The current state. */
  readonly state: ProducerState
  /** Every event from now on, in order, until the producer closes (an `error` event comes last on failure). */
  events(options?: ProducerEventsOptions): AsyncIterableIterator<ProducerEvent>
  /** A snapshot of the counters. */
  stats(): ProducerStats
  /**
   * Ends the input (if not ended yet) and resolves with the final stats once every fragment is acknowledged
   * and the last session is closed. Rejects with the fatal error, with the input's error, or with
   * `ERR_KVS_PRODUCER_INCOMPLETE` (listing them in `skipped`) when fragments were skipped or dropped.
   */
  close(): Promise<ProducerStats>
  /** Stops at once: the session is destroyed, unacknowledged fragments are abandoned, `close()` rejects. */
  abort(reason?: unknown): void
  /**
   * Adds a name/value tag (fragment metadata, as PIC's `putKinesisVideoFragmentMetadata`) to the current
   * fragment: the next one the input completes, i.e. the fragment whose Cluster is being written, or the next
   * one between fragments. It is written as a Tags element right after that fragment's Cluster, where the
   * service attributes it to that fragment, travels with the fragment (a resend carries it, in any session), and
   * GetMedia returns it after the Cluster. With `persistent: true` the tag also goes with every later fragment,
   * until a persistent tag of the same name replaces it or an empty `value` removes it. One-shot names may
   * repeat.
   *
   * The service's limits are checked here, so a refused tag is never sent: at most 10 tags per fragment
   * (persistent ones included), a name of 1 to 128 UTF-8 bytes not starting with `AWS`, a value of at most 256
   * bytes. A tag breaking them throws `FragmentMetadataError` and changes nothing; so does a call after the input
   * ended.
   * @throws {FragmentMetadataError} for a tag the service would refuse (ErrorId 4009), or after the input ended
   * @throws {TypeError} for a name, value or option of the wrong type
   * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html
   */
  putMetadata(name: string, value: string, options?: PutMetadataOptions): void
}

/**
 * Creates a producer. Nothing is sent until the first fragment is complete.
 *
 * ```ts
 * const producer = createProducer({ streamName: 'my-stream', region: 'us-west-2' })
 * producer.on('fragment-acknowledged', (event) => console.log(event.fragment.timecode, event.latencyMs))
 * await pipeline(createReadStream('video.mkv'), producer.writable)
 * ```
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function createProducer(options: ProducerOptions): Producer {
  return new KvsProducer(resolveOptions(options))
}

/** Timers that must not keep the process alive on their own (the others bound work the producer waits for). */
const UNREF_TIMERS: ReadonlySet<ProducerTimer> = new Set<ProducerTimer>([
  'rotation',
  'credentials',
  'received',
  'silence',
  'drain',
])

/**
 * The producer's driver: owns the writables, the sessions' connections, the control plane, the timers and the
 * listeners, and carries out the commands of its `ProducerCore` (`core.ts`), which holds all fragment state and
 * every decision. Nothing here decides anything about a fragment.
 */
class KvsProducer extends EventEmitter<ProducerEventMap> implements Producer {
  readonly writable: Writable
  readonly fragments: Writable
  /** Whether input came through `fragments` (events) rather than `writable` (bytes). */
  #eventInput = false
  readonly streamName: string
  readonly #options: ResolvedProducerOptions
  readonly #core: ProducerCore
  readonly #chunker: ClusterChunker
  readonly #control: ControlPlane
  readonly #signer: KvsSigner
  /** How fragments are looked up after a failed session; undefined when reconciliation is off. */
  readonly #lister: StoredFragmentLister | undefined
  /** Aborts control-plane and ListFragments calls when the producer stops. */
  readonly #abort = new AbortController()
  /** The connection of the core's current session. */
  #connection: { id: number; connection: SessionConnection } | undefined
  readonly #timers = new Map<ProducerTimer, NodeJS.Timeout>()
  /** Commands not yet carried out, and whether a loop is carrying them out (commands run in order, once). */
  readonly #pending: ProducerCommand[] = []
  #running = false
  /** A write callback held while the replay buffer is full (`'block'`). */
  #heldWrite: ((error?: Error | null) => void) | undefined
  /** The writable's `final` callback, called when the producer is done. */
  #finalCallback: ((error?: Error | null) => void) | undefined
  /** The outcome once finished or failed (`error` undefined: every fragment acknowledged). */
  #outcome: { error: Error | undefined } | undefined
  readonly #completion: Promise<ProducerStats>
  #resolveCompletion!: (stats: ProducerStats) => void
  #rejectCompletion!: (error: Error) => void
  readonly #queues = new Set<EventQueue<ProducerEvent>>()
  #statsTimer: NodeJS.Timeout | undefined

  constructor(options: ResolvedProducerOptions) {
    super()
    this.#options = options
    this.streamName = options.streamName
    this.#core = new ProducerCore({
      fragmentTimecodeType: options.fragmentTimecodeType,
      producerStartTimestamp: options.producerStartTimestamp,
      maxBytes: options.maxBytes,
      maxDurationMs: options.maxDurationMs,
      whenFull: options.whenFull,
      ackStalenessMs: options.ackStalenessMs,
      maxConnectionDurationMs: options.maxConnectionDurationMs,
      retry: options.retry,
      acknowledgeOn: options.acknowledgeOn,
      reconcile: options.reconcile === undefined ? undefined : { settleMs: options.reconcile.settleMs },
      trailer: options.endOfFragmentTags ? END_OF_FRAGMENT_TAGS : undefined,
      onViolation: options.onViolation,
      clock: options.clock,
      now: () => performance.now(),
    })
    this.#chunker = createClusterChunker({ ...options.chunker, onViolation: 'emit' })
    const signerCredentials = options.signer === undefined ? undefined : () => options.signer!.credentials()
    this.#control = createControlPlane({
      streamName: options.streamName,
      region: options.region,
      profile: options.profile,
      credentials: options.credentials ?? signerCredentials,
      endpoint: options.endpoint,
      dataEndpoint: options.dataEndpoint,
      client: options.client,
      clock: options.clock,
    })
    this.#signer =
      options.signer ?? createSettingsSigner(() => this.#control.settings(), { clock: options.clock })
    if (options.reconcile !== undefined) {
      this.#lister =
        options.reconcile.lister ??
        listFragmentsLister(
          {
            streamName: options.streamName,
            signer: this.#signer,
            ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
            ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
          },
          () => this.#control.dataEndpoint('LIST_FRAGMENTS'),
        )
    }
    this.#completion = new Promise<ProducerStats>((resolve, reject) => {
      this.#resolveCompletion = resolve
      this.#rejectCompletion = reject
    })
    // Reported through close(), the writable and 'error': never an unhandled rejection.
    this.#completion.catch(() => {})
    this.writable = new Writable({
      write: (chunk: Uint8Array, _encoding, callback) => this.#write(chunk, callback),
      final: (callback) => this.#final(callback),
      destroy: (error, callback) => {
        if (!this.#eventInput) this.#writableDestroyed(error)
        callback(error)
      },
    })
    this.fragments = new Writable({
      objectMode: true,
      write: (event: unknown, _encoding, callback) => this.#writeEvent(event, callback),
      final: (callback) => this.#final(callback),
      destroy: (error, callback) => {
        if (this.#eventInput) this.#writableDestroyed(error)
        callback(error)
      },
    })
    // The writables' errors also reject close() and reach pipeline(): an unheard one must not crash the process.
    this.writable.on('error', () => {})
    this.fragments.on('error', () => {})
    if (options.statsIntervalMs > 0) {
      this.#statsTimer = setInterval(() => {
        if (this.listenerCount('stats') > 0 || this.#queues.size > 0)
          this.#emit({ type: 'stats', stats: this.stats() })
      }, options.statsIntervalMs)
      this.#statsTimer.unref()
    }
    const { signal } = options
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => this.abort(signal.reason))
      else signal.addEventListener('abort', () => this.abort(signal.reason), { once: true })
    }
  }

  get state(): ProducerState {
    return this.#core.state
  }

  events(options: ProducerEventsOptions = {}): AsyncIterableIterator<ProducerEvent> {
    const maxQueued = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS
    if (!Number.isInteger(maxQueued) || maxQueued < 1) {
      throw new TypeError(`maxQueuedEvents must be an integer >= 1, got ${String(maxQueued)}`)
    }
    const queue = new EventQueue<ProducerEvent>(maxQueued, (done) => this.#queues.delete(done))
    if (this.#core.stopped) queue.end()
    else this.#queues.add(queue)
    return queue
  }

  stats(): ProducerStats {
    return this.#core.stats()
  }

  close(): Promise<ProducerStats> {
    const writable = this.#input
    if (!this.#core.stopped && !writable.writableEnded && !writable.destroyed) writable.end()
    return this.#completion
  }

  abort(reason?: unknown): void {
    this.#run(
      this.#core.fail(
        new ProducerError('ERR_KVS_PRODUCER_ABORTED', 'The producer was aborted', { cause: reason }),
      ),
    )
  }

  putMetadata(name: string, value: string, options?: PutMetadataOptions): void {
    if (this.#core.inputEnded || this.#core.stopped || this.#input.writableEnded) {
      throw new FragmentMetadataError(
        'ERR_KVS_PRODUCER_METADATA_INPUT_ENDED',
        `Tag ${JSON.stringify(String(name))} was put after the input ended: no fragment is left to carry it`,
        { tagName: String(name) },
      )
    }
    this.#core.putMetadata(name, value, options)
  }

  /** The writable the input comes through: `fragments` once an event was written to it, else `writable`. */
  get #input(): Writable {
    return this.#eventInput ? this.fragments : this.writable
  }

  // ── Input ────────────────────────────────────────────────────────────────────────────────────────────

  /** Answers a write that comes after the producer failed or its input ended: true when it did. */
  #refusesWrite(callback: (error?: Error | null) => void): boolean {
    const core = this.#core
    if (core.fatal !== undefined) callback(core.fatal)
    else if (core.inputEnded) callback(core.inputError ?? new Error('The producer input has ended'))
    else return false
    return true
  }

  /** Hands a write's chunker events to the core; its callback waits while the replay buffer is full. */
  #take(events: readonly ChunkerEvent[], callback: (error?: Error | null) => void): void {
    this.#run(this.#core.input(events))
    const core = this.#core
    if (core.inputError !== undefined) callback(core.inputError)
    else if (core.inputHeld && core.fatal === undefined) this.#heldWrite = callback
    else callback()
  }

  #write(chunk: Uint8Array, callback: (error?: Error | null) => void): void {
    if (this.#refusesWrite(callback)) return
    const data = this.#options.copyInput ? Buffer.from(chunk) : chunk
    const { events, failed, error } = settledPush(this.#chunker, data)
    if (failed) {
      this.#run(this.#core.endInput(error, events))
      callback(this.#core.inputError)
      return
    }
    this.#take(events, callback)
  }

  /** A chunker event written to `fragments`: taken as the producer's own chunker's events are. */
  #writeEvent(event: unknown, callback: (error?: Error | null) => void): void {
    this.#eventInput = true
    if (this.#refusesWrite(callback)) return
    const type = (event as { type?: unknown } | null)?.type
    if (type !== 'header' && type !== 'fragment' && type !== 'violation') {
      callback(
        new TypeError(
          `fragments takes the chunker's header, fragment and violation events, got ${
            event instanceof Uint8Array
              ? 'bytes (MKV bytes go to writable)'
              : type === undefined
                ? String(event === null ? null : typeof event)
                : `an event of type ${JSON.stringify(type)}`
          }`,
        ),
      )
      return
    }
    this.#take([event as ChunkerEvent], callback)
  }

  #final(callback: (error?: Error | null) => void): void {
    if (this.#outcome !== undefined) {
      callback(this.#outcome.error)
      return
    }
    this.#finalCallback = callback
    if (this.#core.inputEnded) return
    if (this.#eventInput) {
      this.#run(this.#core.endInput(undefined, []))
      return
    }
    const { events, failed, error } = settledEnd(this.#chunker)
    this.#run(this.#core.endInput(failed ? error : undefined, events))
  }

  #writableDestroyed(error: Error | null): void {
    this.#heldWrite = undefined
    this.#run(this.#core.inputDestroyed(error))
  }

  // ── Commands ─────────────────────────────────────────────────────────────────────────────────────────

  /** Carries out commands in order; commands produced while a loop runs join its queue. */
  #run(commands: readonly ProducerCommand[]): void {
    if (commands.length === 0) return
    const pending = this.#pending
    for (const command of commands) pending.push(command)
    if (this.#running) return
    this.#running = true
    let thrown: { error: unknown } | undefined
    try {
      while (pending.length > 0) {
        const command = pending.shift()!
        try {
          this.#execute(command)
        } catch (error) {
          // A listener threw: the other commands still run, then the first error goes to the caller.
          thrown ??= { error }
        }
      }
    } finally {
      this.#running = false
    }
    if (thrown !== undefined) throw thrown.error
  }

  #execute(command: ProducerCommand): void {
    switch (command.type) {
      case 'emit':
        this.#emit(command.event)
        return
      case 'write': {
        const open = this.#connection
        if (open === undefined || open.id !== command.sessionId) return
        const { id } = open
        open.connection.write(command.parts, () => this.#run(this.#core.written(id)))
        return
      }
      case 'set-timer': {
        const { timer } = command
        clearTimeout(this.#timers.get(timer))
        const handle = setTimeout(() => {
          this.#timers.delete(timer)
          this.#run(this.#core.timerFired(timer))
        }, command.delayMs)
        if (UNREF_TIMERS.has(timer)) handle.unref()
        this.#timers.set(timer, handle)
        return
      }
      case 'cancel-timer':
        clearTimeout(this.#timers.get(command.timer))
        this.#timers.delete(command.timer)
        return
      case 'prepare':
        void this.#prepare(command.sessionId, command.describe)
        return
      case 'open-session':
        this.#openSession(command.sessionId, command.header.bytes, command.endpoint)
        return
      case 'end-session': {
        const open = this.#connection
        if (open !== undefined && open.id === command.sessionId) open.connection.end()
        return
      }
      case 'destroy-session': {
        const open = this.#connection
        if (open === undefined || open.id !== command.sessionId) return
        this.#connection = undefined
        open.connection.destroy()
        return
      }
      case 'list-fragments':
        void this.#listFragments(command.sessionId, command.range, command.timeoutMs)
        return
      case 'invalidate-endpoint':
        this.#control.invalidate(command.api)
        return
      case 'refresh-credentials':
        this.#signer.refreshCredentials?.()
        return
      case 'release-input': {
        const callback = this.#heldWrite
        this.#heldWrite = undefined
        callback?.()
        return
      }
      case 'finish':
        this.#settle(command.error, command.stats)
        return
      case 'fail':
        this.#abort.abort(command.error)
        this.#settle(command.error, undefined)
        return
    }
  }

  /** DescribeStream (first session only) and GetDataEndpoint at once, then credentials: one round trip fewer. */
  async #prepare(sessionId: number, describe: boolean): Promise<void> {
    const { callTimeoutMs } = this.#options
    const abort = this.#abort.signal
    let stream: DescribedStream | undefined
    try {
      const [, endpoint] = await Promise.all([
        describe
          ? withDeadline(callTimeoutMs, abort, 'DescribeStream', (signal) =>
              this.#control.describeStream(signal),
            ).then((described) => {
              stream = described
            })
          : undefined,
        withDeadline(callTimeoutMs, abort, 'GetDataEndpoint', () => this.#control.dataEndpoint('PUT_MEDIA')),
      ])
      const { expiration } = await withDeadline(callTimeoutMs, abort, 'Getting credentials', () =>
        this.#signer.credentials(),
      )
      this.#run(this.#core.prepared(sessionId, { endpoint, expiration, stream }))
    } catch (error) {
      this.#run(this.#core.prepareFailed(sessionId, error, stream))
    }
  }

  #openSession(id: number, header: Uint8Array, endpoint: string): void {
    const options = this.#options
    let connection: SessionConnection
    try {
      connection = new SessionConnection(
        {
          endpoint,
          streamName: options.streamName,
          signer: this.#signer,
          fragmentTimecodeType: options.fragmentTimecodeType,
          producerStartTimestamp: options.producerStartTimestamp,
          ackStalenessMs: options.ackStalenessMs,
          ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        },
        header,
        {
          response: () => this.#run(this.#core.responded(id)),
          acks: (acks) => this.#run(this.#core.acks(id, acks)),
          ended: (cause) => this.#run(this.#core.sessionEnded(id, cause)),
        },
      )
    } catch (error) {
      // putMedia refused its options (an endpoint GetDataEndpoint should not have returned).
      this.#run(this.#core.openFailed(id, error))
      return
    }
    this.#connection = { id, connection }
  }

  async #listFragments(sessionId: number, range: TimestampRange, timeoutMs: number): Promise<void> {
    const lister = this.#lister
    if (lister === undefined) return
    try {
      const stored = await withDeadline(timeoutMs, this.#abort.signal, 'ListFragments', (signal) =>
        lister(range, signal),
      )
      this.#run(this.#core.listed(sessionId, stored))
    } catch (error) {
      this.#run(this.#core.listFailed(sessionId, error))
    }
  }

  // ── Outcome ──────────────────────────────────────────────────────────────────────────────────────────

  /** Finished (`stats` given) or failed: releases everything and reports the outcome once. */
  #settle(error: Error | undefined, stats: ProducerStats | undefined): void {
    if (this.#outcome !== undefined) return
    this.#outcome = { error }
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    clearInterval(this.#statsTimer)
    this.#statsTimer = undefined
    const open = this.#connection
    this.#connection = undefined
    open?.connection.destroy()
    this.#control.close()
    for (const queue of [...this.#queues]) queue.end()
    if (stats !== undefined && error === undefined) this.#resolveCompletion(stats)
    else this.#rejectCompletion(error!)
    const held = this.#heldWrite
    this.#heldWrite = undefined
    const final = this.#finalCallback
    this.#finalCallback = undefined
    if (stats !== undefined) {
      final?.(error)
      return
    }
    // Failed: the writable errors too (through `final` when it was ending).
    if (final !== undefined) final(error)
    else if (!this.#input.destroyed) this.#input.destroy(error)
    held?.(error)
  }

  #emit(event: ProducerEvent): void {
    for (const queue of this.#queues) queue.push(event)
    if (event.type === 'error') {
      // Node's convention would throw an unheard 'error'; close() and the writable report it already.
      if (this.listenerCount('error') > 0) this.emit('error', event.error)
      return
    }
    ;(this.emit as (name: string, value: unknown) => boolean)(event.type, event)
  }
}
