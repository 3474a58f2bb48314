import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { type Ack, describeAckError } from '@kvs-streams/acks'
import { type EmulatorContext, type PutMediaWriter, RECENT_ACKS, type StreamRuntime } from '../context.ts'
import { ServiceError, streamNotFound, supersededPutMedia } from '../errors.ts'
import { formatFragmentNumber } from '../fragment-number.ts'
import { faultsFor, type PutMediaFaults } from '../options.ts'
import { storageInternals } from '../storage/storage.ts'
import type { FragmentToStore, StreamRecord } from '../storage/types.ts'
import { AckWriter } from './ack-writer.ts'
import type { PutMediaHeaders } from './put-media-headers.ts'
import { createPutMediaSession, type PutMediaSession, type SessionEvent } from './session.ts'

/** Stores in flight per connection before the emulator stops reading the body (backpressure). */
const MAX_PENDING_STORES = 16
/** How long a closed connection may keep sending before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000
/** Longest wait of a new connection's 200 for the stores of fragments earlier connections completed. */
const EARLIER_STORES_TIMEOUT_MS = 10_000

/** A fragment acknowledged BUFFERING and not yet complete. */
interface OpenFragment {
  timecode: number
  sequence: number
  fragmentNumber: string
  serverTimestampMs: number
  producerTimestampMs: number
}

/** An ERROR to acknowledge before closing. */
interface PendingError {
  errorId: number
  message: string
  timecode: number | undefined
  fragmentNumber: string | undefined
}

/** Why a connection finishes. */
type FinishReason = 'end' | 'idle' | 'error' | 'superseded' | 'shutdown'

/**
 * One PutMedia request after its headers were accepted: answers 200 with a chunked body at once, parses the
 * MKV body as it arrives and acknowledges each fragment (BUFFERING at its start, RECEIVED when complete,
 * PERSISTED once durable when the stream retains data), sends IDLE acks while the body is silent, and ends
 * with an ERROR ack and a closed connection on the first broken rule.
 */
export class PutMediaConnection implements PutMediaWriter {
  readonly #context: EmulatorContext
  readonly #stream: StreamRecord
  readonly #headers: PutMediaHeaders
  readonly #request: IncomingMessage
  readonly #response: ServerResponse
  readonly #session: PutMediaSession
  readonly #faults: PutMediaFaults
  readonly #acks: AckWriter
  readonly #runtime: StreamRuntime
  readonly #connectionIndex: number
  /** RELATIVE timecodes count from this (the header, or the request's arrival when absent). */
  readonly #producerStartMs: number
  /** Nanoseconds per timecode unit, from the producer's header. */
  #timecodeScale = 1_000_000
  /** The producer's MKV header of this session (stored with every fragment). */
  #header: Uint8Array = new Uint8Array(0)
  /** Fragments started and not complete, by session index. */
  readonly #open = new Map<number, OpenFragment>()
  /** Fragments acknowledged RECEIVED. */
  #received = 0
  /** Body bytes consumed. */
  #bytes = 0
  /** Body bytes since the idle deadline last restarted: it restarts once they reach `minBodyBytes`. */
  #bytesSinceProgress = 0
  /** Stores in flight; their PERSISTED acks are written when they settle. */
  readonly #pending = new Set<Promise<void>>()
  /** The ERROR that ends the connection, once there is one. */
  #error: PendingError | undefined
  /** Whether errors from the parser are dropped (closing an idle connection is not the producer's fault). */
  #quiet = false
  /** `starting` until the 200 is written (earlier connections' stores settle meanwhile). */
  #state: 'starting' | 'reading' | 'finishing' | 'done' = 'starting'
  /** Why the connection is refused instead of answered 200, when that happened while it was starting. */
  #refusal: ServiceError | undefined
  readonly #timers: NodeJS.Timeout[] = []
  #idleAck: NodeJS.Timeout | undefined
  #idleClose: NodeJS.Timeout | undefined
  readonly #done: Promise<void>
  #resolveDone!: () => void

  constructor(
    context: EmulatorContext,
    stream: StreamRecord,
    headers: PutMediaHeaders,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    this.#context = context
    this.#stream = stream
    this.#headers = headers
    this.#request = request
    this.#response = response
    const { options } = context
    this.#producerStartMs = headers.producerStartTimestampMs ?? options.clock()
    this.#session = createPutMediaSession({
      maxFragmentDurationMs: options.maxFragmentDurationMs,
      maxFragmentBytes: options.maxFragmentBytes,
    })
    this.#runtime = context.runtime(stream)
    this.#connectionIndex = this.#runtime.putMediaConnections++
    this.#faults = faultsFor(options.faults, stream.streamName, this.#connectionIndex)
    const runtime = this.#runtime
    const connection = this.#connectionIndex
    this.#acks = new AckWriter(response, {
      delayMs: this.#faults.ackDelayMs ?? 0,
      clock: options.clock,
      onAck(ack) {
        if (ack.eventType === 'IDLE') return
        runtime.recentAcks.push({
          timeMs: options.clock(),
          connection,
          eventType: ack.eventType,
          ...(ack.fragmentTimecode === undefined ? {} : { fragmentTimecode: ack.fragmentTimecode }),
          ...(ack.fragmentNumber === undefined ? {} : { fragmentNumber: ack.fragmentNumber }),
          ...(ack.errorId === undefined ? {} : { errorId: ack.errorId }),
          ...(ack.errorCode === undefined ? {} : { errorCode: ack.errorCode }),
        })
        if (runtime.recentAcks.length > RECENT_ACKS) runtime.recentAcks.shift()
      },
    })
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve))
  }

  /**
   * Becomes the stream's writer (superseding the previous one), waits until the fragments earlier connections
   * of the stream completed are stored (listed by ListFragments, readable by GetMedia), then answers 200 and
   * processes the body; resolves when the connection is over. Rejects with the `ServiceError` to answer when
   * the connection is refused before its 200: superseded meanwhile, stream deleted, emulator closing, or the
   * earlier stores not settled within 10 s (503 `ServiceUnavailable`).
   */
  async run(continueExpected: boolean): Promise<void> {
    const { options, log } = this.#context
    const runtime = this.#runtime
    const previous = runtime.writer
    runtime.writer = this
    this.#context.connections.add(this)
    previous?.supersede()
    const settled = await this.#settleEarlierStores()
    if (!settled && this.#refusal === undefined) {
      this.#refusal = new ServiceError(
        'ServiceUnavailable',
        503,
        'The fragments of an earlier PutMedia connection of this stream are still being stored; retry.',
      )
    }
    if (this.#refusal !== undefined || this.#request.socket.destroyed) {
      const refusal = this.#refusal
      this.#complete()
      if (refusal !== undefined) throw refusal
      return
    }
    this.#state = 'reading'
    log.info('PutMedia connection opened', {
      streamName: this.#stream.streamName,
      connectionIndex: this.#connectionIndex,
      timecodeType: this.#headers.timecodeType,
    })

    if (continueExpected) this.#response.writeContinue()
    this.#response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    this.#response.flushHeaders()

    const request = this.#request
    request.on('data', this.#onData)
    request.on('end', this.#onEnd)
    request.on('error', this.#onAbort)
    this.#response.on('close', this.#onResponseClose)
    // Writes racing a vanished client fail on the socket; the 'close' above already handles that.
    this.#response.on('error', this.#onAbort)

    this.#idleAck = setTimeout(() => {
      this.#acks.write({ eventType: 'IDLE' })
      this.#idleAck?.refresh()
    }, options.idleAckIntervalMs)
    this.#idleClose = setTimeout(() => void this.#finish('idle'), options.idleTimeoutMs)
    const maxDuration = setTimeout(
      () =>
        this.#failAt(
          4003,
          `connection open for ${options.maxConnectionDurationMs} ms`,
          this.#session.openFragmentIndex,
        ),
      options.maxConnectionDurationMs,
    )
    this.#timers.push(this.#idleAck, this.#idleClose, maxDuration)
    if (this.#faults.dropAfterFragments === 0) this.#drop('dropAfterFragments')
    return this.#done
  }

  supersede(): void {
    if (this.#state === 'starting') this.#refusal ??= supersededPutMedia()
    else void this.#finish('superseded')
  }

  streamDeleted(): void {
    if (this.#state === 'starting') this.#refusal ??= streamNotFound()
    else this.#failAt(4008, 'the stream was deleted', this.#session.openFragmentIndex)
  }

  shutdown(): Promise<void> {
    if (this.#state === 'starting') {
      this.#refusal ??= new ServiceError('ServiceUnavailable', 503, 'The emulator is shutting down.')
    } else void this.#finish('shutdown')
    return this.#done
  }

  /**
   * Waits for the stores in flight of fragments acknowledged RECEIVED by earlier connections of the stream
   * (superseded, cut or dropped ones), at most `EARLIER_STORES_TIMEOUT_MS`; false when they did not settle.
   */
  async #settleEarlierStores(): Promise<boolean> {
    const pending = [...this.#runtime.pendingStores]
    if (pending.length === 0) return true
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), EARLIER_STORES_TIMEOUT_MS)
    })
    try {
      return await Promise.race([Promise.all(pending).then(() => true as const), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state !== 'reading') return
    this.#idleAck?.refresh()
    this.#bytesSinceProgress += chunk.length
    if (this.#bytesSinceProgress >= this.#context.options.minBodyBytes) {
      this.#bytesSinceProgress = 0
      this.#idleClose?.refresh()
    }
    let data: Uint8Array = chunk
    const dropAt = this.#faults.dropAfterBytes
    const drop = dropAt !== undefined && this.#bytes + data.length >= dropAt
    if (drop) data = data.subarray(0, dropAt - this.#bytes)
    this.#bytes += data.length
    this.#handleAll(this.#session.push(data))
    if (drop && this.#state === 'reading') this.#drop('dropAfterBytes')
  }

  readonly #onEnd = (): void => {
    // Only a body that ended with its terminating chunk (or its full Content-Length) completes the last
    // fragment; a body the network cut short is a vanished client, whatever the HTTP parser reports.
    if (this.#request.complete) void this.#finish('end')
    else this.#abort()
  }

  readonly #onAbort = (): void => {
    this.#abort()
  }

  readonly #onResponseClose = (): void => {
    if (!this.#response.writableFinished) this.#abort()
  }

  #handleAll(events: SessionEvent[]): void {
    for (const event of events) {
      if (this.#error !== undefined || this.#state === 'done') return
      this.#handle(event)
    }
  }

  #handle(event: SessionEvent): void {
    switch (event.type) {
      case 'header':
        this.#header = event.bytes
        this.#timecodeScale = event.timecodeScale
        return
      case 'fragment-start':
        this.#startFragment(event.index, event.timecode)
        return
      case 'fragment':
        this.#completeFragment(event)
        return
      case 'error':
        if (!this.#quiet) this.#failAt(event.errorId, event.message, event.fragmentIndex)
        return
    }
  }

  #startFragment(index: number, timecode: number): void {
    const { options, storage } = this.#context
    const now = options.clock()
    const current = storage.getStream(this.#stream.streamName)
    if (current?.streamARN !== this.#stream.streamARN) {
      this.#fail({ errorId: 4008, message: 'the stream was deleted', timecode, fragmentNumber: undefined })
      return
    }
    if (this.#context.status(current) !== 'ACTIVE') {
      this.#fail({
        errorId: 4008,
        message: 'the stream is not ACTIVE yet',
        timecode,
        fragmentNumber: undefined,
      })
      return
    }
    const injected = this.#faults.errorAfterFragments
    if (injected !== undefined && this.#received >= injected.count) {
      this.#fail({
        errorId: injected.errorId,
        message: 'injected fault',
        timecode,
        fragmentNumber: undefined,
      })
      return
    }
    const milliseconds = Math.round((timecode * this.#timecodeScale) / 1_000_000)
    const producerTimestampMs =
      this.#headers.timecodeType === 'ABSOLUTE' ? milliseconds : this.#producerStartMs + milliseconds
    const sequence = storage.allocateSequence(current)
    if (sequence === undefined) {
      this.#fail({ errorId: 4008, message: 'the stream was deleted', timecode, fragmentNumber: undefined })
      return
    }
    const fragmentNumber = formatFragmentNumber(sequence, BigInt(Math.max(0, Math.floor(now))))
    if (producerTimestampMs > now + options.futureTimestampToleranceMs) {
      this.#fail({
        errorId: 4007,
        message: `producer timestamp ${producerTimestampMs} is more than ${options.futureTimestampToleranceMs} ms in the future`,
        timecode,
        fragmentNumber,
      })
      return
    }
    this.#open.set(index, { timecode, sequence, fragmentNumber, serverTimestampMs: now, producerTimestampMs })
    this.#acks.write({ eventType: 'BUFFERING', fragmentTimecode: timecode, fragmentNumber })
  }

  #completeFragment(event: Extract<SessionEvent, { type: 'fragment' }>): void {
    const open = this.#open.get(event.index)
    if (open === undefined) return
    this.#open.delete(event.index)
    const { storage, log } = this.#context
    this.#acks.write({
      eventType: 'RECEIVED',
      fragmentTimecode: open.timecode,
      fragmentNumber: open.fragmentNumber,
    })
    this.#received++
    const stream = storage.getStream(this.#stream.streamName) ?? this.#stream
    const durable = stream.dataRetentionInHours > 0
    // The bytes go to storage as the views of the received chunks they lie in: not copied.
    const fragment: FragmentToStore = {
      streamName: stream.streamName,
      fragmentNumber: open.fragmentNumber,
      sequence: open.sequence,
      fragmentTimecode: open.timecode,
      timecodeScale: this.#timecodeScale,
      timecodeType: this.#headers.timecodeType,
      producerTimestampMs: open.producerTimestampMs,
      serverTimestampMs: open.serverTimestampMs,
      durationMs: event.durationMs,
      sizeBytes: event.sizeBytes,
      tracks: event.tracks,
      blockCount: event.blockCount,
      keyframe: event.keyframe,
      metadata: event.metadata,
      persisted: durable,
      firstInSession: event.index === 0,
      header: this.#header,
      cluster: event.clusterParts,
      tags: event.tagsParts,
    }
    const storeDelayMs = this.#faults.storeDelayMs ?? 0
    const put = () => storageInternals.storeFragment(storage, this.#stream, fragment, durable)
    const store = (storeDelayMs > 0 ? delay(storeDelayMs).then(put) : put()).then(
      (stored) => {
        if (stored && durable) {
          this.#acks.write({
            eventType: 'PERSISTED',
            fragmentTimecode: open.timecode,
            fragmentNumber: open.fragmentNumber,
          })
        }
      },
      (error: unknown) => {
        log.error('storing a fragment failed', { streamName: stream.streamName, error: String(error) })
        this.#fail({
          errorId: 5001,
          message: 'the fragment could not be persisted',
          timecode: open.timecode,
          fragmentNumber: open.fragmentNumber,
        })
      },
    )
    this.#pending.add(store)
    this.#runtime.pendingStores.add(store)
    void store.then(() => {
      this.#pending.delete(store)
      this.#runtime.pendingStores.delete(store)
      if (this.#state === 'reading' && this.#pending.size < MAX_PENDING_STORES) this.#request.resume()
    })
    if (this.#pending.size >= MAX_PENDING_STORES) this.#request.pause()
    const dropAfter = this.#faults.dropAfterFragments
    if (dropAfter !== undefined && this.#received >= dropAfter) this.#drop('dropAfterFragments')
  }

  /** Fails with the timecode and number of the fragment at `fragmentIndex`, when it was started. */
  #failAt(errorId: number, message: string, fragmentIndex: number | undefined): void {
    const open = fragmentIndex === undefined ? undefined : this.#open.get(fragmentIndex)
    this.#fail({ errorId, message, timecode: open?.timecode, fragmentNumber: open?.fragmentNumber })
  }

  #fail(error: PendingError): void {
    if (this.#error !== undefined || this.#state === 'done') return
    this.#error = error
    this.#context.log.info('PutMedia error', {
      streamName: this.#stream.streamName,
      errorId: error.errorId,
      message: error.message,
    })
    void this.#finish('error')
  }

  /**
   * Ends the connection: completes the last fragment (`end`, `idle`), waits for the stores in flight (their
   * PERSISTED acks go out first), writes the ERROR ack if there is one, ends the chunked response, and closes
   * the connection unless the body ended cleanly.
   */
  async #finish(reason: FinishReason): Promise<void> {
    if (this.#state !== 'reading') return
    this.#state = 'finishing'
    this.#stopReading()
    try {
      await this.#finishResponse(reason)
    } catch (error) {
      this.#context.log.error('PutMedia connection failed while finishing', {
        streamName: this.#stream.streamName,
        error: String(error),
      })
      this.#acks.close()
      this.#request.socket.destroy()
    }
    this.#complete()
  }

  async #finishResponse(reason: FinishReason): Promise<void> {
    if (reason === 'end' || reason === 'idle') {
      this.#quiet = reason === 'idle'
      this.#handleAll(this.#session.end())
    }
    await Promise.all(this.#pending)
    const error = this.#error
    if (error !== undefined) {
      const ack: Ack = { eventType: 'ERROR' }
      if (error.timecode !== undefined) ack.fragmentTimecode = error.timecode
      if (error.fragmentNumber !== undefined) ack.fragmentNumber = error.fragmentNumber
      ack.errorCode = describeAckError(error.errorId).errorCode
      ack.errorId = error.errorId
      this.#acks.write(ack)
    }
    await this.#acks.flushed()
    if (this.#state !== 'finishing') return
    const keepAlive = reason === 'end' && error === undefined && this.#request.complete
    this.#response.end()
    if (!keepAlive) this.#closeSocket()
    this.#context.log.info('PutMedia connection finished', {
      streamName: this.#stream.streamName,
      reason,
      fragments: this.#received,
      ...(error ? { errorId: error.errorId } : {}),
    })
  }

  /** A fault: the connection disappears without a terminating chunk, as in a network failure. */
  #drop(fault: string): void {
    if (this.#state === 'done') return
    this.#context.log.info('PutMedia connection dropped (fault injection)', {
      streamName: this.#stream.streamName,
      fault,
    })
    this.#stopReading()
    this.#acks.close()
    // Acks already written still reach the client (the drop follows them), nothing after them does.
    const socket = this.#request.socket
    setImmediate(() => {
      if (socket.writableLength === 0) socket.destroy()
      else socket.once('drain', () => socket.destroy())
    })
    this.#complete()
  }

  /** The client went away. */
  #abort(): void {
    if (this.#state === 'done') return
    this.#stopReading()
    this.#acks.close()
    this.#complete()
  }

  #stopReading(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#request.off('data', this.#onData)
    this.#request.pause()
  }

  /** Closes the connection once the response is flushed, discarding what the client still sends meanwhile. */
  #closeSocket(): void {
    const request = this.#request
    const socket = request.socket
    const close = () => {
      request.resume()
      socket.end()
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS)
      timer.unref()
      socket.once('close', () => clearTimeout(timer))
    }
    if (this.#response.writableFinished) close()
    else this.#response.once('finish', close)
  }

  #complete(): void {
    if (this.#state === 'done') return
    this.#state = 'done'
    if (this.#runtime.writer === this) this.#runtime.writer = undefined
    this.#context.connections.delete(this)
    this.#request.off('end', this.#onEnd)
    this.#response.off('close', this.#onResponseClose)
    this.#resolveDone()
  }
}
