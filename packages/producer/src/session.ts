import type { Duplex } from 'node:stream'
import { type Ack, type AckDecoder, createAckDecoder, describeAckError } from '@kvs-streams/acks'
import { KvsTimeoutError, type PutMediaOptions, putMedia } from '@kvs-streams/transport'
import { ProducerError } from './errors.ts'
import type { SessionEndReason } from './events.ts'
import type { BufferedFragment, SessionHeader } from './replay-buffer.ts'

/** What a session reports to its producer. */
export interface SessionHandlers {
  /** The service answered 200. */
  response(session: Session): void
  /** One acknowledgement, in arrival order. After the acks of the same read, an ERROR ack closes the session. */
  ack(session: Session, ack: Ack): void
  /** The session is over: `cause` is undefined when it ended cleanly after `end()`. Called exactly once. */
  closed(session: Session, cause: unknown): void
}

export interface SessionOptions {
  id: number
  header: SessionHeader
  /** Everything `putMedia` needs. */
  putMedia: PutMediaOptions
  /** Bounded wait for the acks after `end()`, and the most a written fragment may wait for RECEIVED, ms. */
  staleAfterMs: number
  /**
   * Whether every fragment is followed by an end-of-fragment tag, so each must be acknowledged RECEIVED within
   * `staleAfterMs` of being written (without the tag the service completes a fragment only when the next one
   * starts, so no such deadline holds).
   */
  watchReceived: boolean
  /** Counts the bytes written. */
  onBytes(byteLength: number): void
}

/**
 * One PutMedia connection: writes whole fragments (the MKV header first) to a `putMedia` Duplex, decodes its
 * acknowledgements and reports them, and ends either on purpose (`end()`: the body ends, the acks drain, with
 * a bounded wait) or by failure (socket error, stale connection, ERROR ack, the service ending the response).
 * Acks are matched to fragments by FragmentTimecode within this session only.
 */
export class Session {
  readonly id: number
  readonly header: SessionHeader
  /** Fragments written in this session by FragmentTimecode. */
  readonly fragments = new Map<number, BufferedFragment>()
  /** `open` accepts writes; `ending` waits for the acks after the body ended; `closed` is final. */
  state: 'open' | 'ending' | 'closed' = 'open'
  /** Why `end()` was called (`rotation`, `credentials`, `header`, `end`). */
  endReason: SessionEndReason | undefined
  /** The service answered 200: it has this request's head, so this is the stream's newest connection. */
  responded = false
  /** The first ERROR ack received, and the fragment it named (when it named one written here). */
  errorAck: Ack | undefined
  errorFragment: BufferedFragment | undefined
  readonly #duplex: Duplex
  readonly #decoder: AckDecoder = createAckDecoder()
  readonly #handlers: SessionHandlers
  readonly #options: SessionOptions
  /** A write whose callback has not come yet: the next fragment waits for it (backpressure). */
  #writing = false
  /** The MKV header goes out with the first write of every session (§5.5). */
  #headerWritten = false
  /** Fragments written and not yet RECEIVED, with when their write was taken, for the RECEIVED deadline. */
  #awaiting: { fragment: BufferedFragment; at: number }[] = []
  /** Entries of `#awaiting` before this index are RECEIVED (or settled) and wait for compaction. */
  #awaitingHead = 0
  /** Fragments written in this session (taken or not) and not yet settled, with when `write()` was called. */
  #unsettled: { fragment: BufferedFragment; at: number }[] = []
  /** Entries of `#unsettled` before this index are settled and wait for compaction. */
  #unsettledHead = 0
  /** When the last response byte (the status line, an ack) arrived, or the session started. */
  #lastResponseAt = performance.now()
  /** The RECEIVED watchdog while open, the bounded wait for the last acks once ending. */
  #timer: NodeJS.Timeout | undefined
  #closeCause: unknown
  /** Waiters of `responded200()`. */
  #responseWaiters: { resolve: () => void; reject: (cause: unknown) => void }[] = []

  constructor(options: SessionOptions, handlers: SessionHandlers) {
    this.id = options.id
    this.header = options.header
    this.#options = options
    this.#handlers = handlers
    this.#duplex = putMedia(options.putMedia)
    this.#duplex.on('response', () => {
      if (this.state === 'closed') return
      this.#lastResponseAt = performance.now()
      this.responded = true
      for (const waiter of this.#responseWaiters.splice(0)) waiter.resolve()
      this.#handlers.response(this)
    })
    this.#duplex.on('data', (chunk: Uint8Array) => this.#onData(chunk))
    this.#duplex.on('end', () => this.#onEnd())
    this.#duplex.on('error', (error: Error) => this.#close(error))
    if (options.staleAfterMs > 0) {
      this.#timer = setInterval(() => this.#checkStale(), Math.max(20, options.staleAfterMs / 4))
      this.#timer.unref()
    }
    // The MKV header goes out at once: the request head goes with the first body bytes, so the service answers
    // (and supersedes any older connection of the stream) before a fragment is written.
    this.#writeHeader()
  }

  /**
   * Resolves once the service has answered 200, rejects with the cause if the session closes first. Bound the
   * wait yourself (the producer does, with `withDeadline`).
   */
  responded200(): Promise<void> {
    if (this.responded) return Promise.resolve()
    if (this.state === 'closed') return Promise.reject(this.#closeCause ?? new Error('session closed'))
    return new Promise((resolve, reject) => this.#responseWaiters.push({ resolve, reject }))
  }

  /** Whether a write is waiting for the transport to take it. */
  get writing(): boolean {
    return this.#writing
  }

  /**
   * Writes one fragment (`parts`, then `trailer`), preceded by the header on the first write. `taken` runs once
   * the transport has taken it (its queue is under its high-water mark); not on failure, which closes the
   * session instead. Returns the bytes written.
   */
  write(fragment: BufferedFragment, trailer: Uint8Array | undefined, taken: () => void): number {
    if (this.state !== 'open') throw new Error('Session.write after end')
    this.#writeHeader()
    const parts = trailer === undefined ? fragment.bytes : [...fragment.bytes, trailer]
    const { ref } = fragment
    // One write per fragment, as an array of views (the transport sends them in order): the transport's queue
    // then holds the whole fragment, and the socket does not wait for the next write between parts.
    const byteLength = ref.byteLength + (trailer?.byteLength ?? 0)
    this.fragments.set(ref.timecode, fragment)
    this.#unsettled.push({ fragment, at: performance.now() })
    this.#writing = true
    this.#duplex.write(parts, (error) => {
      this.#writing = false
      if (error || this.state === 'closed') return
      this.#awaiting.push({ fragment, at: performance.now() })
      taken()
    })
    this.#options.onBytes(byteLength)
    return byteLength
  }

  #writeHeader(): void {
    if (this.#headerWritten) return
    this.#headerWritten = true
    this.#duplex.write(this.header.bytes)
    this.#options.onBytes(this.header.bytes.byteLength)
  }

  /**
   * Ends the body after the fragments written so far and waits for the response to end, at most
   * `staleAfterMs` (then the session fails with `ERR_KVS_ACK_STALE`).
   */
  end(reason: SessionEndReason): void {
    if (this.state !== 'open') return
    this.state = 'ending'
    this.endReason = reason
    this.#duplex.end()
    clearInterval(this.#timer)
    const waitMs = this.#options.staleAfterMs > 0 ? this.#options.staleAfterMs : 10_000
    this.#timer = setTimeout(() => {
      this.#close(
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `The PutMedia response did not end within ${waitMs} ms of the body's end`,
          waitMs,
        ),
      )
    }, waitMs)
    this.#timer.unref()
  }

  /** Ends the session at once (its socket is destroyed); `closed` reports `cause`. */
  destroy(cause: unknown): void {
    this.#close(cause)
  }

  #onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return
    this.#lastResponseAt = performance.now()
    let events: ReturnType<AckDecoder['push']>
    try {
      events = this.#decoder.push(chunk)
    } catch (error) {
      this.#close(error)
      return
    }
    for (const event of events) {
      if (event.type === 'service-error') {
        this.#close(event.error)
        return
      }
      const { ack } = event
      if (ack.eventType === 'ERROR' && this.errorAck === undefined) {
        this.errorAck = ack
        const fragment =
          ack.fragmentTimecode === undefined ? undefined : this.fragments.get(ack.fragmentTimecode)
        this.errorFragment = fragment
      }
      this.#handlers.ack(this, ack)
      // A handler may have ended the session (the producer failed).
      if ((this.state as Session['state']) === 'closed') return
    }
    const errorAck = this.errorAck
    if (errorAck !== undefined) {
      const info = errorAck.errorId === undefined ? undefined : describeAckError(errorAck.errorId)
      this.#close(
        new ProducerError(
          'ERR_KVS_PRODUCER_ERROR_ACK',
          `The service answered ERROR ${errorAck.errorId ?? '?'} ${errorAck.errorCode ?? info?.errorCode ?? ''}` +
            ` for fragment timecode ${errorAck.fragmentTimecode ?? '-'}${info ? `: ${info.description}` : ''}`,
          { errorId: errorAck.errorId },
        ),
      )
    }
  }

  #onEnd(): void {
    if (this.state === 'closed') return
    try {
      this.#decoder.end()
    } catch {
      // A truncated trailing ack changes nothing: the fragments it would have named stay unacknowledged.
    }
    if (this.state === 'ending') this.#close(undefined)
    else {
      this.#close(
        new ProducerError(
          'ERR_KVS_PRODUCER_SESSION_ENDED',
          'The service ended the PutMedia response while the producer was still sending',
        ),
      )
    }
  }

  /**
   * Fails the session when the service has gone silent on it (see `#checkSilence`) or, with end-of-fragment
   * tags, when its oldest taken fragment has waited `staleAfterMs` for RECEIVED.
   */
  #checkStale(): void {
    if (this.state !== 'open') return
    this.#checkSilence()
    if (this.#options.watchReceived && this.state === 'open') this.#checkReceived()
  }

  /**
   * Fails the session when a fragment written in it is still unsettled and no response byte has arrived for
   * `staleAfterMs` since it was written (or since the last ack, if later). This bounds the waits no byte-level
   * timer sees: a write the transport never takes (the far end stopped reading, so nothing is sent and nothing
   * is answered), and a fragment RECEIVED whose PERSISTED never comes while nothing more is being sent.
   * Without end-of-fragment tags the newest fragment is not waited for: the service completes it only when
   * the next one starts.
   */
  #checkSilence(): void {
    const unsettled = this.#unsettled
    while (this.#unsettledHead < unsettled.length) {
      const { fragment } = unsettled[this.#unsettledHead]!
      if (fragment.settled || fragment.sessionId !== this.id) this.#unsettledHead++
      else break
    }
    if (this.#unsettledHead > 256 && this.#unsettledHead * 2 > unsettled.length) {
      this.#unsettled = unsettled.slice(this.#unsettledHead)
      this.#unsettledHead = 0
    }
    const last = this.#options.watchReceived ? this.#unsettled.length : this.#unsettled.length - 1
    if (this.#unsettledHead >= last) return
    const oldest = this.#unsettled[this.#unsettledHead]!
    const silentMs = performance.now() - Math.max(oldest.at, this.#lastResponseAt)
    const { staleAfterMs } = this.#options
    if (silentMs >= staleAfterMs) {
      this.#close(
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `No response byte for ${staleAfterMs} ms while fragment timecode ${oldest.fragment.ref.timecode} ` +
            `awaits its acknowledgement (${oldest.fragment.progress})`,
          staleAfterMs,
        ),
      )
    }
  }

  /** Fails the session when its oldest taken fragment has waited `staleAfterMs` for RECEIVED. */
  #checkReceived(): void {
    const awaiting = this.#awaiting
    while (this.#awaitingHead < awaiting.length) {
      const { fragment } = awaiting[this.#awaitingHead]!
      const acknowledged = fragment.progress === 'received' || fragment.progress === 'persisted'
      if (fragment.settled || acknowledged || fragment.sessionId !== this.id) this.#awaitingHead++
      else break
    }
    if (this.#awaitingHead > 256 && this.#awaitingHead * 2 > awaiting.length) {
      this.#awaiting = awaiting.slice(this.#awaitingHead)
      this.#awaitingHead = 0
    }
    const oldest = this.#awaiting[this.#awaitingHead]
    if (oldest === undefined || this.state !== 'open') return
    const waited = performance.now() - oldest.at
    if (waited >= this.#options.staleAfterMs) {
      this.#close(
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `No RECEIVED ack for fragment timecode ${oldest.fragment.ref.timecode} within ${this.#options.staleAfterMs} ms`,
          this.#options.staleAfterMs,
        ),
      )
    }
  }

  #close(cause: unknown): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.#closeCause = cause
    const closedBeforeResponse = cause ?? new Error('the session ended before the service answered')
    for (const waiter of this.#responseWaiters.splice(0)) waiter.reject(closedBeforeResponse)
    clearTimeout(this.#timer)
    clearInterval(this.#timer)
    this.#awaiting = []
    this.#unsettled = []
    if (!this.#duplex.destroyed) this.#duplex.destroy()
    this.#handlers.closed(this, cause)
  }
}
