import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { ServiceError } from '../errors.ts'
import { publishRawResponse, recordResponseBody } from './response-channel.ts'

/** Error types whose real bodies use a lower-case `message` member (signature failures, per AWS). */
const lowerCaseMessage = new Set([
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'RequestExpired',
])

/** The JSON body of an AWS error response. */
export function errorBody(error: ServiceError): string {
  return JSON.stringify(
    lowerCaseMessage.has(error.errorType) ? { message: error.message } : { Message: error.message },
  )
}

/** Sends a JSON success response. `undefined` sends an empty body, as operations without output do. */
export function sendJson(response: ServerResponse, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  recordResponseBody(response, text)
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** How long the rest of a refused request's body is read and discarded after the error response. */
const LINGER_MS = 2000

/**
 * Sends an AWS error response (`x-amzn-ErrorType`, JSON `Message`). `close` asks for the connection to be
 * closed after it, for requests whose body was not read: the connection is closed gracefully, as the service
 * does, so the client can read the answer while it is still uploading (see {@link lingerBeforeClose}).
 */
export function sendError(
  response: ServerResponse,
  error: ServiceError,
  options: { close?: boolean } = {},
): void {
  const body = errorBody(error)
  recordResponseBody(response, body)
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-ErrorType': error.errorTypeHeader,
    ...(options.close ? { connection: 'close' } : {}),
  })
  if (options.close && response.socket !== null) lingerBeforeClose(response.socket)
  response.end(body)
}

/**
 * Makes node close this connection gracefully after the response: send it and the FIN, then keep reading and
 * discarding what the client still sends (node's parser dumps the unread request body) until the client ends
 * or `LINGER_MS` pass, and only then destroy the socket. Node's own `destroySoon()` destroys it as soon as the
 * response is flushed: with unread body bytes that sends a TCP RST, and a client still uploading then fails
 * its next write with EPIPE and loses the response it had not read yet (a lingering close, as HTTP servers do).
 */
function lingerBeforeClose(socket: Socket): void {
  socket.destroySoon = function destroySoon(this: Socket) {
    if (this.writable) this.end()
    const timer = setTimeout(() => this.destroy(), LINGER_MS)
    timer.unref()
    this.once('close', () => clearTimeout(timer))
    this.once('end', () => this.destroy())
  }
}

/** How long a peer may keep a refused connection open after the error response before it is destroyed. */
const RAW_ERROR_GRACE_MS = 2000

/**
 * Writes an AWS error response straight to a socket, for requests node's HTTP parser refused (no
 * `ServerResponse` exists then), and closes the connection (destroyed after a short grace when the peer
 * keeps it open).
 */
export function writeRawError(socket: Socket, error: ServiceError, requestId: string, reason: string): void {
  const body = errorBody(error)
  const timer = setTimeout(() => socket.destroy(), RAW_ERROR_GRACE_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-ErrorType: ${error.errorTypeHeader}\r\n` +
      `x-amzn-RequestId: ${requestId}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  )
  publishRawResponse({
    path: undefined,
    operation: undefined,
    requestId,
    status: error.status,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-errortype': error.errorTypeHeader,
      'x-amzn-requestid': requestId,
      connection: 'close',
    },
    body,
  })
}

/** Wraps anything thrown by a handler as a `ServiceError` (500 `InternalFailure` for bugs). */
export function toServiceError(error: unknown): ServiceError {
  if (ServiceError.is(error)) return error
  return new ServiceError(
    'InternalFailure',
    500,
    'The request processing has failed because of an unknown error.',
    {
      cause: error,
    },
  )
}
