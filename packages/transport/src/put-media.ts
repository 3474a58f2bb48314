import { Duplex } from 'node:stream'
import { invalidOption, numberOption } from '@kvs-streams/core'
import { formatProducerStartTimestamp } from '@kvs-streams/signer'
import { BodyQueue } from './body-queue.ts'
import { KvsAbortError, KvsConnectionError, KvsTimeoutError } from './errors.ts'
import { HttpExchange, type ResponseHeaders } from './http-exchange.ts'
import {
  type DataPlaneOptions,
  milliseconds,
  nonNegative,
  operationUrl,
  type ResolvedDataPlaneOptions,
  resolveDataPlaneOptions,
  resolveStreamTarget,
} from './options.ts'
import { SessionConnection } from './session-connection.ts'
import { StalenessTimer } from './staleness-timer.ts'
import { USER_AGENT } from './user-agent.ts'

/** Default `ackStalenessMs`: the C++ SDK's default connection staleness. */
export const DEFAULT_ACK_STALENESS_MS = 30_000

/** Default `highWaterMark`, bytes. */
export const DEFAULT_PUT_MEDIA_HIGH_WATER_MARK = 256 * 1024

/** How the service reads Cluster timecodes: relative to the producer start time, or absolute. */
export type FragmentTimecodeType = 'RELATIVE' | 'ABSOLUTE'

interface PutMediaOwnOptions extends DataPlaneOptions {
  /** How the service reads Cluster timecodes (`x-amzn-fragment-timecode-type`). Default `RELATIVE`. */
  fragmentTimecodeType?: FragmentTimecodeType
  /** Producer start time, epoch ms (`x-amzn-producer-start-timestamp`). Default: now. */
  producerStartTimestamp?: number
  /**
   * Abort with `KvsTimeoutError` `ERR_KVS_ACK_STALE` when data has been sent, or waits to be sent, and no
   * response byte (status line, ack) has arrived for this long, ms; 0 disables. Default 30,000. Acks are never used to pace the
   * upload: when it runs flat out, the service may answer only after the body ends.
   */
  ackStalenessMs?: number
  /**
   * Bytes accepted from the writer but not yet taken by the socket beyond which write callbacks wait (and
   * `write()` returns false). Default 262,144.
   */
  highWaterMark?: number
}

/** Options of `putMedia`: the data endpoint, the stream (by name or ARN), a signer, and transport knobs. */
export type PutMediaOptions = PutMediaOwnOptions & ({ streamName: string } | { streamArn: string })

/**
 * What the writable side of a PutMedia stream used to take besides bytes: the chunker's events, written as
 * they came (a `header`'s `bytes`, a `fragment`'s `parts`; other events ignored). Declared here by shape
 * only, so the transport does not depend on the chunker.
 *
 * @deprecated Write bytes instead: a header's `bytes` as a `Uint8Array`, a fragment's `parts` as one
 * `readonly Uint8Array[]` write; drop the other events. Still accepted, with the same effect.
 */
export type LegacyChunkerEventInput =
  | { readonly type: 'header'; readonly bytes: Uint8Array }
  | { readonly type: 'fragment'; readonly parts: readonly Uint8Array[] }
  | { readonly type: string }

/**
 * What the writable side of a PutMedia stream takes: MKV bytes, either one `Uint8Array` or several views
 * written in order as one write (a whole fragment at once, without copying it together). The chunker's events
 * (`LegacyChunkerEventInput`) are still accepted but deprecated.
 */
export type PutMediaInput = Uint8Array | readonly Uint8Array[] | LegacyChunkerEventInput

/** Status and headers of the PutMedia response, emitted as the stream's `response` event. */
export interface PutMediaResponse {
  status: number
  headers: ResponseHeaders
  /** `x-amzn-RequestId`, when the service sent one. */
  requestId: string | undefined
}

/** The `TypeError` that fails a write that is neither bytes nor an array of them (nor a legacy event). */
function invalidInput(chunk: unknown): TypeError {
  return invalidOption('chunk', 'a Uint8Array of MKV bytes or an array of Uint8Arrays', chunk)
}

const noBytes: Uint8Array[] = []

/** Whether every item of `views` is a `Uint8Array`. */
function allViews(views: readonly unknown[]): views is readonly Uint8Array[] {
  for (const view of views) if (!(view instanceof Uint8Array)) return false
  return true
}

/**
 * The bytes a write carries: the chunk itself, the views of an array in order; for the deprecated events, a
 * header's bytes, a fragment's parts, none for other events.
 */
function bytesOf(chunk: unknown): readonly Uint8Array[] | TypeError {
  if (chunk instanceof Uint8Array) return [chunk]
  if (Array.isArray(chunk)) return allViews(chunk) ? chunk : invalidInput(chunk)
  if (typeof chunk === 'object' && chunk !== null && typeof (chunk as { type?: unknown }).type === 'string') {
    const event = chunk as { type: string; bytes?: unknown; parts?: unknown }
    if (event.type === 'fragment')
      return Array.isArray(event.parts) && allViews(event.parts) ? event.parts : invalidInput(chunk)
    if (event.type === 'header')
      return event.bytes instanceof Uint8Array ? [event.bytes] : invalidInput(chunk)
    return noBytes
  }
  return invalidInput(chunk)
}

/**
 * One PutMedia session: the writable side feeds a `BodyQueue` that undici pulls as the request body, the
 * readable side is fed by the `HttpExchange` as response bytes arrive. See `putMedia`.
 */
class PutMediaDuplex extends Duplex {
  readonly #queue: BodyQueue
  readonly #exchange: HttpExchange
  readonly #staleness: StalenessTimer
  /** The session's own connection, when the caller gave no dispatcher (see `SessionConnection`). */
  readonly #connection: SessionConnection | undefined

  constructor(
    resolved: ResolvedDataPlaneOptions,
    highWaterMark: number,
    ackStalenessMs: number,
    connection: SessionConnection | undefined,
  ) {
    // Object mode (arrays of views, and the deprecated events, are accepted) with a high-water mark of 2 writes: a write returns true unless an
    // earlier one is still waiting for the socket. Bytes are bounded by the BodyQueue's highWaterMark.
    super({ writableObjectMode: true, writableHighWaterMark: 2, decodeStrings: false, allowHalfOpen: true })
    this.#staleness = new StalenessTimer(ackStalenessMs, () => {
      this.#exchange.fail(
        new KvsTimeoutError(
          'ERR_KVS_ACK_STALE',
          `No response byte for ${ackStalenessMs} ms while uploading`,
          ackStalenessMs,
        ),
      )
    })
    this.#queue = new BodyQueue(highWaterMark, () => this.#staleness.noteSent())
    this.#connection = connection
    this.#exchange = new HttpExchange(
      {
        dispatcher: connection?.dispatcher ?? resolved.dispatcher,
        url: operationUrl(resolved.endpoint, 'putMedia'),
        body: this.#queue,
        signal: resolved.signal,
        connectTimeoutMs: resolved.connectTimeoutMs,
        // Acks may legitimately pause while the upload runs flat out: ackStalenessMs is the only idle timer.
        headersTimeoutMs: 0,
        bodyTimeoutMs: 0,
        // A session abandoned mid-request (stale, aborted, destroyed) is reset, so what it still had queued
        // never reaches the service.
        onAbandon: () => this.#connection?.reset(),
      },
      {
        onResponse: (status, headers) => {
          this.#staleness.noteResponse(this.#queue.queuedBytes > 0)
          const requestId = headers['x-amzn-requestid']
          this.emit('response', {
            status,
            headers,
            requestId: Array.isArray(requestId) ? requestId[0] : requestId,
          } satisfies PutMediaResponse)
        },
        onData: (chunk) => {
          this.#staleness.noteResponse(this.#queue.queuedBytes > 0)
          return this.push(chunk)
        },
        onEnd: () => this.#responseEnded(),
        onError: (error) => this.destroy(error),
      },
    )
  }

  /** Sends the request once `headers` (being signed) are ready; a signing failure destroys the stream. */
  start(headers: Promise<Record<string, string>>): void {
    headers.then(
      (signed) => {
        if (!this.destroyed) this.#exchange.start(signed)
      },
      (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
    )
  }

  #responseEnded(): void {
    this.#staleness.stop()
    this.push(null)
    if (this.#queue.finished) return
    // The service ended the session (after an ERROR ack, or at its connection cap) while the body was still
    // being written. Fail the writer, but only once the reader has had every ack.
    const fail = (): void => {
      this.destroy(
        new KvsConnectionError(
          'The service ended the PutMedia response before the request body was complete; see the last ack',
        ),
      )
    }
    if (this.readableEnded) fail()
    else this.once('end', fail)
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes = bytesOf(chunk)
    if (bytes instanceof TypeError) callback(bytes)
    else if (bytes.length === 0) callback()
    else this.#queue.push(bytes, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#queue.end(callback)
  }

  override _read(): void {
    this.#exchange.resume()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#staleness.stop()
    const reason = error ?? new KvsAbortError('The PutMedia stream was destroyed')
    // Aborting an exchange still in flight resets its connection (onAbandon); then the client is closed.
    this.#exchange.abort(reason)
    this.#queue.destroy(reason)
    this.#connection?.close()
    callback(error)
  }
}

/**
 * Starts a PutMedia session and returns it as a Node `Duplex`: write MKV bytes, read the raw acknowledgement
 * body. Use it as a `pipeline()` stage:
 *
 * ```ts
 * await pipeline(createReadStream(file), putMedia(options),
 *   createAckDecoderTransform(), async (events) => { for await (const event of events) console.log(event) })
 * ```
 *
 * A write is a `Uint8Array`, or an array of views sent in order as one write (a fragment's parts: no copy, and
 * one write callback for the whole fragment). Anything else fails the stream with a `TypeError`, except the
 * chunker's events (`LegacyChunkerEventInput`), still accepted but deprecated: a header's `bytes` and a
 * fragment's `parts` are sent, other events ignored.
 *
 * The request (`POST {endpoint}/putMedia`, chunked) is signed with `signer.signPutMedia` and sent at once;
 * its headers go out with the first body bytes. The `Duplex` emits `response` (`PutMediaResponse`) on the 200.
 *
 * Errors (the stream's `error`, so `pipeline()` rejects with them): `KvsHttpError` for a response other than
 * 2xx; `KvsTimeoutError` `ERR_KVS_CONNECT_TIMEOUT` / `ERR_KVS_ACK_STALE`; `KvsAbortError` through `signal`;
 * `KvsConnectionError` for socket failures, or when the service ends the response before the body is sent
 * (it does so after an ERROR ack: the error comes once the readable side has delivered every ack).
 * Destroying the stream aborts the request. Without a `dispatcher` option each session has a connection of its
 * own, and destroying the stream before the response ended resets it (RST): bytes not yet sent are discarded
 * rather than flushed, so an abandoned session cannot complete a fragment late. With a `dispatcher`, the
 * dispatcher's socket is destroyed (closed gracefully).
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function putMedia(options: PutMediaOptions): Duplex {
  const resolved = resolveDataPlaneOptions(options)
  const target = resolveStreamTarget(options)
  const { fragmentTimecodeType = 'RELATIVE', producerStartTimestamp = Date.now() } = options
  if (fragmentTimecodeType !== 'RELATIVE' && fragmentTimecodeType !== 'ABSOLUTE') {
    throw invalidOption('fragmentTimecodeType', '"RELATIVE" or "ABSOLUTE"', fragmentTimecodeType)
  }
  numberOption('producerStartTimestamp', producerStartTimestamp, 'epoch milliseconds >= 0', { min: 0 })
  const ackStalenessMs = milliseconds('ackStalenessMs', options.ackStalenessMs, DEFAULT_ACK_STALENESS_MS)
  const highWaterMark = nonNegative(
    'highWaterMark',
    options.highWaterMark,
    DEFAULT_PUT_MEDIA_HIGH_WATER_MARK,
    'bytes',
  )
  const headers: Record<string, string> = {
    ...('arn' in target ? { 'x-amzn-stream-arn': target.arn } : { 'x-amzn-stream-name': target.name }),
    'x-amzn-fragment-timecode-type': fragmentTimecodeType,
    'x-amzn-producer-start-timestamp': formatProducerStartTimestamp(producerStartTimestamp),
    'x-amzn-fragment-acknowledgment-required': '1',
    'user-agent': USER_AGENT,
  }
  const url = operationUrl(resolved.endpoint, 'putMedia')
  const connection =
    options.dispatcher === undefined ? new SessionConnection(url, resolved.connectTimeoutMs) : undefined
  const duplex = new PutMediaDuplex(resolved, highWaterMark, ackStalenessMs, connection)
  duplex.start(
    Promise.resolve()
      .then(() => resolved.signer.signPutMedia({ url, headers }))
      .then((signed) => signed.headers),
  )
  return duplex
}
