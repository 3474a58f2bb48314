import { Agent, type Dispatcher } from 'undici'
import { afterAll, describe, expect, test } from 'vitest'
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
