import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { verifyRequestSync } from '@kvs-streams/signer'
import type { EmulatorContext } from '../context.ts'
import { ServiceError } from '../errors.ts'
import { sendError, sendJson, toServiceError } from './aws-response.ts'
import { handleCors } from './cors.ts'
import { ClientGoneError, readBody } from './read-body.ts'
import { observeResponse } from './response-channel.ts'

/** A JSON object from a request body. */
export type JsonObject = Record<string, unknown>

/** What a route handler gets. */
export interface RouteRequest {
  /** The `x-amzn-RequestId` of the response (already set on it). */
  requestId: string
  request: IncomingMessage
  response: ServerResponse
  /** The parsed JSON body of a `'json'` route; `{}` for a `'stream'` route. */
  input: JsonObject
  /** The access key id the request was signed with (`undefined` when signatures are not verified). */
  accessKeyId: string | undefined
  /** The client sent `Expect: 100-continue` and no `100 Continue` was written yet (stream routes). */
  continueExpected: boolean
}

/**
 * One operation of the emulator. Routes are grouped per concern (`control-plane.ts`, `put-media.ts`, …) and
 * registered with the router, so media-read routes (GetMedia, ListFragments) can be added in their own file.
 */
export interface Route {
  /** Operation name, for logs (`CreateStream`). */
  operation: string
  /**
   * HTTP method. Default `'POST'`: every KVS API operation. The HLS and DASH session resources
   * (`/hls/v1/…`, `/dash/v1/…`) are `'GET'`.
   */
  method?: 'POST' | 'GET'
  /** Request path (`/createStream`), without the query string. */
  path: string
  /**
   * `'json'`: the router reads the body (bounded), verifies the signature over it, parses the JSON object and
   * passes it as `input`. `'stream'`: the router verifies the signature from the headers alone
   * (`x-amz-content-sha256` verbatim, else the empty-body hash) and the handler reads the body itself.
   * `'none'`: no body and no signature (a session resource, whose URL carries its credential).
   */
  body: 'json' | 'stream' | 'none'
  /** Handles the request and writes the response. A thrown `ServiceError` becomes an AWS error response. */
  handle(request: RouteRequest): Promise<void> | void
}

/** A `'json'` route whose handler returns the response object (`undefined`: empty body). */
export function jsonRoute(
  operation: string,
  path: string,
  handle: (input: JsonObject, request: RouteRequest) => Promise<unknown> | unknown,
): Route {
  return {
    operation,
    path,
    body: 'json',
    async handle(request) {
      sendJson(request.response, await handle(request.input, request))
    },
  }
}

/** Dispatches requests to routes: routing, body limits, SigV4 verification and AWS-shaped errors. */
export class Router {
  readonly #context: EmulatorContext
  readonly #routes = new Map<string, Route>()

  constructor(context: EmulatorContext) {
    this.#context = context
  }

  /** Registers routes; a later route for the same method and path replaces the earlier one. */
  add(routes: Iterable<Route>): void {
    for (const route of routes) this.#routes.set(`${route.method ?? 'POST'} ${route.path}`, route)
  }

  /** Handles one request. `continueExpected` is true for requests node held back on `Expect: 100-continue`. */
  async dispatch(
    request: IncomingMessage,
    response: ServerResponse,
    continueExpected = false,
  ): Promise<void> {
    if (this.#context.options.cors && handleCors(request, response)) return
    const requestId = randomUUID()
    response.setHeader('x-amzn-RequestId', requestId)
    // A client that resets the connection mid-body must not take the server down with an unhandled 'error'.
    request.on('error', ignore)
    const { log } = this.#context
    const path = (request.url ?? '/').split('?')[0]!
    const route = this.#routes.get(`${request.method} ${path}`)
    log.debug('request', { method: request.method, path, requestId })
    observeResponse(response, path, route?.operation, requestId)
    let bodyRead = false
    try {
      if (route === undefined) {
        throw new ServiceError(
          'UnknownOperationException',
          404,
          `No operation matches ${request.method} ${path}.`,
        )
      }
      let input: JsonObject = {}
      let accessKeyId: string | undefined
      if (route.body === 'json') {
        if (continueExpected) response.writeContinue()
        continueExpected = false
        const body = await readBody(
          request,
          this.#context.options.maxJsonBodyBytes,
          this.#context.options.bodyTimeoutMs,
        )
        bodyRead = true
        accessKeyId = this.#verify(request, body)
        input = parseJsonObject(body)
      } else if (route.body === 'stream') {
        accessKeyId = this.#verify(request, undefined)
      }
      await route.handle({ requestId, request, response, input, accessKeyId, continueExpected })
    } catch (thrown) {
      if (thrown instanceof ClientGoneError) return
      const error = toServiceError(thrown)
      if (error.status >= 500)
        log.error(`${route?.operation ?? path} failed`, { requestId, error: describe(thrown) })
      else
        log.debug(`${route?.operation ?? path} refused`, {
          requestId,
          errorType: error.errorType,
          message: error.message,
        })
      if (response.headersSent) {
        response.destroy()
        return
      }
      // A body left unread may be endless (PutMedia): close the connection rather than drain it.
      sendError(response, error, { close: !bodyRead && !request.complete })
    }
  }

  /** Verifies the SigV4 signature; returns the access key id, or throws the AWS error. */
  #verify(request: IncomingMessage, body: Uint8Array | undefined): string | undefined {
    const { options } = this.#context
    if (!options.verifySignatures) return undefined
    const result = verifyRequestSync(
      {
        method: request.method ?? 'POST',
        path: request.url ?? '/',
        headers: request.headersDistinct,
        ...(body ? { body } : {}),
      },
      {
        lookupSecret: (accessKeyId) =>
          options.credentials.find((pair) => pair.accessKeyId === accessKeyId)?.secretAccessKey,
        region: options.region,
        now: options.clock(),
        maxSkewMs: options.maxClockSkewMs,
      },
    )
    if (result.ok) return result.accessKeyId
    // KVS answers a stale or future x-amz-date with 403 InvalidSignatureException {"message":"Signature expired: …"}
    // (producer-sdk-cpp issues #211, #1099), not the RequestExpired of the common-errors page.
    if (result.errorType === 'RequestExpired')
      throw new ServiceError('InvalidSignatureException', 403, result.message)
    throw new ServiceError(
      result.errorType,
      result.errorType === 'IncompleteSignature' ? 400 : 403,
      result.message,
    )
  }
}

function parseJsonObject(body: Uint8Array): JsonObject {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new ServiceError(
      'SerializationException',
      400,
      `Malformed JSON request body: ${(error as Error).message}`,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ServiceError('SerializationException', 400, 'The request body must be a JSON object.')
  }
  return value as JsonObject
}

function ignore(): void {}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error)
}
