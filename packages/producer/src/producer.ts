import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { type Ack, describeAckError } from '@kvs-streams/acks'
import {
  type ChunkerEvent,
  type ChunkerFragmentEvent,
  type ClusterChunker,
  createClusterChunker,
  type Violation,
} from '@kvs-streams/chunker'
import type { KvsSigner } from '@kvs-streams/signer'
import { backoffDelay, createSettingsSigner } from '@kvs-streams/transport'
import { classifyFailure, classifyReconcileFailure, decideErrorAck } from './classify.ts'
import { type ControlPlane, createControlPlane } from './control-plane.ts'
import { delay, withDeadline } from './deadline.ts'
import { END_OF_FRAGMENT_TAGS } from './end-of-fragment.ts'
import { FragmentMetadataError, ProducerError } from './errors.ts'
import { DEFAULT_MAX_QUEUED_EVENTS, EventQueue } from './event-queue.ts'
import type {
  FragmentAcknowledgedEvent,
  FragmentRef,
  ProducerEvent,
  ProducerEventMap,
  ProducerState,
  SessionEndReason,
  SkippedFragment,
  StateChangeEvent,
  StateChangeReason,
} from './events.ts'
import { FragmentMetadataQueue, type PutMetadataOptions } from './fragment-metadata.ts'
import { type ProducerOptions, type ResolvedProducerOptions, resolveOptions } from './options.ts'
import { EARLIEST_ABSOLUTE_TIMESTAMP_MS, MAX_FUTURE_TIMESTAMP_MS } from './producer-start.ts'
import { listFragmentsLister, matchStored, rangeOf, type StoredFragmentLister } from './reconcile.ts'
import {
  type BufferedFragment,
  newBufferedFragment,
  ReplayBuffer,
  type SessionHeader,
} from './replay-buffer.ts'
import { Session } from './session.ts'
import { LatencyRecorder, type ProducerStats } from './stats.ts'

/** An empty chunk, pushed to the chunker to surface an error it holds back (no allocation per write). */
const NO_BYTES = new Uint8Array(0)

/** How many skipped fragments are kept for `close()`'s error (the count in `stats()` is exact). */
const MAX_SKIPPED_KEPT = 1000

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

class KvsProducer extends EventEmitter<ProducerEventMap> implements Producer {
  readonly writable: Writable
  readonly fragments: Writable
  /** Whether input came through `fragments` (events) rather than `writable` (bytes). */
  #eventInput = false
  readonly streamName: string
  readonly #options: ResolvedProducerOptions
  readonly #chunker: ClusterChunker
  readonly #buffer: ReplayBuffer
  readonly #control: ControlPlane
  readonly #signer: KvsSigner
  /** How fragments are looked up after a failed session; undefined when reconciliation is off. */
  readonly #lister: StoredFragmentLister | undefined
  /** Aborts control-plane and ListFragments calls when the producer stops. */
  readonly #abort = new AbortController()
  readonly #trailer: Uint8Array | undefined

  // Input side.
  /** The header of the input's current Segment: fragments keep the one they were cut under. */
  #header: SessionHeader | undefined
  /** Metadata for the next fragment the chunker completes, and the persistent tags for those after it. */
  readonly #metadata = new FragmentMetadataQueue()
  /** Fragment indexes the chunker reported a non-retriable violation for (`onViolation: 'skip'`). */
  readonly #violations = new Map<number, Violation>()
  /** No more input: the writable ended (or was destroyed, or the input was invalid). */
  #inputEnded = false
  /** Why the input stopped early (invalid MKV, a violation under `'throw'`, the writable destroyed with an error). */
  #inputError: Error | undefined
  /** A write callback held while the replay buffer is full (`'block'`). */
  #heldWrite: ((error?: Error | null) => void) | undefined
  /** The writable's `final` callback, called when the producer is done. */
  #finalCallback: ((error?: Error | null) => void) | undefined

  // Sessions.
  #state: ProducerState = 'idle'
  #session: Session | undefined
  #sessionSeq = 0
  /** A session is being prepared (control plane, reconciliation, endpoint, credentials). */
  #connecting = false
  /** The backoff before the next attempt. */
  #retryTimer: NodeJS.Timeout | undefined
  /** Rotation deadlines of the current session (age, credential expiry). */
  #rotationTimers: NodeJS.Timeout[] = []
  /** Why the next session opens (see `StateChangeEvent.reason`). */
  #nextReason: StateChangeReason = 'start'
  /** Which ack settles a fragment; known once DescribeStream answered (or given). */
  #acknowledgeOn: 'PERSISTED' | 'RECEIVED' | undefined
  /** DescribeStream done (or not needed). */
  #ready = false
  /** Consecutive failures without an acknowledged fragment. */
  #failures = 0
  /** Fragments written in a session that ended without their ack: to look up before they are resent. */
  #uncertain = new Set<BufferedFragment>()
  /**
   * A session opened after a failure, held (nothing written to it but the MKV header) until the service has
   * answered it and reconciliation has looked up the uncertain fragments.
   */
  #held: Session | undefined
  /**
   * Clock reading before which no session may be signed: set when a session that wrote fragments failed
   * before the service answered it, so its request head may still be on its way. The next session is then
   * signed in a later second (`x-amz-date` has whole seconds), so the service, which accepts the newest
   * PutMedia connection by request start, can never take the old one for the newer.
   */
  #notBefore = 0

  // Outcome.
  #fatal: Error | undefined
  #finished = false
  #skipped: SkippedFragment[] = []
  readonly #completion: Promise<ProducerStats>
  #resolveCompletion!: (stats: ProducerStats) => void
  #rejectCompletion!: (error: Error) => void
  readonly #queues = new Set<EventQueue<ProducerEvent>>()
  #statsTimer: NodeJS.Timeout | undefined

  // Counters.
  #bytesSent = 0
  #accepted = 0
  #sentUnique = 0
  #resent = 0
  #received = 0
  #persisted = 0
  #reconciled = 0
  #acknowledged = 0
  #skippedCount = 0
  #fateUnknown = 0
  #possibleDuplicates = 0
  #sessions = 0
  #reconnects = 0
  #rotations = 0
  readonly #receivedLatency = new LatencyRecorder()
  readonly #persistedLatency = new LatencyRecorder()

  constructor(options: ResolvedProducerOptions) {
    super()
    this.#options = options
    this.streamName = options.streamName
    this.#acknowledgeOn = options.acknowledgeOn
    this.#trailer = options.endOfFragmentTags ? END_OF_FRAGMENT_TAGS : undefined
    this.#chunker = createClusterChunker({ ...options.chunker, onViolation: 'emit' })
    this.#buffer = new ReplayBuffer({ maxBytes: options.maxBytes, maxDurationMs: options.maxDurationMs })
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
    return this.#state
  }

  events(options: ProducerEventsOptions = {}): AsyncIterableIterator<ProducerEvent> {
    const maxQueued = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS
    if (!Number.isInteger(maxQueued) || maxQueued < 1) {
      throw new TypeError(`maxQueuedEvents must be an integer >= 1, got ${String(maxQueued)}`)
    }
    const queue = new EventQueue<ProducerEvent>(maxQueued, (done) => this.#queues.delete(done))
    if (this.#stopped) queue.end()
    else this.#queues.add(queue)
    return queue
  }

  stats(): ProducerStats {
    return {
      state: this.#state,
      bytesSent: this.#bytesSent,
      fragments: {
        accepted: this.#accepted,
        buffered: this.#buffer.size,
        sent: this.#sentUnique,
        resent: this.#resent,
        received: this.#received,
        persisted: this.#persisted,
        reconciled: this.#reconciled,
        acknowledged: this.#acknowledged,
        skipped: this.#skippedCount,
        fateUnknown: this.#fateUnknown,
        possibleDuplicates: this.#possibleDuplicates,
      },
      replayBuffer: {
        bytes: this.#buffer.bytes,
        durationMs: this.#buffer.durationMs,
        maxBytes: this.#options.maxBytes,
        maxDurationMs: this.#options.maxDurationMs,
      },
      ackLatencyMs: {
        received: this.#receivedLatency.summary(),
        persisted: this.#persistedLatency.summary(),
      },
      sessions: this.#sessions,
      reconnects: this.#reconnects,
      rotations: this.#rotations,
      consecutiveFailures: this.#failures,
    }
  }

  close(): Promise<ProducerStats> {
    const writable = this.#input
    if (!this.#stopped && !writable.writableEnded && !writable.destroyed) writable.end()
    return this.#completion
  }

  abort(reason?: unknown): void {
    this.#fail(new ProducerError('ERR_KVS_PRODUCER_ABORTED', 'The producer was aborted', { cause: reason }))
  }

  putMetadata(name: string, value: string, options?: PutMetadataOptions): void {
    if (this.#inputEnded || this.#stopped || this.#input.writableEnded) {
      throw new FragmentMetadataError(
        'ERR_KVS_PRODUCER_METADATA_INPUT_ENDED',
        `Tag ${JSON.stringify(String(name))} was put after the input ended: no fragment is left to carry it`,
        { tagName: String(name) },
      )
    }
    this.#metadata.put(name, value, options)
  }

  /** The writable the input comes through: `fragments` once an event was written to it, else `writable`. */
  get #input(): Writable {
    return this.#eventInput ? this.fragments : this.writable
  }

  get #stopped(): boolean {
    return this.#fatal !== undefined || this.#finished
  }

  // ── Input ────────────────────────────────────────────────────────────────────────────────────────────

  /** Answers a write that comes after the producer failed or its input ended: true when it did. */
  #refusesWrite(callback: (error?: Error | null) => void): boolean {
    if (this.#fatal !== undefined) callback(this.#fatal)
    else if (this.#inputEnded) callback(this.#inputError ?? new Error('The producer input has ended'))
    else return false
    return true
  }

  /** Takes a write's chunker events; its callback waits while the replay buffer is full (`whenFull: 'block'`). */
  #take(events: readonly ChunkerEvent[], callback: (error?: Error | null) => void): void {
    if (!this.#handleChunkerEvents(events)) callback(this.#inputError)
    else if (this.#options.whenFull === 'block' && this.#buffer.full) this.#heldWrite = callback
    else callback()
    this.#pump()
  }

  #write(chunk: Uint8Array, callback: (error?: Error | null) => void): void {
    if (this.#refusesWrite(callback)) return
    const data = this.#options.copyInput ? Buffer.from(chunk) : chunk
    let events: ChunkerEvent[] = []
    try {
      events = this.#chunker.push(data)
      // A failure after some events is thrown by the chunker's next call: surface it with this write.
      if (events.length > 0) this.#chunker.push(NO_BYTES)
    } catch (error) {
      this.#handleChunkerEvents(events)
      this.#inputFailed(error)
      callback(this.#inputError)
      this.#pump()
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
    if (this.#fatal !== undefined) {
      callback(this.#fatal)
      return
    }
    if (!this.#inputEnded) {
      try {
        const events = this.#chunker.end()
        this.#handleChunkerEvents(events)
        // An end() that returned events throws an error it found after them on the next call.
        if (events.length > 0) this.#chunker.end()
      } catch (error) {
        this.#inputFailed(error)
      }
      this.#inputEnded = true
    }
    this.#finalCallback = callback
    this.#pump()
  }

  #writableDestroyed(error: Error | null): void {
    this.#heldWrite = undefined
    if (this.#stopped || this.#inputEnded) return
    // The writer went away (a source error in pipeline(), or destroy()): deliver what was accepted.
    this.#inputEnded = true
    if (error !== null && this.#inputError === undefined) this.#inputError = error
    this.#pump()
  }

  /** The input is unusable: stop accepting it, deliver what was accepted, fail `close()` with the reason. */
  #inputFailed(error: unknown): void {
    this.#inputEnded = true
    if (this.#inputError !== undefined) return
    this.#inputError = ProducerError.is(error)
      ? error
      : new ProducerError(
          'ERR_KVS_PRODUCER_INVALID_INPUT',
          `The input is not usable MKV: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
  }

  /** Takes the chunker's events; false when the input failed (a violation under `onViolation: 'throw'`). */
  #handleChunkerEvents(events: readonly ChunkerEvent[]): boolean {
    for (const event of events) {
      if (event.type === 'header') {
        this.#header = { bytes: event.bytes, timecodeScale: event.timecodeScale }
      } else if (event.type === 'fragment') {
        this.#accept(event)
        if (this.#inputError !== undefined) return false
      } else if (event.type === 'violation') {
        const { violation } = event
        this.#emit({ type: 'violation', violation })
        // Only a fragment the service would refuse for good matters here: a second Segment just starts a new
        // session, and what KVS accepts (a fragment not starting with a key frame) is sent as it is.
        const { fragmentIndex, errorId } = violation
        const refused =
          fragmentIndex !== undefined && errorId !== undefined && !describeAckError(errorId).retriable
        if (!refused || this.#options.onViolation === 'send') continue
        if (this.#options.onViolation === 'throw') {
          this.#inputFailed(new ProducerError('ERR_KVS_PRODUCER_VIOLATION', violation.message, { errorId }))
          return false
        }
        this.#violations.set(fragmentIndex, violation)
      }
    }
    return true
  }

  /** Why KVS would store a fragment at the wrong time or refuse it (with the option that fixes it), if it would. */
  #misdated(index: number, producerTimestampMs: number): ProducerError | undefined {
    const { fragmentTimecodeType, clock } = this.#options
    // Formatted only for a message: this runs for every fragment.
    const at = () => new Date(producerTimestampMs).toISOString()
    if (fragmentTimecodeType === 'ABSOLUTE' && producerTimestampMs < EARLIEST_ABSOLUTE_TIMESTAMP_MS) {
      return new ProducerError(
        'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE',
        `fragmentTimecodeType 'ABSOLUTE' would store fragment ${index} at ${at()}: its Cluster ` +
          "timecodes are not wall-clock times. Use fragmentTimecodeType 'RELATIVE' (the default), with " +
          'producerStartTimestamp: await producerStartForFile(bytes) for a recording',
      )
    }
    const aheadMs = producerTimestampMs - clock()
    if (aheadMs > MAX_FUTURE_TIMESTAMP_MS) {
      const fix =
        fragmentTimecodeType === 'ABSOLUTE'
          ? "Check the encoder's clock, or use fragmentTimecodeType 'RELATIVE' (the default)"
          : 'For a recording sent faster than real time, pass producerStartTimestamp: await ' +
            'producerStartForFile(bytes) (its last frame then ends now), or write the media at real time'
      return new ProducerError(
        'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE',
        `Fragment ${index} would be stored at ${at()}, ${Math.round(aheadMs / 1000)} s ahead of ` +
          `the clock, and KVS refuses fragments from the future (ERROR ack 4007). ${fix}`,
      )
    }
    return undefined
  }

  #accept(event: ChunkerFragmentEvent): void {
    const header = this.#header
    if (header === undefined) {
      this.#inputFailed(new Error('a fragment before the MKV header'))
      return
    }
    const milliseconds = Math.round((event.timecode * header.timecodeScale) / 1_000_000)
    const producerTimestampMs =
      this.#options.fragmentTimecodeType === 'ABSOLUTE'
        ? milliseconds
        : this.#options.producerStartTimestamp + milliseconds
    const misdated = this.#misdated(event.index, producerTimestampMs)
    if (misdated !== undefined) {
      this.#inputFailed(misdated)
      return
    }
    this.#accepted++
    // The fragment's metadata follows its Cluster (and any Tags the input had there): it travels with it.
    const metadata = this.#metadata.take()
    const ref: FragmentRef = {
      index: event.index,
      timecode: event.timecode,
      producerTimestampMs,
      byteLength: event.byteLength + (metadata?.bytes.length ?? 0),
      durationMs: event.durationMs,
      ...(metadata === undefined ? {} : { metadata: metadata.tags }),
    }
    const violation = this.#violations.get(event.index)
    if (violation !== undefined) {
      this.#violations.delete(event.index)
      this.#skip({
        fragment: ref,
        reason: 'violation',
        errorId: violation.errorId,
        errorCode:
          violation.errorId === undefined ? undefined : describeAckError(violation.errorId).errorCode,
        message: violation.message,
        fate: 'not-stored',
      })
      return
    }
    const fragment = newBufferedFragment({
      ref,
      header,
      bytes: metadata === undefined ? event.parts : [...event.parts, metadata.bytes],
      startMs: event.startMs,
      endMs: event.endMs,
      acceptedAt: this.#options.clock(),
    })
    this.#buffer.add(fragment)
    if (this.#options.whenFull === 'drop-oldest') {
      while (this.#buffer.full && this.#buffer.size > 1) {
        const oldest = this.#buffer.oldest()
        if (oldest === undefined || oldest === fragment) break
        this.#skip(
          {
            fragment: oldest.ref,
            reason: 'buffer-full',
            errorId: undefined,
            errorCode: undefined,
            message:
              oldest.sends > 0
                ? 'Dropped from the full replay buffer before its acknowledgement: it was sent, and whether the service stored it is unknown'
                : 'Dropped from the full replay buffer before it could be sent',
            fate: oldest.sends > 0 ? 'unknown' : 'not-stored',
          },
          oldest,
        )
      }
    }
  }

  // ── Sessions ─────────────────────────────────────────────────────────────────────────────────────────

  /** Moves things along: opens a session, writes the next fragment, ends a session, or finishes. */
  #pump(): void {
    if (this.#stopped) return
    const session = this.#session
    if (session === undefined) {
      if (this.#connecting || this.#retryTimer !== undefined) return
      if (this.#buffer.size === 0) {
        if (this.#inputEnded) this.#finish()
        return
      }
      this.#connect().catch((error: unknown) => {
        // Not expected (every step handles its failures): stop rather than leave the producer stuck.
        this.#fail(error instanceof Error ? error : new Error(String(error)))
      })
      return
    }
    if (session.state !== 'open' || session.writing || session === this.#held) return
    const next = this.#buffer.peek()
    if (next === undefined) {
      // Everything is written. The session ends when nothing more can come (without end-of-fragment tags the
      // last fragment is only complete once the body ends), or once every fragment is acknowledged.
      if (this.#inputEnded && (this.#buffer.size === 0 || this.#trailer === undefined)) session.end('end')
      return
    }
    if (next.header !== session.header) {
      session.end('header')
      return
    }
    next.sessionId = session.id
    next.progress = 'sent'
    next.sends++
    if (next.sends === 1) this.#sentUnique++
    else this.#resent++
    this.#buffer.advance()
    session.write(next, this.#trailer, () => this.#pump())
  }

  async #connect(): Promise<void> {
    this.#connecting = true
    const reason = this.#nextReason
    const id = ++this.#sessionSeq
    this.#setState('connecting', { sessionId: id, reason })
    const { callTimeoutMs, clock } = this.#options
    const abort = this.#abort.signal
    let expiration: Date | undefined
    let endpoint: string
    try {
      // DescribeStream (before the first session only) and GetDataEndpoint at once: a round trip fewer before
      // the first byte is sent.
      ;[, endpoint] = await Promise.all([
        this.#prepare(),
        withDeadline(callTimeoutMs, abort, 'GetDataEndpoint', () => this.#control.dataEndpoint('PUT_MEDIA')),
      ])
      expiration = (
        await withDeadline(callTimeoutMs, abort, 'Getting credentials', () => this.#signer.credentials())
      ).expiration
      const waitMs = this.#notBefore - clock()
      if (waitMs > 0) await delay(waitMs, abort)
    } catch (error) {
      this.#connecting = false
      this.#failed(error, undefined)
      return
    }
    if (this.#stopped) {
      this.#connecting = false
      return
    }
    this.#buffer.rewind()
    const first = this.#buffer.peek()
    if (first === undefined) {
      // Everything written before was acknowledged after all (or skipped): nothing to resend.
      this.#connecting = false
      this.#uncertain.clear()
      this.#setState('idle', { reason: 'resume' })
      this.#pump()
      return
    }
    const uncertain = [...this.#uncertain].filter((fragment) => !fragment.settled)
    if (uncertain.length === 0) this.#uncertain.clear()
    let session: Session
    try {
      session = this.#openSession(id, first.header, endpoint, reason)
    } catch (error) {
      // putMedia refused its options (an endpoint GetDataEndpoint should not have returned).
      this.#connecting = false
      this.#failed(error, undefined)
      return
    }
    this.#session = session
    this.#sessions++
    if (reason === 'retry') this.#reconnects++
    this.#scheduleRotation(session, expiration)
    if (uncertain.length > 0) {
      // Exactly once: the fragments of a failed session are looked up only once this session has been
      // answered. The service accepts one PutMedia connection per stream, the newest: from its 200 on, nothing
      // the old connection still has in flight can complete a fragment, so what ListFragments does not list
      // now will never be stored by the old session, and resending it cannot store it twice.
      this.#held = session
      try {
        await withDeadline(this.#staleBoundMs, abort, `The answer to PutMedia session ${id}`, () =>
          session.responded200(),
        )
        await this.#reconcile(id, uncertain)
      } catch (error) {
        this.#held = undefined
        this.#connecting = false
        // Closing the session reports the failure (retry after a backoff, or fatal); a session that closed
        // by itself has reported it already.
        if (session.state !== 'closed') session.destroy(error)
        else this.#pump()
        return
      }
      this.#held = undefined
      if (session.state !== 'closed') this.#setState('streaming', { sessionId: id, reason })
    }
    this.#connecting = false
    this.#buffer.rewind()
    this.#pump()
  }

  /** The bound on a ListFragments call and on the wait for a new session's answer, ms. */
  get #staleBoundMs(): number {
    return this.#options.ackStalenessMs > 0 ? this.#options.ackStalenessMs : 10_000
  }

  #openSession(id: number, header: SessionHeader, endpoint: string, reason: StateChangeReason): Session {
    const options = this.#options
    return new Session(
      {
        id,
        header,
        putMedia: {
          endpoint,
          streamName: options.streamName,
          signer: this.#signer,
          fragmentTimecodeType: options.fragmentTimecodeType,
          producerStartTimestamp: options.producerStartTimestamp,
          ackStalenessMs: options.ackStalenessMs,
          ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        },
        staleAfterMs: options.ackStalenessMs,
        watchReceived: this.#trailer !== undefined,
        onBytes: (byteLength) => {
          this.#bytesSent += byteLength
        },
      },
      {
        response: (opened) => {
          if (opened !== this.#held) this.#setState('streaming', { sessionId: opened.id, reason })
        },
        ack: (from, ack) => this.#onAck(from, ack),
        closed: (closed, cause) => this.#sessionClosed(closed, cause),
      },
    )
  }

  /** DescribeStream once: whether the stream exists and is active, and which ack settles a fragment. */
  async #prepare(): Promise<void> {
    if (this.#ready) return
    if (this.#acknowledgeOn === undefined) {
      const { retentionHours, status } = await withDeadline(
        this.#options.callTimeoutMs,
        this.#abort.signal,
        'DescribeStream',
        (signal) => this.#control.describeStream(signal),
      )
      if (status !== 'ACTIVE' && status !== 'UPDATING') throw new Error(`The stream is ${status}, not ACTIVE`)
      this.#acknowledgeOn = retentionHours > 0 ? 'PERSISTED' : 'RECEIVED'
    }
    this.#ready = true
  }

  /**
   * Looks up `candidates` (fragments whose session failed before their ack) with ListFragments, by producer
   * timestamp, and settles those the service stored, so they are not sent twice. Those not listed get a second
   * look after `settleMs` (ListFragments is eventually consistent on the service). Each call is bounded by a
   * held timer. A call that gets no answer throws (the attempt is retried, the fragments stay uncertain); a
   * refusal asking again cannot change resends them unchecked, each reported as `possible-duplicate`.
   */
  async #reconcile(sessionId: number, candidates: BufferedFragment[]): Promise<void> {
    const lister = this.#lister
    if (lister === undefined) {
      this.#uncertain.clear()
      for (const fragment of candidates) this.#possibleDuplicate(fragment, 'reconciliation-off', undefined)
      return
    }
    const abort = this.#abort.signal
    const found = new Set<BufferedFragment>()
    const timestampOf = (fragment: BufferedFragment): number => fragment.ref.producerTimestampMs
    const look = async (fragments: BufferedFragment[]): Promise<void> => {
      const stored = await withDeadline(this.#staleBoundMs, abort, 'ListFragments', (signal) =>
        lister(rangeOf(fragments, timestampOf), signal),
      )
      for (const fragment of matchStored(fragments, stored, timestampOf)) found.add(fragment)
    }
    try {
      await look(candidates)
      const settleMs = this.#options.reconcile?.settleMs ?? 0
      const unlisted = candidates.filter((fragment) => !found.has(fragment) && !fragment.settled)
      if (unlisted.length > 0 && settleMs > 0) {
        await delay(settleMs, abort)
        await look(unlisted)
      }
    } catch (error) {
      if (classifyReconcileFailure(error) === 'retry') {
        if (classifyFailure(error, 'ListFragments').kind === 'retry')
          this.#control.invalidate('LIST_FRAGMENTS')
        throw error
      }
      this.#uncertain.clear()
      this.#emit({ type: 'reconciliation', sessionId, checked: candidates.length, found: 0, error })
      for (const fragment of candidates) this.#possibleDuplicate(fragment, 'reconciliation-refused', error)
      return
    }
    this.#uncertain.clear()
    for (const fragment of candidates) {
      if (found.has(fragment)) this.#acknowledge(fragment, 'LIST_FRAGMENTS')
    }
    this.#emit({
      type: 'reconciliation',
      sessionId,
      checked: candidates.length,
      found: found.size,
      error: undefined,
    })
  }

  /** `fragment`, of unknown fate, is about to be resent without a ListFragments check. */
  #possibleDuplicate(
    fragment: BufferedFragment,
    reason: 'reconciliation-off' | 'reconciliation-refused',
    error: unknown,
  ): void {
    if (fragment.settled) return
    this.#possibleDuplicates++
    this.#emit({ type: 'possible-duplicate', fragment: fragment.ref, reason, error })
  }

  /** Replaces the session before it reaches `maxConnectionDurationMs` or its credentials expire. */
  #scheduleRotation(session: Session, expiration: Date | undefined): void {
    const timers: NodeJS.Timeout[] = []
    const { maxConnectionDurationMs, clock } = this.#options
    timers.push(setTimeout(() => this.#rotate(session, 'rotation'), maxConnectionDurationMs))
    if (expiration !== undefined) {
      const remaining = expiration.getTime() - clock()
      // PIC rotates 3 s before the streaming token expires; short-lived credentials get half their life.
      const due = remaining - Math.min(3_000, remaining / 2)
      if (due > 0 && due < maxConnectionDurationMs) {
        timers.push(setTimeout(() => this.#rotate(session, 'credentials'), due))
      }
    }
    for (const timer of timers) timer.unref()
    this.#rotationTimers = timers
  }

  #rotate(session: Session, reason: SessionEndReason): void {
    // Ending after the fragments written so far is a fragment boundary: only whole fragments are written.
    if (this.#session === session && session.state === 'open') session.end(reason)
  }

  #onAck(session: Session, ack: Ack): void {
    const fragment =
      ack.fragmentTimecode === undefined ? undefined : session.fragments.get(ack.fragmentTimecode)
    this.#emit({ type: 'ack', ack, sessionId: session.id, fragment: fragment?.ref })
    // A settled fragment still counts in the stats (PERSISTED after a RECEIVED that settled it).
    if (fragment === undefined || fragment.sessionId !== session.id) return
    if (ack.fragmentNumber !== undefined) fragment.fragmentNumber = ack.fragmentNumber
    const now = this.#options.clock()
    switch (ack.eventType) {
      case 'BUFFERING':
        if (fragment.progress === 'sent') fragment.progress = 'buffering'
        return
      case 'RECEIVED':
        if (fragment.progress !== 'persisted') fragment.progress = 'received'
        if (!fragment.receivedSeen) {
          fragment.receivedSeen = true
          this.#received++
          this.#receivedLatency.record(now - fragment.acceptedAt)
        }
        if (this.#acknowledgeOn === 'RECEIVED') this.#acknowledge(fragment, 'RECEIVED')
        return
      case 'PERSISTED':
        fragment.progress = 'persisted'
        if (!fragment.persistedSeen) {
          fragment.persistedSeen = true
          this.#persisted++
          this.#persistedLatency.record(now - fragment.acceptedAt)
        }
        this.#acknowledge(fragment, 'PERSISTED')
        return
      default:
        return
    }
  }

  #acknowledge(fragment: BufferedFragment, by: FragmentAcknowledgedEvent['acknowledgedBy']): void {
    if (fragment.settled) return
    this.#buffer.settle(fragment)
    this.#acknowledged++
    if (by === 'LIST_FRAGMENTS') this.#reconciled++
    this.#failures = 0
    this.#emit({
      type: 'fragment-acknowledged',
      fragment: fragment.ref,
      acknowledgedBy: by,
      fragmentNumber: fragment.fragmentNumber,
      latencyMs: this.#options.clock() - fragment.acceptedAt,
      sends: fragment.sends,
    })
    this.#releaseHeldWrite()
    this.#pump()
  }

  #skip(record: SkippedFragment, fragment?: BufferedFragment): void {
    if (fragment !== undefined) {
      if (fragment.settled) return
      this.#buffer.settle(fragment)
    }
    this.#skippedCount++
    if (record.fate === 'unknown') this.#fateUnknown++
    if (this.#skipped.length < MAX_SKIPPED_KEPT) this.#skipped.push(record)
    this.#emit({ type: 'fragment-skipped', ...record })
    this.#releaseHeldWrite()
  }

  #releaseHeldWrite(): void {
    const callback = this.#heldWrite
    if (callback === undefined || this.#buffer.full) return
    this.#heldWrite = undefined
    callback()
  }

  #sessionClosed(session: Session, cause: unknown): void {
    if (this.#session === session) this.#session = undefined
    for (const timer of this.#rotationTimers) clearTimeout(timer)
    this.#rotationTimers = []
    let unsettled = false
    for (const fragment of session.fragments.values()) {
      if (fragment.settled || fragment.sessionId !== session.id) continue
      this.#uncertain.add(fragment)
      unsettled = true
    }
    if (unsettled && !session.responded) {
      // Its request head may still be on its way: sign the next session in a later second (see #notBefore).
      const now = this.#options.clock()
      this.#notBefore = Math.max(this.#notBefore, (Math.floor(now / 1000) + 1) * 1000)
    }
    if (this.#stopped) return
    const errorAck = session.errorAck
    if (errorAck !== undefined) {
      const fragment = session.errorFragment
      const attributable = fragment !== undefined && !fragment.settled && fragment.sessionId === session.id
      if (decideErrorAck(errorAck.errorId, attributable) === 'skip' && fragment !== undefined) {
        const info = describeAckError(errorAck.errorId!)
        this.#uncertain.delete(fragment)
        this.#skip(
          {
            fragment: fragment.ref,
            reason: 'error-ack',
            errorId: errorAck.errorId,
            errorCode: errorAck.errorCode ?? info.errorCode,
            message: info.description,
            fate: 'not-stored',
          },
          fragment,
        )
      }
    }
    if (cause === undefined && this.#inputEnded && this.#buffer.size === 0) {
      this.#finish()
      return
    }
    if (cause === undefined || (!unsettled && errorAck === undefined && this.#buffer.size === 0)) {
      // Ended on purpose (rotation, header change, end of input), or failed with nothing at stake.
      if (cause === undefined && session.endReason !== 'end') this.#rotations++
      this.#nextReason = cause === undefined && session.endReason !== 'end' ? session.endReason! : 'resume'
      if (cause !== undefined) {
        const decision = classifyFailure(cause, `PutMedia session ${session.id}`)
        if (decision.kind === 'fatal') {
          this.#fail(decision.error)
          return
        }
      }
      this.#setState('idle', { sessionId: session.id, reason: this.#nextReason })
      this.#pump()
      return
    }
    this.#failed(cause ?? new Error('session ended'), session)
  }

  /** A session or its preparation failed: give up if fatal or too many in a row, else retry after a backoff. */
  #failed(cause: unknown, session: Session | undefined): void {
    if (this.#stopped) return
    const decision = classifyFailure(
      cause,
      session === undefined ? 'Opening a session' : `PutMedia session ${session.id}`,
    )
    if (decision.kind === 'fatal') {
      this.#fail(decision.error)
      return
    }
    if (decision.invalidateEndpoint) this.#control.invalidate('PUT_MEDIA')
    if (decision.refreshCredentials) this.#signer.refreshCredentials?.()
    this.#failures++
    const { retry } = this.#options
    if (this.#failures >= retry.maxAttempts) {
      this.#fail(
        new ProducerError(
          'ERR_KVS_PRODUCER_TOO_MANY_FAILURES',
          `${this.#failures} consecutive failures without an acknowledged fragment; the last: ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause, attempts: this.#failures },
        ),
      )
      return
    }
    const delayMs = backoffDelay(this.#failures, retry)
    this.#nextReason = 'retry'
    this.#setState('reconnecting', {
      sessionId: session?.id,
      reason: 'failure',
      cause,
      attempt: this.#failures,
      delayMs,
    })
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#pump()
    }, delayMs)
  }

  // ── Outcome ──────────────────────────────────────────────────────────────────────────────────────────

  /** Every fragment settled and the input ended: close. */
  #finish(): void {
    if (this.#stopped) return
    this.#finished = true
    this.#stopTimers()
    this.#control.close()
    const error =
      this.#inputError ??
      (this.#skippedCount > 0
        ? new ProducerError(
            'ERR_KVS_PRODUCER_INCOMPLETE',
            this.#fateUnknown === 0
              ? `${this.#skippedCount} of ${this.#accepted} fragments were not stored (see skipped)`
              : `${this.#skippedCount} of ${this.#accepted} fragments were skipped (see skipped): ${
                  this.#skippedCount - this.#fateUnknown
                } not stored, ${this.#fateUnknown} sent and dropped before an answer, stored or not is unknown`,
            { skipped: this.#skipped.slice() },
          )
        : undefined)
    this.#setState('closed', { reason: 'end', cause: error })
    const stats = this.stats()
    this.#emit({ type: 'stats', stats })
    for (const queue of [...this.#queues]) queue.end()
    if (error === undefined) this.#resolveCompletion(stats)
    else this.#rejectCompletion(error)
    const final = this.#finalCallback
    this.#finalCallback = undefined
    final?.(error)
  }

  /** A fatal condition: stop everything and report `error`. */
  #fail(error: Error): void {
    if (this.#stopped) return
    this.#fatal = error
    this.#stopTimers()
    this.#abort.abort(error)
    this.#session?.destroy(error)
    this.#session = undefined
    this.#control.close()
    this.#setState('closed', {
      reason: ProducerError.is(error) && error.code === 'ERR_KVS_PRODUCER_ABORTED' ? 'aborted' : 'fatal',
      cause: error,
    })
    this.#emit({ type: 'error', error })
    this.#emit({ type: 'stats', stats: this.stats() })
    for (const queue of [...this.#queues]) queue.end()
    this.#rejectCompletion(error)
    const held = this.#heldWrite
    this.#heldWrite = undefined
    const final = this.#finalCallback
    this.#finalCallback = undefined
    if (final !== undefined) final(error)
    else if (!this.#input.destroyed) this.#input.destroy(error)
    held?.(error)
  }

  #stopTimers(): void {
    clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    for (const timer of this.#rotationTimers) clearTimeout(timer)
    this.#rotationTimers = []
    clearInterval(this.#statsTimer)
    this.#statsTimer = undefined
  }

  #setState(
    state: ProducerState,
    details: Partial<Omit<StateChangeEvent, 'type' | 'state' | 'previous'>> & { reason: StateChangeReason },
  ): void {
    const previous = this.#state
    this.#state = state
    this.#emit({
      type: 'state',
      state,
      previous,
      sessionId: details.sessionId,
      reason: details.reason,
      cause: details.cause,
      attempt: details.attempt,
      delayMs: details.delayMs,
    })
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
