import { connect, createServer, type Socket } from 'node:net'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'
import { Agent, type Dispatcher } from 'undici'
import { afterAll, describe, expect, onTestFinished, test } from 'vitest'
import { createProducer } from '../src/index.ts'
import { FAULT_BUDGET } from './support/faults.ts'
import { feed } from './support/feed.ts'
import { makeSource } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { ofType, record, testEmulator } from './support/run.ts'
import { createStream } from './support/services.ts'
import { expectExactlyOnce } from './support/verify.ts'

let injected = 0

afterAll(() => {
  console.log(`faults injected (credentials): ${injected}`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.credentials)
})

interface PutMediaRequest {
  accessKeyId: string
  startedAt: number
  endedAt: number | undefined
}

/** An undici agent that notes, for every PutMedia request, the key it was signed with and when it ended. */
function recordingAgent(requests: PutMediaRequest[]): Dispatcher {
  return new Agent().compose((dispatch) => (options, handler) => {
    if (!String(options.path).endsWith('/putMedia')) return dispatch(options, handler)
    const headers = options.headers as Record<string, string>
    const accessKeyId = /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1] ?? '?'
    const request: PutMediaRequest = { accessKeyId, startedAt: Date.now(), endedAt: undefined }
    requests.push(request)
    const ended = () => {
      request.endedAt ??= Date.now()
    }
    return dispatch(options, {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onResponseStart: (controller, status, responseHeaders, message) =>
        handler.onResponseStart?.(controller, status, responseHeaders, message),
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => {
        ended()
        handler.onResponseEnd?.(controller, trailers)
      },
      onResponseError: (controller, error) => {
        ended()
        handler.onResponseError?.(controller, error)
      },
    })
  })
}

describe('credentials that expire mid-stream', () => {
  test('sessions are replaced before their credentials expire, each signed afresh, without losing or repeating a fragment', async () => {
    const keys = Array.from({ length: 400 }, (_, index) => ({
      accessKeyId: `AKIDROTATING${index}`,
      secretAccessKey: `secret-${index}`,
    }))
    const emulator = await testEmulator({ credentials: keys })
    // Short-lived credentials, as STS hands out (but 600 ms instead of an hour): a new key pair on every call.
    const lifetimeMs = 600
    const expirations = new Map<string, number>()
    let issued = 0
    const provider = async () => {
      const pair = keys[issued++]
      if (pair === undefined) throw new Error('out of test key pairs')
      const expiration = Date.now() + lifetimeMs
      expirations.set(pair.accessKeyId, expiration)
      return { ...pair, expiration: new Date(expiration) }
    }
    await createStream(emulator.url, emulator.region, 'expiring', 1, keys[keys.length - 1])
    const requests: PutMediaRequest[] = []
    const reader = keys[keys.length - 2]!
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
      streamName: 'expiring',
      region: emulator.region,
      credentials: provider,
      endpoint: emulator.url,
      dispatcher: recordingAgent(requests),
      ackStalenessMs: 500,
      retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 20 },
      statsIntervalMs: 0,
    })
    const events = record(producer)
    const media = makeSource({ fragments: 150, seed: 41 })
    await feed(producer.writable, media, { paceMs: 30 })
    const stats = await producer.close()

    const rotations = ofType(events, 'state').filter(
      (event) => event.state === 'connecting' && event.reason === 'credentials',
    )
    injected += rotations.length
    expect(rotations.length).toBeGreaterThanOrEqual(FAULT_BUDGET.credentials)
    expect(stats.reconnects).toBe(0)
    expect(stats.fragments.resent).toBe(0)
    // Every PutMedia connection was signed with its own key pair and closed before that pair expired.
    expect(requests.length).toBe(stats.sessions)
    expect(new Set(requests.map((request) => request.accessKeyId)).size).toBe(requests.length)
    for (const request of requests) {
      expect(request.endedAt).toBeDefined()
      expect(request.endedAt!).toBeLessThanOrEqual(expirations.get(request.accessKeyId)!)
    }
    expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'expiring', reader), media)
  }, 30_000)
})

/**
 * A TCP proxy in front of `target` that answers its first connection with a complete `403 ExpiredTokenException`
 * (as the service does when the signing credentials expired) and relays every later one.
 */
async function expiredTokenProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  let connections = 0
  const body = JSON.stringify({ message: 'The security token included in the request is expired' })
  const server = createServer((client) => {
    sockets.add(client)
    client.on('error', () => {})
    if (connections++ === 0) {
      client.once('data', () =>
        client.end(
          'HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ExpiredTokenException\r\n' +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      )
      return
    }
    const upstream = connect(Number(port), hostname)
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

describe('an ExpiredTokenException answer', () => {
  test('the next session is signed with credentials the provider gives anew (forceRefresh); nothing lost or repeated', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'expired-token')
    const proxy = await expiredTokenProxy(emulator.url)
    onTestFinished(() => proxy.close())
    // Credentials without expiration: without refreshCredentials() the signer would never ask again.
    const asked: unknown[] = []
    const provider = async (properties?: unknown) => {
      asked.push(properties)
      return { ...DEFAULT_CREDENTIALS }
    }
    const producer = createProducer({
      fragmentTimecodeType: 'ABSOLUTE',
      streamName: 'expired-token',
      region: emulator.region,
      credentials: provider,
      endpoint: emulator.url,
      dataEndpoint: proxy.url,
      retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 5 },
      statsIntervalMs: 0,
    })
    const events = record(producer)
    const media = makeSource({ fragments: 5, seed: 17 })
    await feed(producer.writable, media)
    const stats = await producer.close()
    const reconnecting = ofType(events, 'state').filter((event) => event.state === 'reconnecting')
    expect(reconnecting).toHaveLength(1)
    expect((reconnecting[0]!.cause as { errorType?: string }).errorType).toBe('ExpiredTokenException')
    expect(stats.reconnects).toBe(1)
    const forced = asked.filter(
      (properties) => (properties as { forceRefresh?: boolean } | undefined)?.forceRefresh === true,
    )
    expect(forced).toHaveLength(1)
    expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'expired-token'), media)
  }, 30_000)
})
