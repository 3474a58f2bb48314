import { type Ack, describeAckError } from '@kvs-streams/acks'
import type { ChunkerEvent, ChunkerFragmentEvent, Violation } from '@kvs-streams/chunker'
import { backoffDelay, KvsTimeoutError } from '@kvs-streams/transport'
import type { RetryPolicy } from './backoff.ts'
import { classifyFailure, classifyReconcileFailure, decideErrorAck } from './classify.ts'
import { ProducerError } from './errors.ts'
import type {
  FragmentAcknowledgedEvent,
  FragmentRef,
  ProducerEvent,
  ProducerState,
  SessionEndReason,
  SkippedFragment,
  StateChangeEvent,
  StateChangeReason,
} from './events.ts'
import { FragmentMetadataQueue, type PutMetadataOptions } from './fragment-metadata.ts'
import { EARLIEST_ABSOLUTE_TIMESTAMP_MS, MAX_FUTURE_TIMESTAMP_MS } from './producer-start.ts'
import { matchStored, rangeOf, type TimestampRange } from './reconcile.ts'
import {
  type BufferedFragment,
  newBufferedFragment,
  ReplayBuffer,
  type SessionHeader,
} from './replay-buffer.ts'
import { LatencyRecorder, type ProducerStats } from './stats.ts'

/** How many skipped fragments are kept for `close()`'s error (the count in `stats()` is exact). */
const MAX_SKIPPED_KEPT = 1000
/**
 * With `acknowledgeOn: 'RECEIVED'`, how many acknowledged fragments a session keeps for their PERSISTED (which
 * only counts in the stats): a stream without retention sends none, and a session lasts up to 40 minutes.
 */
const MAX_AWAITING_PERSISTED = 256

/** The bound on the wait for a held session's answer (and on a ListFragments call) when staleness is off, ms. */
const DEFAULT_STALE_BOUND_MS = 10_000

/** What the producer core needs to know: the resolved options that decide behaviour, and its clocks. */
export interface ProducerCoreConfig {
  fragmentTimecodeType: 'ABSOLUTE' | 'RELATIVE'
  producerStartTimestamp: number
  maxBytes: number
  maxDurationMs: number
  whenFull: 'block' | 'drop-oldest'
  /** 0 turns the staleness checks off. */
  ackStalenessMs: number
  maxConnectionDurationMs: number
  retry: RetryPolicy
  /** Known ack that settles a fragment, or undefined to learn it from DescribeStream. */
  acknowledgeOn: 'PERSISTED' | 'RECEIVED' | undefined
  /** Reconciliation after a failed session (undefined: off, resends are reported as possible duplicates). */
  reconcile: { settleMs: number } | undefined
  /** Bytes written after every fragment (the end-of-fragment Tags), or undefined. */
  trailer: Uint8Array | undefined
  onViolation: 'skip' | 'send' | 'throw'
  /** Wall clock, epoch ms: timestamps, latencies, the signing second. */
  clock: () => number
  /** Monotonic clock, ms: the RECEIVED deadline. Default `clock`. */
  now?: () => number
  /** Random numbers in [0, 1) for the backoff's jitter. Default `Math.random`. */
  random?: () => number
}

/** The core's timers: each is set (replacing one of the same name) or cancelled by a command. */
export type ProducerTimer =
  /** The backoff before the next attempt. */
  | 'retry'
  /** The wait until a session may be signed (a later second than a session that failed unanswered). */
  | 'not-before'
  /** The bounded wait for a held session's 200. */
  | 'response'
  /** The second look of reconciliation, for fragments ListFragments did not list yet. */
  | 'settle'
  /** `maxConnectionDurationMs` of the current session. */
  | 'rotation'
  /** The current session's credentials are about to expire. */
  | 'credentials'
  /** The oldest written fragment's RECEIVED deadline. */
  | 'received'
  /** The deadline of a session silent while a fragment written in it awaits its acknowledgement. */
  | 'silence'
  /** The bounded wait for the response to end after the body ended. */
  | 'drain'

/** Every timer name, for drivers that clear them all. */
export const PRODUCER_TIMERS: readonly ProducerTimer[] = [
  'retry',
  'not-before',
  'response',
  'settle',
  'rotation',
  'credentials',
  'received',
  'silence',
  'drain',
]

/** What the core asks its driver to do, in order. */
export type ProducerCommand =
  /**
   * Prepare session `sessionId`: DescribeStream first when `describe` (then pass `stream`), GetDataEndpoint for
   * PUT_MEDIA, credentials; answer with `prepared()` or `prepareFailed()`.
   */
  | { type: 'prepare'; sessionId: number; describe: boolean }
  /** Start the PutMedia request of `sessionId` and write `header` at once; answer with the session inputs. */
  | { type: 'open-session'; sessionId: number; header: SessionHeader; endpoint: string }
  /** Write one fragment's bytes (in order, as one write); answer `written()` once the transport took it. */
  | {
      type: 'write'
      sessionId: number
      /** The fragment written (for logs; the bytes are `parts`). */
      fragment: FragmentRef
      parts: readonly Uint8Array[]
      byteLength: number
    }
  /** End the request body after what was written; the response's end comes as `sessionEnded()`. */
  | { type: 'end-session'; sessionId: number }
  /** Destroy the session's request at once; the core already took it as closed. */
  | { type: 'destroy-session'; sessionId: number; cause: unknown }
  /** Call `timerFired(timer)` after `delayMs`, replacing the timer of the same name. */
  | { type: 'set-timer'; timer: ProducerTimer; delayMs: number }
  | { type: 'cancel-timer'; timer: ProducerTimer }
  /** Look up stored fragments in `range` (ListFragments); answer `listed()` or `listFailed()`. */
  | { type: 'list-fragments'; sessionId: number; range: TimestampRange; timeoutMs: number }
  /** Forget the cached data endpoint of `api`. */
  | { type: 'invalidate-endpoint'; api: 'PUT_MEDIA' | 'LIST_FRAGMENTS' }
  /** Ask the credential provider anew for the next signature. */
  | { type: 'refresh-credentials' }
  /** Deliver an event to the producer's listeners. */
  | { type: 'emit'; event: ProducerEvent }
  /** The replay buffer has room again: answer a held input write. */
  | { type: 'release-input' }
  /** Every fragment settled and the input ended: the producer closes, with `error` if anything was lost. */
  | { type: 'finish'; error: Error | undefined; stats: ProducerStats }
  /** A fatal condition: the producer stops (every timer and the session are gone), reporting `error`. */
  | { type: 'fail'; error: Error; stats: ProducerStats }

/** What DescribeStream said, passed with `prepared()` / `prepareFailed()` when the command asked for it. */
export interface DescribedStream {
  /** `DataRetentionInHours`: 0 means fragments are settled on RECEIVED (nothing is persisted). */
  retentionHours: number
  /** `Status`: media is sent only to an `ACTIVE` (or `UPDATING`) stream. */
  status: string
}

/** One PutMedia connection as the core sees it. */
interface CoreSession {
  readonly id: number
  readonly header: SessionHeader
  /** Why it was opened (the `reason` of its `streaming` state). */
  readonly reason: StateChangeReason
  state: 'open' | 'ending' | 'closed'
  endReason: SessionEndReason | undefined
  /** The service answered 200. */
  responded: boolean
  /** A write the transport has not taken yet: the next one waits (backpressure). */
  writing: boolean
  /** Fragments written in this session by FragmentTimecode. */
  readonly fragments: Map<number, BufferedFragment>
  /** Bytes written to it (the header included). */
  bytes: number
  /** Written fragments not yet RECEIVED, with when the transport took them (for the RECEIVED deadline). */
  readonly awaiting: FragmentWatch
  /** Written fragments (taken or not) not yet settled, with when they were written (for the silence deadline). */
  readonly unsettled: FragmentWatch
  /** Fragments settled by RECEIVED, kept in `fragments` for their PERSISTED (at most `MAX_AWAITING_PERSISTED`). */
  readonly settledUnpersisted: FragmentWatch
  /** When the last response byte (the 200, an ack, part of one) arrived, or the session opened. */
  lastResponseAt: number
  /** The first ERROR ack, and the fragment it named (when written here). */
  errorAck: Ack | undefined
  errorFragment: BufferedFragment | undefined
}

/**
 * Written fragments a deadline watches, oldest first, each with when it started waiting. An entry is done once
 * `done` says so; done entries are dropped from the front whenever the deadline looks or an ack prunes them,
 * and released at once (a dropped slot holds nothing), so the watch holds only what is still in flight. The
 * array is compacted now and then (amortised O(1)).
 */
class FragmentWatch {
  #entries: ({ fragment: BufferedFragment; at: number } | undefined)[] = []
  #head = 0
  readonly #done: (fragment: BufferedFragment) => boolean

  constructor(done: (fragment: BufferedFragment) => boolean) {
    this.#done = done
  }

  push(fragment: BufferedFragment, at: number): void {
    this.#entries.push({ fragment, at })
  }

  /** Entries not yet dropped (the oldest waiting one and those after it, done or not). */
  get size(): number {
    return this.#entries.length - this.#head
  }

  /** Drops the done entries at the front. */
  prune(): void {
    const entries = this.#entries
    while (this.#head < entries.length && this.#done(entries[this.#head]!.fragment)) {
      entries[this.#head++] = undefined
    }
    if (this.#head === entries.length) {
      if (this.#head > 0) this.clear()
    } else if (this.#head > 256 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head)
      this.#head = 0
    }
  }

  /** Removes and returns the oldest entry's fragment, done or not. */
  shift(): BufferedFragment | undefined {
    const entry = this.#entries[this.#head]
    if (entry === undefined) return undefined
    this.#entries[this.#head++] = undefined
    this.prune()
    return entry.fragment
  }

  /** Drops the done entries at the front; returns the oldest one still waiting, if any. */
  oldest(): { fragment: BufferedFragment; at: number } | undefined {
    this.prune()
    return this.#entries[this.#head]
  }

  clear(): void {
    this.#entries = []
    this.#head = 0
  }
}

/** Reconciliation of a held session in progress. */
interface Reconciliation {
  readonly session: CoreSession
  readonly candidates: BufferedFragment[]
  readonly found: Set<BufferedFragment>
  /** `response`: waiting for the 200; `first` / `second`: a ListFragments call out; `settle`: between them. */
  phase: 'response' | 'first' | 'settle' | 'second'
}

/** A session being prepared (control plane, credentials, the signing second). */
interface Preparation {
  readonly id: number
  readonly reason: StateChangeReason
  endpoint: string | undefined
  expiration: Date | undefined
}

/**
 * The producer's logic with no I/O and no timers: fragment state (the replay buffer, each fragment's progress
 * and sends, the uncertain ones), sessions as state machines, retry and backoff, rotation, reconciliation, the
 * RECEIVED and silence deadlines and the outcome. Inputs are method calls (chunker events, the driver's answers
 * to commands, acks, timers firing); each returns the commands it produced, for the driver to carry out in
 * order. Clocks and randomness come from the config, so every transition is testable with no socket and no
 * real time.
 */
export class ProducerCore {
  readonly #config: ProducerCoreConfig
  readonly #now: () => number
  readonly #random: () => number
  readonly #buffer: ReplayBuffer
  #out: ProducerCommand[] = []

  // Input.
  #header: SessionHeader | undefined
  readonly #metadata = new FragmentMetadataQueue()
  readonly #violations = new Map<number, Violation>()
  #inputEnded = false
  #inputError: Error | undefined
  /** The driver holds an input write until the buffer has room (`whenFull: 'block'`). */
  #inputHeld = false

  // Sessions.
  #state: ProducerState = 'idle'
  #session: CoreSession | undefined
  #sessionSeq = 0
  #preparation: Preparation | undefined
  #reconciliation: Reconciliation | undefined
  /** Preparing, opening or reconciling: no other session starts. */
  #connecting = false
  #retryPending = false
  #nextReason: StateChangeReason = 'start'
  #acknowledgeOn: 'PERSISTED' | 'RECEIVED' | undefined
  #described = false
  #failures = 0
  readonly #uncertain = new Set<BufferedFragment>()
  /** Clock reading before which no session may be signed (see `prepared`). */
  #notBefore = 0
  /** Timers set and not yet fired or cancelled. */
  readonly #timers = new Set<ProducerTimer>()

  // Outcome.
  #fatal: Error | undefined
  #finished = false
  readonly #skipped: SkippedFragment[] = []

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

  constructor(config: ProducerCoreConfig) {
    this.#config = config
    this.#now = config.now ?? config.clock
    this.#random = config.random ?? Math.random
    this.#acknowledgeOn = config.acknowledgeOn
    this.#buffer = new ReplayBuffer({ maxBytes: config.maxBytes, maxDurationMs: config.maxDurationMs })
  }

  // ── Queries ──────────────────────────────────────────────────────────────────────────────────────────

  get state(): ProducerState {
    return this.#state
  }

  /** Failed (`fatal`) or finished: every input is ignored. */
  get stopped(): boolean {
    return this.#fatal !== undefined || this.#finished
  }

  get fatal(): Error | undefined {
    return this.#fatal
  }

  get inputEnded(): boolean {
    return this.#inputEnded
  }

  /** Why the input stopped early (invalid MKV, a violation under `'throw'`, a misdated fragment…). */
  get inputError(): Error | undefined {
    return this.#inputError
  }

  /** Whether the last input write must be held until `release-input` (the buffer is full under `'block'`). */
  get inputHeld(): boolean {
    return this.#inputHeld
  }

  /** The id of the session being written to (or ending), if any. */
  get sessionId(): number | undefined {
    return this.#session?.id
  }

  /** Timers the driver should have running. */
  get timers(): ReadonlySet<ProducerTimer> {
    return this.#timers
  }

  /** A snapshot of the counters (`producer.stats()`). */
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
        maxBytes: this.#config.maxBytes,
        maxDurationMs: this.#config.maxDurationMs,
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

  // ── Input ────────────────────────────────────────────────────────────────────────────────────────────

  /** Chunker events (from the producer's own chunker or written to `fragments`), in order. */
  input(events: readonly ChunkerEvent[]): ProducerCommand[] {
    if (!this.stopped && !this.#inputEnded) {
      this.#take(events)
      if (this.#inputError === undefined && this.#config.whenFull === 'block' && this.#buffer.full) {
        this.#inputHeld = true
      }
      this.#pump()
    }
    return this.#flush()
  }

  /** The input ended (`error`: why it stopped early, e.g. the chunker's error or a destroyed writable). */
  endInput(error?: unknown, trailing: readonly ChunkerEvent[] = []): ProducerCommand[] {
    if (!this.stopped && !this.#inputEnded) {
      this.#take(trailing)
      if (error !== undefined) this.#inputFailed(error)
      this.#inputEnded = true
      this.#inputHeld = false
      this.#pump()
    }
    return this.#flush()
  }

  /** The writer went away (`writable.destroy()`, a failed source in `pipeline()`): deliver what was accepted. */
  inputDestroyed(error: Error | null): ProducerCommand[] {
    this.#inputHeld = false
    if (this.stopped || this.#inputEnded) return this.#flush()
    this.#inputEnded = true
    if (error !== null && this.#inputError === undefined) this.#inputError = error
    this.#pump()
    return this.#flush()
  }

  /** Adds a tag to the fragment being written (see `Producer.putMetadata`). Throws on a tag the service refuses. */
  putMetadata(name: string, value: string, options?: PutMetadataOptions): void {
    this.#metadata.put(name, value, options)
  }

  #take(events: readonly ChunkerEvent[]): void {
    for (const event of events) {
      if (event.type === 'header') {
        this.#header = { bytes: event.bytes, timecodeScale: event.timecodeScale }
      } else if (event.type === 'fragment') {
        this.#accept(event)
        if (this.#inputError !== undefined) return
      } else if (event.type === 'violation') {
        const { violation } = event
        this.#emit({ type: 'violation', violation })
        // Only a fragment the service would refuse for good matters here: a second Segment just starts a new
        // session, and what KVS accepts (a fragment not starting with a key frame) is sent as it is.
        const { fragmentIndex, errorId } = violation
        const refused =
          fragmentIndex !== undefined && errorId !== undefined && !describeAckError(errorId).retriable
        if (!refused || this.#config.onViolation === 'send') continue
        if (this.#config.onViolation === 'throw') {
          this.#inputFailed(new ProducerError('ERR_KVS_PRODUCER_VIOLATION', violation.message, { errorId }))
          return
        }
        this.#violations.set(fragmentIndex, violation)
      }
    }
  }

  /** The input is unusable: stop accepting it, deliver what was accepted, fail `close()` with the reason. */
  #inputFailed(error: unknown): void {
    this.#inputEnded = true
    this.#inputHeld = false
    if (this.#inputError !== undefined) return
    this.#inputError = ProducerError.is(error)
      ? error
      : new ProducerError(
          'ERR_KVS_PRODUCER_INVALID_INPUT',
          `The input is not usable MKV: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
  }

  /** Why KVS would store a fragment at the wrong time or refuse it (with the option that fixes it), if it would. */
  #misdated(index: number, producerTimestampMs: number): ProducerError | undefined {
    const { fragmentTimecodeType, clock } = this.#config
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
      this.#config.fragmentTimecodeType === 'ABSOLUTE'
        ? milliseconds
        : this.#config.producerStartTimestamp + milliseconds
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
      acceptedAt: this.#config.clock(),
    })
    this.#buffer.add(fragment)
    if (this.#config.whenFull === 'drop-oldest') {
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

  // ── The driver's answers ─────────────────────────────────────────────────────────────────────────────

  /** Session `sessionId` is prepared: its data endpoint and its credentials' expiration (if any). */
  prepared(
    sessionId: number,
    result: { endpoint: string; expiration: Date | undefined; stream?: DescribedStream | undefined },
  ): ProducerCommand[] {
    const preparation = this.#preparation
    if (preparation === undefined || preparation.id !== sessionId || this.stopped) return this.#flush()
    const refused = result.stream === undefined ? undefined : this.#described_(result.stream)
    if (refused !== undefined) {
      this.#prepareFailed(refused)
      return this.#flush()
    }
    preparation.endpoint = result.endpoint
    preparation.expiration = result.expiration
    const waitMs = this.#notBefore - this.#config.clock()
    if (waitMs > 0) this.#setTimer('not-before', waitMs)
    else this.#open()
    return this.#flush()
  }

  /** Preparing session `sessionId` failed (`stream`: what DescribeStream said, if it answered). */
  prepareFailed(sessionId: number, error: unknown, stream?: DescribedStream): ProducerCommand[] {
    const preparation = this.#preparation
    if (preparation === undefined || preparation.id !== sessionId || this.stopped) return this.#flush()
    if (stream !== undefined) this.#described_(stream)
    this.#prepareFailed(error)
    return this.#flush()
  }

  /** Starting the request of `sessionId` threw (options `putMedia` refused). */
  openFailed(sessionId: number, error: unknown): ProducerCommand[] {
    const session = this.#session
    if (session === undefined || session.id !== sessionId || this.stopped) return this.#flush()
    // Undo what opening counted: this session never existed, and nothing was written to it.
    session.state = 'closed'
    this.#session = undefined
    this.#lastWritten = undefined
    this.#sessions--
    if (session.reason === 'retry') this.#reconnects--
    this.#bytesSent -= session.bytes
    for (const fragment of session.fragments.values()) {
      if (fragment.sessionId !== sessionId) continue
      fragment.sends--
      fragment.sessionId = 0
      fragment.progress = 'pending'
      if (fragment.sends === 0) this.#sentUnique--
      else this.#resent--
    }
    this.#reconciliation = undefined
    this.#cancelTimers('rotation', 'credentials', 'response', 'received', 'silence')
    this.#prepareFailed(error)
    return this.#flush()
  }

  /** The service answered session `sessionId` with 200. */
  responded(sessionId: number): ProducerCommand[] {
    const session = this.#current(sessionId)
    if (session === undefined || session.state === 'closed') return this.#flush()
    session.responded = true
    session.lastResponseAt = this.#now()
    const reconciliation = this.#reconciliation
    if (reconciliation !== undefined && reconciliation.session === session) {
      this.#cancelTimer('response')
      this.#lookUp(reconciliation, 'first', reconciliation.candidates)
    } else {
      this.#setState('streaming', { sessionId, reason: session.reason })
    }
    return this.#flush()
  }

  /** The transport took the last `write` of session `sessionId`. */
  written(sessionId: number): ProducerCommand[] {
    const session = this.#current(sessionId)
    if (session === undefined || !session.writing) return this.#flush()
    session.writing = false
    if (session.state === 'closed') return this.#flush()
    const fragment = this.#lastWritten
    this.#lastWritten = undefined
    // Each fragment is followed by an end-of-fragment tag, so it must be RECEIVED within `ackStalenessMs` of
    // being taken (without the tag the service completes a fragment only when the next one starts).
    if (fragment !== undefined && this.#config.trailer !== undefined && this.#config.ackStalenessMs > 0) {
      session.awaiting.push(fragment, this.#now())
      // The timer runs while a fragment waits (`#checkReceived` sets it again for the next oldest).
      if (!this.#timers.has('received')) this.#setTimer('received', this.#config.ackStalenessMs)
    }
    this.#pump()
    return this.#flush()
  }

  /**
   * Acknowledgements of session `sessionId`, in arrival order: one read's worth, possibly none (response bytes
   * that complete no ack still show the service is answering).
   */
  acks(sessionId: number, acks: readonly Ack[]): ProducerCommand[] {
    const session = this.#current(sessionId)
    if (session === undefined || session.state === 'closed' || this.stopped) return this.#flush()
    session.lastResponseAt = this.#now()
    for (const ack of acks) {
      if (ack.eventType === 'ERROR' && session.errorAck === undefined) {
        session.errorAck = ack
        session.errorFragment =
          ack.fragmentTimecode === undefined ? undefined : session.fragments.get(ack.fragmentTimecode)
      }
      this.#onAck(session, ack)
      if (this.stopped || (session.state as CoreSession['state']) === 'closed') return this.#flush()
    }
    const errorAck = session.errorAck
    if (errorAck !== undefined) {
      const info = errorAck.errorId === undefined ? undefined : describeAckError(errorAck.errorId)
      this.#closeSession(
        session,
        new ProducerError(
          'ERR_KVS_PRODUCER_ERROR_ACK',
          `The service answered ERROR ${errorAck.errorId ?? '?'} ${errorAck.errorCode ?? info?.errorCode ?? ''}` +
            ` for fragment timecode ${errorAck.fragmentTimecode ?? '-'}${info ? `: ${info.description}` : ''}`,
          { errorId: errorAck.errorId },
        ),
      )
    }
    return this.#flush()
  }

  /**
   * Session `sessionId` is over from the transport's side: `cause` is its error (socket, acks not decodable, a
   * service error), or undefined when the response ended.
   */
  sessionEnded(sessionId: number, cause?: unknown): ProducerCommand[] {
    const session = this.#current(sessionId)
    if (session === undefined || session.state === 'closed') return this.#flush()
    if (cause !== undefined) this.#closeSession(session, cause)
    else if (session.state === 'ending') this.#closeSession(session, undefined)
    else {
      this.#closeSession(
        session,
        new ProducerError(
          'ERR_KVS_PRODUCER_SESSION_ENDED',
          'The service ended the PutMedia response while the producer was still sending',
        ),
      )
    }
    return this.#flush()
  }

  /** ListFragments answered for the reconciliation of session `sessionId`: the stored producer timestamps. */
  listed(sessionId: number, stored: readonly number[]): ProducerCommand[] {
    const reconciliation = this.#reconciliation
    if (reconciliation === undefined || reconciliation.session.id !== sessionId || this.stopped) {
      return this.#flush()
    }
    const looked =
      reconciliation.phase === 'first'
        ? reconciliation.candidates
        : reconciliation.candidates.filter((fragment) => !reconciliation.found.has(fragment))
    for (const fragment of matchStored(looked, stored, timestampOf)) reconciliation.found.add(fragment)
    const settleMs = this.#config.reconcile?.settleMs ?? 0
    if (reconciliation.phase === 'first' && settleMs > 0) {
      const unlisted = reconciliation.candidates.some(
        (fragment) => !reconciliation.found.has(fragment) && !fragment.settled,
      )
      if (unlisted) {
        reconciliation.phase = 'settle'
        this.#setTimer('settle', settleMs)
        return this.#flush()
      }
    }
    this.#reconciled_(reconciliation)
    return this.#flush()
  }

  /** The ListFragments call of the reconciliation of session `sessionId` failed. */
  listFailed(sessionId: number, error: unknown): ProducerCommand[] {
    const reconciliation = this.#reconciliation
    if (reconciliation === undefined || reconciliation.session.id !== sessionId || this.stopped) {
      return this.#flush()
    }
    if (classifyReconcileFailure(error) === 'retry') {
      if (classifyFailure(error, 'ListFragments').kind === 'retry') {
        this.#out.push({ type: 'invalidate-endpoint', api: 'LIST_FRAGMENTS' })
      }
      this.#abandonReconciliation(reconciliation, error)
      return this.#flush()
    }
    const { candidates, session } = reconciliation
    this.#uncertain.clear()
    this.#emit({ type: 'reconciliation', sessionId: session.id, checked: candidates.length, found: 0, error })
    for (const fragment of candidates) this.#possibleDuplicate(fragment, 'reconciliation-refused', error)
    this.#released(reconciliation)
    return this.#flush()
  }

  /** A timer set by a `set-timer` command fired. */
  timerFired(timer: ProducerTimer): ProducerCommand[] {
    if (!this.#timers.delete(timer) || this.stopped) return this.#flush()
    switch (timer) {
      case 'retry':
        this.#retryPending = false
        this.#pump()
        break
      case 'not-before':
        this.#open()
        break
      case 'response': {
        const reconciliation = this.#reconciliation
        if (reconciliation === undefined || reconciliation.phase !== 'response') break
        const bound = this.#staleBoundMs
        this.#abandonReconciliation(
          reconciliation,
          new ProducerError(
            'ERR_KVS_PRODUCER_TIMEOUT',
            `The answer to PutMedia session ${reconciliation.session.id} took longer than ${bound} ms`,
          ),
        )
        break
      }
      case 'settle': {
        const reconciliation = this.#reconciliation
        if (reconciliation === undefined || reconciliation.phase !== 'settle') break
        const unlisted = reconciliation.candidates.filter(
          (fragment) => !reconciliation.found.has(fragment) && !fragment.settled,
        )
        this.#lookUp(reconciliation, 'second', unlisted)
        break
      }
      case 'rotation':
      case 'credentials': {
        // Ending after the fragments written so far is a fragment boundary: only whole fragments are written.
        const session = this.#session
        if (session !== undefined && session.state === 'open') {
          this.#endSession(session, timer === 'rotation' ? 'rotation' : 'credentials')
        }
        break
      }
      case 'received':
        this.#checkReceived()
        break
      case 'silence':
        this.#checkSilence()
        break
      case 'drain': {
        const session = this.#session
        if (session === undefined || session.state !== 'ending') break
        const waitMs = this.#drainMs
        this.#closeSession(
          session,
          new KvsTimeoutError(
            'ERR_KVS_ACK_STALE',
            `The PutMedia response did not end within ${waitMs} ms of the body's end`,
            waitMs,
          ),
        )
        break
      }
    }
    return this.#flush()
  }

  /** Stops at once with `error` (an abort, an unexpected failure of the driver). */
  fail(error: Error): ProducerCommand[] {
    this.#fail(error)
    return this.#flush()
  }

  // ── Sessions ─────────────────────────────────────────────────────────────────────────────────────────

  #lastWritten: BufferedFragment | undefined

  #current(sessionId: number): CoreSession | undefined {
    const session = this.#session
    return session !== undefined && session.id === sessionId ? session : undefined
  }

  /** The bound on a ListFragments call and on the wait for a held session's answer, ms. */
  get #staleBoundMs(): number {
    return this.#config.ackStalenessMs > 0 ? this.#config.ackStalenessMs : DEFAULT_STALE_BOUND_MS
  }

  get #drainMs(): number {
    return this.#config.ackStalenessMs > 0 ? this.#config.ackStalenessMs : DEFAULT_STALE_BOUND_MS
  }

  /** Moves things along: opens a session, writes the next fragment, ends a session, or finishes. */
  #pump(): void {
    if (this.stopped) return
    const session = this.#session
    if (session === undefined) {
      if (this.#connecting || this.#retryPending) return
      if (this.#buffer.size === 0) {
        if (this.#inputEnded) this.#finish()
        return
      }
      this.#prepare()
      return
    }
    if (session.state !== 'open' || session.writing || this.#reconciliation?.session === session) return
    const next = this.#buffer.peek()
    if (next === undefined) {
      // Everything is written. The session ends when nothing more can come (without end-of-fragment tags the
      // last fragment is only complete once the body ends), or once every fragment is acknowledged.
      if (this.#inputEnded && (this.#buffer.size === 0 || this.#config.trailer === undefined)) {
        this.#endSession(session, 'end')
      }
      return
    }
    if (next.header !== session.header) {
      this.#endSession(session, 'header')
      return
    }
    next.sessionId = session.id
    next.progress = 'sent'
    next.sends++
    if (next.sends === 1) this.#sentUnique++
    else this.#resent++
    this.#buffer.advance()
    const trailer = this.#config.trailer
    const parts = trailer === undefined ? next.bytes : [...next.bytes, trailer]
    const byteLength = next.ref.byteLength + (trailer?.byteLength ?? 0)
    session.fragments.set(next.ref.timecode, next)
    session.bytes += byteLength
    session.writing = true
    this.#lastWritten = next
    this.#bytesSent += byteLength
    this.#out.push({ type: 'write', sessionId: session.id, fragment: next.ref, parts, byteLength })
    if (this.#config.ackStalenessMs > 0) {
      session.unsettled.push(next, this.#now())
      if (!this.#timers.has('silence')) this.#setTimer('silence', this.#config.ackStalenessMs)
    }
  }

  #prepare(): void {
    this.#connecting = true
    const reason = this.#nextReason
    const id = ++this.#sessionSeq
    this.#preparation = { id, reason, endpoint: undefined, expiration: undefined }
    this.#setState('connecting', { sessionId: id, reason })
    this.#out.push({
      type: 'prepare',
      sessionId: id,
      describe: this.#acknowledgeOn === undefined && !this.#described,
    })
  }

  /** Takes DescribeStream's answer; returns the error when the stream cannot take media. */
  #described_(stream: DescribedStream): Error | undefined {
    if (stream.status !== 'ACTIVE' && stream.status !== 'UPDATING') {
      return new Error(`The stream is ${stream.status}, not ACTIVE`)
    }
    this.#described = true
    this.#acknowledgeOn ??= stream.retentionHours > 0 ? 'PERSISTED' : 'RECEIVED'
    return undefined
  }

  #prepareFailed(error: unknown): void {
    this.#preparation = undefined
    this.#connecting = false
    this.#failed(error, undefined)
  }

  /** The prepared session opens: on the oldest unsettled fragment's header, held if fragments are uncertain. */
  #open(): void {
    const preparation = this.#preparation
    this.#preparation = undefined
    if (preparation === undefined || preparation.endpoint === undefined || this.stopped) {
      this.#connecting = false
      return
    }
    const { id, reason, endpoint, expiration } = preparation
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
    const session: CoreSession = {
      id,
      header: first.header,
      reason,
      state: 'open',
      endReason: undefined,
      responded: false,
      writing: false,
      fragments: new Map(),
      bytes: first.header.bytes.byteLength,
      // RECEIVED deadline: done once acknowledged (or settled, or resent in a later session).
      awaiting: new FragmentWatch(
        (fragment) =>
          fragment.settled ||
          fragment.progress === 'received' ||
          fragment.progress === 'persisted' ||
          fragment.sessionId !== id,
      ),
      // Silence deadline: done once settled (or resent in a later session).
      unsettled: new FragmentWatch((fragment) => fragment.settled || fragment.sessionId !== id),
      settledUnpersisted: new FragmentWatch(
        (fragment) => fragment.progress === 'persisted' || fragment.sessionId !== id,
      ),
      lastResponseAt: this.#now(),
      errorAck: undefined,
      errorFragment: undefined,
    }
    this.#session = session
    this.#sessions++
    if (reason === 'retry') this.#reconnects++
    // The MKV header goes out at once: the request head goes with it, so the service answers (and supersedes
    // any older connection of the stream) before a fragment is written.
    this.#bytesSent += first.header.bytes.byteLength
    this.#out.push({ type: 'open-session', sessionId: id, header: first.header, endpoint })
    this.#scheduleRotation(expiration)
    if (uncertain.length > 0) {
      // Exactly once: the fragments of a failed session are looked up only once this session has been
      // answered. The service accepts one PutMedia connection per stream, the newest: from its 200 on, nothing
      // the old connection still has in flight can complete a fragment, so what ListFragments does not list
      // now will never be stored by the old session, and resending it cannot store it twice.
      this.#reconciliation = { session, candidates: uncertain, found: new Set(), phase: 'response' }
      this.#setTimer('response', this.#staleBoundMs)
      return
    }
    this.#connecting = false
    this.#buffer.rewind()
    this.#pump()
  }

  /** Replaces the session before it reaches `maxConnectionDurationMs` or its credentials expire. */
  #scheduleRotation(expiration: Date | undefined): void {
    const { maxConnectionDurationMs, clock } = this.#config
    this.#setTimer('rotation', maxConnectionDurationMs)
    this.#cancelTimer('credentials')
    if (expiration !== undefined) {
      const remaining = expiration.getTime() - clock()
      // PIC rotates 3 s before the streaming token expires; short-lived credentials get half their life.
      const due = remaining - Math.min(3_000, remaining / 2)
      if (due > 0 && due < maxConnectionDurationMs) this.#setTimer('credentials', due)
    }
  }

  /** Asks ListFragments about `fragments` (or settles at once when reconciliation is off). */
  #lookUp(reconciliation: Reconciliation, phase: 'first' | 'second', fragments: BufferedFragment[]): void {
    reconciliation.phase = phase
    if (this.#config.reconcile === undefined) {
      this.#uncertain.clear()
      for (const fragment of reconciliation.candidates) {
        this.#possibleDuplicate(fragment, 'reconciliation-off', undefined)
      }
      this.#released(reconciliation)
      return
    }
    this.#out.push({
      type: 'list-fragments',
      sessionId: reconciliation.session.id,
      range: rangeOf(fragments, timestampOf),
      timeoutMs: this.#staleBoundMs,
    })
  }

  /** Reconciliation is complete: settle what ListFragments listed, then let the session send. */
  #reconciled_(reconciliation: Reconciliation): void {
    this.#uncertain.clear()
    for (const fragment of reconciliation.candidates) {
      if (reconciliation.found.has(fragment)) this.#acknowledge(fragment, 'LIST_FRAGMENTS')
    }
    this.#emit({
      type: 'reconciliation',
      sessionId: reconciliation.session.id,
      checked: reconciliation.candidates.length,
      found: reconciliation.found.size,
      error: undefined,
    })
    this.#released(reconciliation)
  }

  /** The held session may send (if it is still open). */
  #released(reconciliation: Reconciliation): void {
    if (this.#reconciliation === reconciliation) this.#reconciliation = undefined
    this.#cancelTimers('response', 'settle')
    const { session } = reconciliation
    if (session.state !== 'closed')
      this.#setState('streaming', { sessionId: session.id, reason: session.reason })
    this.#connecting = false
    this.#buffer.rewind()
    this.#pump()
  }

  /** Reconciliation could not be done now: the session fails with `error` (retried after a backoff). */
  #abandonReconciliation(reconciliation: Reconciliation, error: unknown): void {
    if (this.#reconciliation === reconciliation) this.#reconciliation = undefined
    this.#cancelTimers('response', 'settle')
    this.#connecting = false
    const { session } = reconciliation
    // Closing the session reports the failure (retry after a backoff, or fatal); a session that closed by
    // itself has reported it already.
    if (session.state !== 'closed') this.#closeSession(session, error)
    else this.#pump()
  }

  /** Ends the body after the fragments written so far and waits, bounded, for the response to end. */
  #endSession(session: CoreSession, reason: SessionEndReason): void {
    if (session.state !== 'open') return
    session.state = 'ending'
    session.endReason = reason
    this.#cancelTimers('received', 'silence')
    this.#out.push({ type: 'end-session', sessionId: session.id })
    this.#setTimer('drain', this.#drainMs)
  }

  /**
   * Fails the session when a fragment written in it is still unsettled and no response byte has arrived for
   * `ackStalenessMs` since it was written (or since the last ack, if later). This bounds the waits no
   * byte-level timer sees: a write the transport never takes (the far end stopped reading, so nothing is sent
   * and nothing is answered), and a fragment RECEIVED whose PERSISTED never comes while nothing more is being
   * sent. Without end-of-fragment tags the newest fragment is not waited for: the service completes it only
   * when the next one starts. The timer runs while a fragment waits; a write sets it again.
   */
  #checkSilence(): void {
    const session = this.#session
    if (session === undefined || session.state !== 'open') return
    const { unsettled } = session
    const oldest = unsettled.oldest()
    if (oldest === undefined || (this.#config.trailer === undefined && unsettled.size === 1)) return
    const staleMs = this.#config.ackStalenessMs
    const silentMs = this.#now() - Math.max(oldest.at, session.lastResponseAt)
    if (silentMs >= staleMs) {
      this.#closeSession(
        session,
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `No response byte for ${staleMs} ms while fragment timecode ${oldest.fragment.ref.timecode} ` +
            `awaits its acknowledgement (${oldest.fragment.progress})`,
          staleMs,
        ),
      )
      return
    }
    this.#setTimer('silence', staleMs - silentMs)
  }

  /** Fails the session when its oldest written fragment has waited `ackStalenessMs` for RECEIVED. */
  #checkReceived(): void {
    const session = this.#session
    if (session === undefined || session.state !== 'open') return
    const oldest = session.awaiting.oldest()
    if (oldest === undefined) return
    const staleMs = this.#config.ackStalenessMs
    const waited = this.#now() - oldest.at
    if (waited >= staleMs) {
      this.#closeSession(
        session,
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `No RECEIVED ack for fragment timecode ${oldest.fragment.ref.timecode} within ${staleMs} ms`,
          staleMs,
        ),
      )
      return
    }
    this.#setTimer('received', staleMs - waited)
  }

  #onAck(session: CoreSession, ack: Ack): void {
    const fragment =
      ack.fragmentTimecode === undefined ? undefined : session.fragments.get(ack.fragmentTimecode)
    this.#emit({ type: 'ack', ack, sessionId: session.id, fragment: fragment?.ref })
    // A settled fragment still counts in the stats (PERSISTED after a RECEIVED that settled it).
    if (fragment === undefined || fragment.sessionId !== session.id) return
    if (ack.fragmentNumber !== undefined) fragment.fragmentNumber = ack.fragmentNumber
    const now = this.#config.clock()
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
        if (this.#acknowledgeOn === 'RECEIVED' && !fragment.settled) {
          this.#acknowledge(fragment, 'RECEIVED')
          this.#awaitPersisted(session, fragment)
        }
        this.#pruneWatches(session)
        return
      case 'PERSISTED':
        fragment.progress = 'persisted'
        if (!fragment.persistedSeen) {
          fragment.persistedSeen = true
          this.#persisted++
          this.#persistedLatency.record(now - fragment.acceptedAt)
        }
        // Nothing more comes for it in this session: the session's map holds only what is in flight.
        session.fragments.delete(fragment.ref.timecode)
        this.#acknowledge(fragment, 'PERSISTED')
        this.#pruneWatches(session)
        return
      default:
        return
    }
  }

  /**
   * Drops what the deadlines no longer wait for, as acks come: a settled fragment is then held by nothing of
   * the session's (the deadlines look only when their timers fire, which on a healthy session is every
   * `ackStalenessMs`; holding every fragment written until then cost `bench/producer.mjs` ~2 extra
   * mark-compacts per 200 MB).
   */
  #pruneWatches(session: CoreSession): void {
    session.awaiting.prune()
    session.unsettled.prune()
    session.settledUnpersisted.prune()
  }

  /**
   * A fragment settled by its RECEIVED stays in the session's map for its PERSISTED, which only counts in the
   * stats; the oldest of more than `MAX_AWAITING_PERSISTED` is let go (on a stream without retention no
   * PERSISTED comes, and the map would otherwise hold every fragment of a 40-minute session).
   */
  #awaitPersisted(session: CoreSession, fragment: BufferedFragment): void {
    const waiting = session.settledUnpersisted
    waiting.push(fragment, 0)
    while (waiting.size > MAX_AWAITING_PERSISTED) {
      const oldest = waiting.shift()
      if (oldest !== undefined && session.fragments.get(oldest.ref.timecode) === oldest) {
        session.fragments.delete(oldest.ref.timecode)
      }
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
      latencyMs: this.#config.clock() - fragment.acceptedAt,
      sends: fragment.sends,
    })
    this.#releaseInput()
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
    this.#releaseInput()
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

  #releaseInput(): void {
    if (!this.#inputHeld || this.#buffer.full) return
    this.#inputHeld = false
    this.#out.push({ type: 'release-input' })
  }

  /** The session is over (`cause` undefined: it ended cleanly after `end-session`). */
  #closeSession(session: CoreSession, cause: unknown): void {
    if (session.state === 'closed') return
    session.state = 'closed'
    session.writing = false
    this.#lastWritten = undefined
    session.awaiting.clear()
    session.unsettled.clear()
    session.settledUnpersisted.clear()
    this.#out.push({ type: 'destroy-session', sessionId: session.id, cause })
    if (this.#session === session) this.#session = undefined
    this.#cancelTimers('rotation', 'credentials', 'received', 'silence', 'drain')
    const reconciliation = this.#reconciliation
    if (
      reconciliation !== undefined &&
      reconciliation.session === session &&
      reconciliation.phase === 'response'
    ) {
      // Closed before the service answered: nothing to reconcile against yet.
      this.#reconciliation = undefined
      this.#cancelTimer('response')
      this.#connecting = false
    }
    let unsettled = false
    for (const fragment of session.fragments.values()) {
      if (fragment.settled || fragment.sessionId !== session.id) continue
      this.#uncertain.add(fragment)
      unsettled = true
    }
    if (unsettled && !session.responded) {
      // Its request head may still be on its way: sign the next session in a later second (`x-amz-date` has
      // whole seconds), so the service, which accepts the newest PutMedia connection by request start, can
      // never take the old one for the newer.
      const now = this.#config.clock()
      this.#notBefore = Math.max(this.#notBefore, (Math.floor(now / 1000) + 1) * 1000)
    }
    if (this.stopped) return
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
      const onPurpose = cause === undefined && session.endReason !== 'end'
      if (onPurpose) this.#rotations++
      this.#nextReason = onPurpose ? session.endReason! : 'resume'
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
  #failed(cause: unknown, session: CoreSession | undefined): void {
    if (this.stopped) return
    const decision = classifyFailure(
      cause,
      session === undefined ? 'Opening a session' : `PutMedia session ${session.id}`,
    )
    if (decision.kind === 'fatal') {
      this.#fail(decision.error)
      return
    }
    if (decision.invalidateEndpoint) this.#out.push({ type: 'invalidate-endpoint', api: 'PUT_MEDIA' })
    if (decision.refreshCredentials) this.#out.push({ type: 'refresh-credentials' })
    this.#failures++
    const { retry } = this.#config
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
    const delayMs = backoffDelay(this.#failures, retry, this.#random)
    this.#nextReason = 'retry'
    this.#setState('reconnecting', {
      sessionId: session?.id,
      reason: 'failure',
      cause,
      attempt: this.#failures,
      delayMs,
    })
    this.#retryPending = true
    this.#setTimer('retry', delayMs)
  }

  // ── Outcome ──────────────────────────────────────────────────────────────────────────────────────────

  /** Every fragment settled and the input ended: close. */
  #finish(): void {
    if (this.stopped) return
    this.#finished = true
    this.#cancelTimers(...this.#timers)
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
    this.#out.push({ type: 'finish', error, stats })
  }

  /** A fatal condition: stop everything and report `error`. */
  #fail(error: Error): void {
    if (this.stopped) return
    this.#fatal = error
    this.#inputHeld = false
    this.#cancelTimers(...this.#timers)
    const session = this.#session
    this.#session = undefined
    this.#reconciliation = undefined
    this.#preparation = undefined
    if (session !== undefined && session.state !== 'closed') {
      session.state = 'closed'
      this.#out.push({ type: 'destroy-session', sessionId: session.id, cause: error })
    }
    this.#setState('closed', {
      reason: ProducerError.is(error) && error.code === 'ERR_KVS_PRODUCER_ABORTED' ? 'aborted' : 'fatal',
      cause: error,
    })
    this.#emit({ type: 'error', error })
    const stats = this.stats()
    this.#emit({ type: 'stats', stats })
    this.#out.push({ type: 'fail', error, stats })
  }

  // ── Output ───────────────────────────────────────────────────────────────────────────────────────────

  #setTimer(timer: ProducerTimer, delayMs: number): void {
    this.#timers.add(timer)
    this.#out.push({ type: 'set-timer', timer, delayMs: Math.max(0, delayMs) })
  }

  #cancelTimer(timer: ProducerTimer): void {
    if (!this.#timers.delete(timer)) return
    this.#out.push({ type: 'cancel-timer', timer })
  }

  #cancelTimers(...timers: ProducerTimer[]): void {
    for (const timer of timers) this.#cancelTimer(timer)
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
    this.#out.push({ type: 'emit', event })
  }

  #flush(): ProducerCommand[] {
    const out = this.#out
    if (out.length === 0) return NO_COMMANDS
    this.#out = []
    return out
  }
}

const NO_COMMANDS: ProducerCommand[] = []

function timestampOf(fragment: BufferedFragment): number {
  return fragment.ref.producerTimestampMs
}

/** Creates a producer core (see `ProducerCore`). */
export function createProducerCore(config: ProducerCoreConfig): ProducerCore {
  return new ProducerCore(config)
}
