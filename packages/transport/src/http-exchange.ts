import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { KvsAbortError, KvsTimeoutError, toTransportError } from './errors.ts'
import { createHttpError, MAX_ERROR_BODY_BYTES } from './http-error.ts'

/** Response headers as undici reports them (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>

/** Where an exchange delivers a successful (2xx) response, as it arrives. */
export interface ResponseSink {
  /** The 2xx status line and headers arrived. */
  onResponse(status: number, headers: ResponseHeaders): void
  /** A piece of the response body; return `false` to pause the socket until `resume()`. */
  onData(chunk: Buffer): boolean
  /** The response body ended. */
  onEnd(): void
  /** The exchange failed (HTTP error, timeout, abort, socket error); called at most once, never after `onEnd`. */
  onError(error: Error): void
}

export interface HttpExchangeOptions {
  dispatcher: Dispatcher
  url: URL
  /**
   * Request body. An async iterable is sent with chunked transfer encoding and pulled one chunk at a time:
   * undici asks for the next chunk only once the socket has accepted the previous one.
   */
  body: string | Uint8Array | AsyncIterable<Uint8Array> | null
  signal: AbortSignal | undefined
  /** Time from dispatch until the request is on a connected socket; 0 disables. */
  connectTimeoutMs: number
  /** undici's idle timeout between response body chunks; 0 disables. */
  bodyTimeoutMs: number
  /** undici's timeout for the response headers; 0 disables. */
  headersTimeoutMs: number
  /**
   * Called once, synchronously, when the exchange fails or is aborted, before undici is told to abort (which
   * closes the socket): the last moment to reset the connection instead.
   */
  onAbandon?: () => void
}

/**
 * One HTTP request on an undici dispatcher, driven through the dispatcher handler protocol
 * (`onRequestStart` … `onResponseEnd`, with a controller for pause/resume/abort), so the response is read
 * while the request body is still being sent. Adds what every KVS call needs: a connect timer, the
 * caller's `AbortSignal`, typed errors for non-2xx responses and socket failures.
 *
 * @see https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatcherdispatchoptions-handler
 */
export class HttpExchange implements Dispatcher.DispatchHandler {
  readonly #options: HttpExchangeOptions
  readonly #sink: ResponseSink
  /** undici's controller, from `onRequestStart` (the request is on a connected socket) on. */
  #controller: Dispatcher.DispatchController | undefined
  /** Set once the exchange has ended, failed or been aborted: every later callback is ignored. */
  #done = false
  /** Why the exchange failed, to abort a request that reaches its socket only after the failure. */
  #reason: Error | undefined
  #connectTimer: NodeJS.Timeout | undefined
  /** A non-2xx response whose body is being collected for the error. */
  #errorResponse: { status: number; headers: ResponseHeaders; chunks: Buffer[]; size: number } | undefined
  readonly #onAbort = (): void => {
    this.fail(new KvsAbortError(undefined, { cause: this.#options.signal?.reason }))
  }

  constructor(options: HttpExchangeOptions, sink: ResponseSink) {
    this.#options = options
    this.#sink = sink
  }

  /** Whether the exchange has ended, failed or been aborted. */
  get done(): boolean {
    return this.#done
  }

  /** Sends the request with these (signed) headers. Failures, even synchronous ones, go to the sink's `onError`. */
  start(headers: Record<string, string>): void {
    if (this.#done) return
    const { signal, connectTimeoutMs, url } = this.#options
    if (signal?.aborted) {
      this.#onAbort()
      return
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    if (connectTimeoutMs > 0) {
      this.#connectTimer = setTimeout(() => {
        this.fail(
          new KvsTimeoutError(
            'ERR_KVS_CONNECT_TIMEOUT',
            `Could not connect to ${url.host} within ${connectTimeoutMs} ms`,
            connectTimeoutMs,
          ),
        )
      }, connectTimeoutMs)
    }
    try {
      this.#options.dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers,
          // undici accepts async iterables as bodies (sent chunked); its typings only list Readable.
          body: this.#options.body as Readable | string | Uint8Array | null,
          headersTimeout: this.#options.headersTimeoutMs,
          bodyTimeout: this.#options.bodyTimeoutMs,
        },
        this,
      )
    } catch (error) {
      this.fail(toTransportError(error, connectTimeoutMs) as Error)
    }
  }

  /** Stops reading the response (backpressure); the socket stops being read too. */
  pause(): void {
    this.#controller?.pause()
  }

  /** Resumes reading after `pause()` or a sink `onData` that returned false. */
  resume(): void {
    this.#controller?.resume()
  }

  /** Ends the exchange with an error: aborts the request (destroying its socket) and tells the sink. */
  fail(error: Error): void {
    if (this.#done) return
    this.#finish(error)
    this.#sink.onError(error)
  }

  /** Aborts the request (destroying its socket) without telling the sink, e.g. when the consumer went away. */
  abort(error: Error): void {
    if (this.#done) return
    this.#finish(error)
  }

  #finish(error: Error | undefined): void {
    this.#done = true
    this.#reason = error
    clearTimeout(this.#connectTimer)
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    if (error !== undefined) this.#options.onAbandon?.()
    const controller = this.#controller
    if (error !== undefined && controller !== undefined && !controller.aborted) controller.abort(error)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    clearTimeout(this.#connectTimer)
    if (this.#done && this.#reason !== undefined) controller.abort(this.#reason)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
  ): void {
    if (this.#done || statusCode < 200) return
    if (statusCode < 300) {
      this.#sink.onResponse(statusCode, headers)
    } else {
      this.#errorResponse = { status: statusCode, headers, chunks: [], size: 0 }
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return
    const errorResponse = this.#errorResponse
    if (errorResponse !== undefined) {
      const room = MAX_ERROR_BODY_BYTES - errorResponse.size
      if (room > 0) {
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk
        errorResponse.chunks.push(kept)
        errorResponse.size += kept.length
      }
      return
    }
    if (!this.#sink.onData(chunk)) controller.pause()
  }

  onResponseEnd(): void {
    if (this.#done) return
    const errorResponse = this.#errorResponse
    if (errorResponse !== undefined) {
      this.fail(
        createHttpError(errorResponse.status, errorResponse.headers, Buffer.concat(errorResponse.chunks)),
      )
      return
    }
    this.#finish(undefined)
    this.#sink.onEnd()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#done) return
    const errorResponse = this.#errorResponse
    if (errorResponse !== undefined) {
      // The service has answered: its answer is the error, even when the connection then failed (the peer
      // resets a connection whose upload it refused) and the body is cut short.
      this.fail(
        createHttpError(errorResponse.status, errorResponse.headers, Buffer.concat(errorResponse.chunks), {
          cause: toTransportError(error, this.#options.connectTimeoutMs),
        }),
      )
      return
    }
    this.fail(toTransportError(error, this.#options.connectTimeoutMs) as Error)
  }
}
