import type { IncomingMessage } from 'node:http'
import { ServiceError } from '../errors.ts'

/** The client went away before the body ended: nothing to answer. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError'
}

/**
 * Reads a whole request body of at most `maxBytes` (else 413 `RequestEntityTooLargeException`, without
 * reading the rest), failing with 408 `RequestTimeoutException` when the body has not ended `timeoutMs` after
 * the call, however steadily the client trickles it. A body the client cuts short (the connection closes or
 * resets first) rejects with `ClientGoneError`: there is nothing to answer.
 */
export function readBody(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes))
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let length = 0
    const timer = setTimeout(() => finish(timeout(timeoutMs)), timeoutMs)
    const onData = (chunk: Buffer) => {
      length += chunk.length
      if (length > maxBytes) {
        finish(tooLarge(maxBytes))
        return
      }
      parts.push(chunk)
    }
    const onEnd = () => finish(undefined)
    const onClose = () =>
      finish(new ClientGoneError('the client closed the connection before the body ended'))
    const finish = (error: Error | undefined) => {
      clearTimeout(timer)
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onClose)
      request.off('close', onClose)
      if (error === undefined) resolve(Buffer.concat(parts, length))
      else {
        request.pause()
        reject(error)
      }
    }
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onClose)
    request.on('close', onClose)
  })
}

function tooLarge(maxBytes: number): ServiceError {
  return new ServiceError(
    'RequestEntityTooLargeException',
    413,
    `Request body is larger than ${maxBytes} bytes.`,
  )
}

function timeout(timeoutMs: number): ServiceError {
  return new ServiceError(
    'RequestTimeoutException',
    408,
    `The request body was not received within ${timeoutMs} ms.`,
  )
}
