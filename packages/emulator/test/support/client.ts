import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { type Ack, createAckDecoder } from '@kvs-streams/acks'
import { createKvsSigner, formatProducerStartTimestamp, type KvsSigner } from '@kvs-streams/signer'
import { onTestFinished } from 'vitest'
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/index.ts'
import { checkResponse } from './model-check.ts'
import { reportModelViolations } from './model-check-setup.ts'

/** Where and how to reach an emulator (an in-process `Emulator`, or a child process's printed endpoint). */
export type Endpoint = Pick<Emulator, 'url' | 'region' | 'credentials'>

/** Starts an in-memory emulator that closes when the current test finishes. */
export async function testEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options)
  onTestFinished(() => emulator.close())
  return emulator
}

/** A signer for the emulator's first key pair. */
export function signerFor(
  emulator: Endpoint,
  overrides: { secretAccessKey?: string; accessKeyId?: string; region?: string; clock?: () => number } = {},
): KvsSigner {
  const pair = emulator.credentials[0]!
  return createKvsSigner({
    region: overrides.region ?? emulator.region,
    credentials: {
      accessKeyId: overrides.accessKeyId ?? pair.accessKeyId,
      secretAccessKey: overrides.secretAccessKey ?? pair.secretAccessKey,
    },
    ...(overrides.clock ? { clock: overrides.clock } : {}),
  })
}

export interface HttpResult {
  status: number
  headers: IncomingHttpHeaders
  text: string
  /** The parsed JSON body, or undefined when empty or not JSON. */
  json: Record<string, unknown> | undefined
}

/** Sends a raw HTTP request and collects the response. */
export function send(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      new URL(options.path, url),
      { method: options.method ?? 'POST', headers: options.headers, agent: false },
      (response) => {
        const parts: Buffer[] = []
        response.on('data', (chunk: Buffer) => parts.push(chunk))
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          let json: Record<string, unknown> | undefined
          try {
            json = text === '' ? undefined : JSON.parse(text)
          } catch {
            json = undefined
          }
          // Checked here too, for emulators in child processes, whose responses no in-process channel sees.
          reportModelViolations(
            checkResponse({
              path: options.path.split('?')[0],
              operation: undefined,
              requestId: String(response.headers['x-amzn-requestid'] ?? ''),
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: text,
            }),
          )
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json })
        })
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** Signs and sends a control-plane JSON request (`operation` is the path, e.g. `/createStream`). */
export async function callJson(
  emulator: Endpoint,
  path: string,
  body: unknown,
  options: { signer?: KvsSigner; rawBody?: string } = {},
): Promise<HttpResult> {
  const text = options.rawBody ?? JSON.stringify(body)
  const signed = await (options.signer ?? signerFor(emulator)).signJson({
    url: `${emulator.url}${path}`,
    body: text,
  })
  return send(emulator.url, { path, headers: signed.headers, body: text })
}

/** Creates a stream through the control plane and returns its ARN. */
export async function createStream(
  emulator: Endpoint,
  streamName: string,
  retentionHours = 24,
): Promise<string> {
  const result = await callJson(emulator, '/createStream', {
    StreamName: streamName,
    DataRetentionInHours: retentionHours,
  })
  if (result.status !== 200) throw new Error(`CreateStream failed: ${result.status} ${result.text}`)
  return result.json?.StreamARN as string
}

export interface PutMediaOptions {
  streamName?: string
  streamARN?: string
  timecodeType?: 'ABSOLUTE' | 'RELATIVE'
  /** Epoch ms for `x-amzn-producer-start-timestamp`; default now. `null` leaves the header out. */
  producerStartMs?: number | null
  signer?: KvsSigner
  /** Send `Expect: 100-continue` and wait for the 100 before the body. */
  expectContinue?: boolean
  /** Send a length-delimited body of this many bytes instead of a chunked one. */
  contentLength?: number
  /** Extra or replacing headers (after signing). */
  headers?: Record<string, string>
}

export interface PutMediaResult {
  status: number
  headers: IncomingHttpHeaders
  acks: Ack[]
  /** The response ended with its terminating chunk (false: the connection dropped first). */
  complete: boolean
  /** The response body, for non-200 answers. */
  text: string
}

/** A PutMedia upload in progress, written by the test. */
export interface PutMediaUpload {
  /** Acks received so far, in order. */
  readonly acks: Ack[]
  /** Resolves with the status line once the response headers arrive. */
  readonly response: Promise<{ status: number; headers: IncomingHttpHeaders }>
  /** Writes body bytes; resolves once they are handed to the socket. */
  write(bytes: Uint8Array): Promise<void>
  /** Ends the body. */
  end(): void
  /** Resolves with the first ack (from the start) matching `predicate`. */
  waitForAck(predicate: (ack: Ack) => boolean, timeoutMs?: number): Promise<Ack>
  /** Resolves when the response is over (ended or dropped). */
  readonly result: Promise<PutMediaResult>
  /** Resolves when the client's socket has closed. */
  readonly socketClosed: Promise<void>
  /** Destroys the request. */
  abort(): void
}

/**
 * Opens a PutMedia request with a streaming (chunked) body, signed like the KVS Java producer
 * (`UNSIGNED-PAYLOAD`), over its own keep-alive socket so a server-side close is observable.
 */
export async function openPutMedia(
  emulator: Endpoint,
  options: PutMediaOptions = {},
): Promise<PutMediaUpload> {
  const headers: Record<string, string> = {
    'x-amzn-fragment-timecode-type': options.timecodeType ?? 'ABSOLUTE',
  }
  if (options.streamARN !== undefined) headers['x-amzn-stream-arn'] = options.streamARN
  else headers['x-amzn-stream-name'] = options.streamName ?? 'test-stream'
  if (options.producerStartMs !== null) {
    headers['x-amzn-producer-start-timestamp'] = formatProducerStartTimestamp(
      options.producerStartMs ?? Date.now(),
    )
  }
  const signed = await (options.signer ?? signerFor(emulator)).signPutMedia({
    url: `${emulator.url}/putMedia`,
    headers,
  })
  const sendHeaders: Record<string, string> = { ...signed.headers, ...options.headers }
  if (options.expectContinue) sendHeaders.expect = '100-continue'
  if (options.contentLength !== undefined) sendHeaders['content-length'] = String(options.contentLength)

  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const request = httpRequest(new URL('/putMedia', emulator.url), {
    method: 'POST',
    headers: sendHeaders,
    agent,
  })
  const acks: Ack[] = []
  const waiters = new Set<{ predicate: (ack: Ack) => boolean; resolve: (ack: Ack) => void }>()
  const decoder = createAckDecoder()
  let resolveResponse!: (value: { status: number; headers: IncomingHttpHeaders }) => void
  let rejectResponse!: (error: Error) => void
  const response = new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    resolveResponse = resolve
    rejectResponse = reject
  })
  let resolveResult!: (value: PutMediaResult) => void
  const result = new Promise<PutMediaResult>((resolve) => (resolveResult = resolve))
  let resolveClosed!: () => void
  const socketClosed = new Promise<void>((resolve) => (resolveClosed = resolve))
  let continued = !options.expectContinue
  let resolveContinue!: () => void
  const continuePromise = new Promise<void>((resolve) => (resolveContinue = resolve))
  if (continued) resolveContinue()
  request.on('continue', () => {
    continued = true
    resolveContinue()
  })
  request.on('socket', (socket) => socket.once('close', () => resolveClosed()))
  // Writes after the server closed the connection fail with EPIPE/ECONNRESET: the result tells the story.
  request.on('error', (error) => {
    rejectResponse(error)
    resolveResult({ status: 0, headers: {}, acks, complete: false, text: String(error) })
  })
  request.on('response', (incoming) => {
    resolveResponse({ status: incoming.statusCode ?? 0, headers: incoming.headers })
    const parts: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => {
      if (incoming.statusCode !== 200) {
        parts.push(chunk)
        return
      }
      for (const event of decoder.push(chunk)) {
        if (event.type !== 'ack') continue
        acks.push(event.ack)
        for (const waiter of waiters) {
          if (waiter.predicate(event.ack)) {
            waiters.delete(waiter)
            waiter.resolve(event.ack)
          }
        }
      }
    })
    incoming.on('close', () => {
      resolveResult({
        status: incoming.statusCode ?? 0,
        headers: incoming.headers,
        acks,
        complete: incoming.complete,
        text: Buffer.concat(parts).toString('utf8'),
      })
      agent.destroy()
    })
  })
  request.flushHeaders()
  void response.catch(() => {})

  return {
    acks,
    response,
    result,
    socketClosed,
    async write(bytes: Uint8Array) {
      if (!continued) await continuePromise
      if (request.destroyed || request.writableEnded) return
      if (request.write(bytes)) return
      await new Promise<void>((resolve) => {
        const done = () => {
          request.off('drain', done)
          request.off('close', done)
          resolve()
        }
        request.on('drain', done)
        request.on('close', done)
      })
    },
    end() {
      void continuePromise.then(() => {
        if (!request.destroyed && !request.writableEnded) request.end()
      })
    },
    waitForAck(predicate, timeoutMs = 10_000) {
      const found = acks.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching ack within ${timeoutMs} ms; got ${JSON.stringify(acks)}`))
        }, timeoutMs)
        const waiter = {
          predicate,
          resolve: (ack: Ack) => {
            clearTimeout(timer)
            resolve(ack)
          },
        }
        waiters.add(waiter)
      })
    },
    abort() {
      request.destroy()
      agent.destroy()
    },
  }
}

/** Sends a whole body in chunks of `chunkSize` bytes, ends it, and waits for the end of the response. */
export async function putMedia(
  emulator: Endpoint,
  body: Uint8Array,
  options: PutMediaOptions & { chunkSize?: number } = {},
): Promise<PutMediaResult> {
  const upload = await openPutMedia(emulator, options)
  const chunkSize = options.chunkSize ?? 4096
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    await upload.write(body.subarray(offset, offset + chunkSize))
  }
  upload.end()
  return upload.result
}

/** The acks of one fragment number, by event type, in arrival order. */
export function acksByFragment(acks: readonly Ack[]): Map<string, string[]> {
  const byFragment = new Map<string, string[]>()
  for (const ack of acks) {
    if (ack.fragmentNumber === undefined) continue
    let types = byFragment.get(ack.fragmentNumber)
    if (types === undefined) byFragment.set(ack.fragmentNumber, (types = []))
    types.push(ack.eventType)
  }
  return byFragment
}
