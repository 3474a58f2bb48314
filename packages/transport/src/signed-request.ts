import { Readable } from 'node:stream'
import { KvsAbortError, KvsProtocolError } from './errors.ts'
import { HttpExchange, type ResponseHeaders } from './http-exchange.ts'
import { operationUrl, type ResolvedDataPlaneOptions } from './options.ts'
import { USER_AGENT } from './user-agent.ts'

/** The body of a successful response as a Node `Readable` of bytes, with the status line's details. */
export class ResponseBody extends Readable {
  /** HTTP status (2xx). */
  readonly status: number
  /** Response headers, lower-case names. */
  readonly headers: ResponseHeaders
  #exchange: HttpExchange | undefined

  constructor(status: number, headers: ResponseHeaders, highWaterMark: number | undefined) {
    super(highWaterMark === undefined ? {} : { highWaterMark })
    this.status = status
    this.headers = headers
  }

  /** `content-type` of the response (`video/webm` for GetMedia). */
  get contentType(): string | undefined {
    const value = this.headers['content-type']
    return Array.isArray(value) ? value[0] : value
  }

  /** `x-amzn-RequestId` of the response. */
  get requestId(): string | undefined {
    const value = this.headers['x-amzn-requestid']
    return Array.isArray(value) ? value[0] : value
  }

  /** @internal */
  attach(exchange: HttpExchange): void {
    this.#exchange = exchange
  }

  /** @internal Node's `Readable` hook: resumes the response. */
  override _read(): void {
    this.#exchange?.resume()
  }

  /** @internal Node's `Readable` hook: aborts the request. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#exchange?.abort(error ?? new KvsAbortError('The response body was destroyed'))
    callback(error)
  }
}

export interface SignedJsonRequest {
  /** Operation path on the data endpoint, e.g. `getMedia`. */
  operation: string
  /** The JSON request body. */
  body: unknown
  /** undici's idle timeout between body chunks, ms; 0 disables. */
  bodyTimeoutMs: number
  /** `highWaterMark` of the returned body, bytes. */
  highWaterMark?: number | undefined
}

/**
 * `POST {endpoint}/{operation}` with a JSON body signed by `signer.signJson` (body hash included). Resolves
 * with the response body as a stream once a 2xx status arrives; rejects with `KvsHttpError` otherwise, or
 * with the transport's timeout/abort/connection errors. Later failures destroy the returned stream.
 */
export async function sendSignedJson(
  resolved: ResolvedDataPlaneOptions,
  request: SignedJsonRequest,
): Promise<ResponseBody> {
  const url = operationUrl(resolved.endpoint, request.operation)
  const body = JSON.stringify(request.body)
  const signed = await resolved.signer.signJson({ url, body, headers: { 'user-agent': USER_AGENT } })
  return new Promise<ResponseBody>((resolve, reject) => {
    let response: ResponseBody | undefined
    const exchange = new HttpExchange(
      {
        dispatcher: resolved.dispatcher,
        url,
        body,
        signal: resolved.signal,
        connectTimeoutMs: resolved.connectTimeoutMs,
        headersTimeoutMs: 300_000,
        bodyTimeoutMs: request.bodyTimeoutMs,
      },
      {
        onResponse(status, headers) {
          response = new ResponseBody(status, headers, request.highWaterMark)
          response.attach(exchange)
          resolve(response)
        },
        onData: (chunk) => response!.push(chunk),
        onEnd: () => response!.push(null),
        onError(error) {
          if (response === undefined) reject(error)
          else response.destroy(error)
        },
      },
    )
    exchange.start(signed.headers)
  })
}

/** Reads a whole (small) response body as JSON; `KvsProtocolError` when it is not JSON or over `maxBytes`. */
export async function readJson(body: Readable, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of body) {
    length += (chunk as Buffer).length
    if (length > maxBytes) {
      body.destroy()
      throw new KvsProtocolError(`The service's JSON answer is larger than ${maxBytes} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    const start = text.length > 120 ? `${text.slice(0, 120)}…` : text
    throw new KvsProtocolError(`The service answered 200 with a body that is not JSON: ${start}`, {
      cause: error,
    })
  }
}

/** The most `readJson` reads: a ListFragments page of 1,000 fragments is ~200 KB. */
const MAX_JSON_BYTES = 16 * 1024 * 1024
