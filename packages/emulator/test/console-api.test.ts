import { readFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.ts'
import { putBody } from './support/archived-media.ts'
import { createStream } from './support/client.ts'

// A real KVS capture: 8 fragments of H.264.
const CLUSTERS = fileURLToPath(new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url))

let emulator: Emulator
let off: Emulator
let putStarted = 0
let putEnded = 0

async function get(base: string, path: string, method = 'GET') {
  const response = await fetch(`${base}${path}`, { method })
  const text = await response.text()
  let json: Record<string, unknown> | undefined
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = undefined
  }
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-ErrorType')?.split(':')[0],
    type: response.headers.get('content-type'),
    text,
    json,
  }
}

/** A request with its path sent verbatim (fetch would normalise `..`). */
function rawGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${emulator.url}${path}`, { method: 'GET' }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.path = path
    request.on('error', reject)
    request.end()
  })
}

beforeAll(async () => {
  emulator = await startEmulator({ console: true })
  off = await startEmulator()
  await createStream(emulator, 'camera')
  await createStream(emulator, 'empty')
  putStarted = Date.now()
  await putBody(emulator, 'camera', new Uint8Array(await readFile(CLUSTERS)), Date.now() - 60_000)
  putEnded = Date.now()
  // SERVER_TIMESTAMP ranges must end in the past.
  await new Promise((resolve) => setTimeout(resolve, 20))
})

afterAll(async () => {
  await emulator?.close()
  await off?.close()
})

describe('the console is off unless asked for', () => {
  it('an embedded emulator answers / and the console API as before: 404 UnknownOperationException', async () => {
    expect(off.consoleUrl).toBeUndefined()
    for (const path of ['/', '/console/api/streams', '/console/hls.js']) {
      const answer = await get(off.url, path)
      expect(answer.status, path).toBe(404)
      expect(answer.errorType, path).toBe('UnknownOperationException')
    }
  })
})

describe('the console page and its files', () => {
  it('serves the page at /, its script, style and the installed hls.js', async () => {
    expect(emulator.consoleUrl).toBe(`${emulator.url}/`)
    const page = await get(emulator.url, '/')
    expect(page.status).toBe(200)
    expect(page.type).toBe('text/html; charset=utf-8')
    expect(page.text).toContain('<script src="/console/hls.js"></script>')
    const script = await get(emulator.url, '/console/console.js')
    expect(script.type).toBe('text/javascript; charset=utf-8')
    expect(script.text).toContain('/console/api/')
    expect((await get(emulator.url, '/console/console.css')).status).toBe(200)
    const hls = await get(emulator.url, '/console/hls.js')
    expect(hls.status).toBe(200)
    expect(hls.text.length).toBeGreaterThan(100_000)
    expect(hls.text).toContain('MANIFEST_PARSED')
  })

  it('serves nothing else: other paths, other methods and path tricks are 404 UnknownOperationException', async () => {
    for (const path of ['/index.html', '/console/', '/console/api/nothing', '/console/package.json']) {
      const answer = await get(emulator.url, path)
      expect(answer.status, path).toBe(404)
      expect(answer.errorType, path).toBe('UnknownOperationException')
    }
    expect((await get(emulator.url, '/console/api/streams', 'POST')).status).toBe(404)
    expect(await rawGet('/console/../package.json')).toBe(404)
    expect(await rawGet('/console/%2e%2e/%2e%2e/package.json')).toBe(404)
  })
})

describe('the console API', () => {
  it('lists the streams with their fragment counts', async () => {
    const { status, json } = await get(emulator.url, '/console/api/streams')
    expect(status).toBe(200)
    const streams = json!.streams as Array<Record<string, unknown>>
    expect(streams.map((stream) => [stream.name, stream.fragments, stream.status])).toEqual([
      ['camera', 8, 'ACTIVE'],
      ['empty', 0, 'ACTIVE'],
    ])
    expect(streams[0]!.putting).toBe(false)
  })

  it("lists a stream's fragments, newest last, optionally within a server-time range", async () => {
    const all = await get(emulator.url, '/console/api/fragments?stream=camera')
    expect(all.status).toBe(200)
    const fragments = all.json!.fragments as Array<Record<string, number & string>>
    expect(fragments).toHaveLength(8)
    expect(all.json!.total).toBe(8)
    for (const fragment of fragments) {
      expect(fragment.fragmentNumber).toMatch(/^\d+$/)
      expect(fragment.serverTimestampMs).toBeGreaterThanOrEqual(putStarted)
      expect(fragment.durationMs).toBeGreaterThan(900)
    }
    const numbers = fragments.map((fragment) => BigInt(String(fragment.fragmentNumber)))
    expect([...numbers].sort((a, b) => (a < b ? -1 : 1))).toEqual(numbers)
    // The range is by server time, start inclusive: fragments put within one millisecond share a timestamp,
    // so the expected ones are those at or after the sixth's, which are at least the last three.
    const timeOf = (fragment: Record<string, number & string>): number => Number(fragment.serverTimestampMs)
    const start = timeOf(fragments[5]!)
    const later = await get(
      emulator.url,
      `/console/api/fragments?stream=camera&start=${start}&end=${Date.now()}`,
    )
    const expected = fragments.filter((fragment) => timeOf(fragment) >= start)
    expect(expected.length).toBeGreaterThanOrEqual(3)
    expect(
      (later.json!.fragments as Array<Record<string, string>>).map((fragment) => fragment.fragmentNumber),
    ).toEqual(expected.map((fragment) => fragment.fragmentNumber))
    const afterAll = await get(
      emulator.url,
      `/console/api/fragments?stream=camera&start=${timeOf(fragments[7]!) + 1}&end=${Date.now() + 1000}`,
    )
    expect(afterAll.json!.fragments).toEqual([])
    expect((await get(emulator.url, '/console/api/fragments?stream=empty')).json!.fragments).toEqual([])
  })

  it("answers a stream's recent acks: BUFFERING, RECEIVED and PERSISTED for each fragment", async () => {
    const { json } = await get(emulator.url, '/console/api/acks?stream=camera')
    const acks = json!.acks as Array<{ eventType: string; timeMs: number; fragmentNumber?: string }>
    expect(acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(8)
    expect(acks.filter((ack) => ack.eventType === 'BUFFERING')).toHaveLength(8)
    for (const ack of acks) {
      expect(ack.timeMs).toBeGreaterThanOrEqual(putStarted)
      expect(ack.timeMs).toBeLessThanOrEqual(putEnded)
    }
    expect((await get(emulator.url, '/console/api/acks?stream=empty')).json!.acks).toEqual([])
  })

  it('records ERROR acks too', async () => {
    await createStream(emulator, 'broken')
    // Not Matroska: the emulator ends the upload with an ERROR ack.
    await putBody(emulator, 'broken', new Uint8Array(4096).fill(0x41), Date.now()).catch(() => {})
    const { json } = await get(emulator.url, '/console/api/acks?stream=broken')
    const acks = json!.acks as Array<{ eventType: string; errorId?: number; errorCode?: string }>
    const error = acks.find((ack) => ack.eventType === 'ERROR')
    expect(error?.errorId).toBeTypeOf('number')
    expect(error?.errorCode).toMatch(/^[A-Z_]+$/)
  })

  it('makes HLS session URLs, LIVE and ON_DEMAND, whose master playlists play', async () => {
    const fragments = (await get(emulator.url, '/console/api/fragments?stream=camera')).json!
      .fragments as Array<{ serverTimestampMs: number }>
    const start = fragments[0]!.serverTimestampMs
    const demand = await get(
      emulator.url,
      `/console/api/hls?stream=camera&mode=ON_DEMAND&start=${start - 1}&end=${Date.now() - 1}`,
    )
    expect(demand.status).toBe(200)
    const url = demand.json!.url as string
    expect(url.startsWith(`${emulator.url}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=`)).toBe(true)
    const master = await fetch(url)
    expect(master.status).toBe(200)
    expect(await master.text()).toContain('#EXT-X-STREAM-INF')
    // LIVE needs a fragment ingested in the last 30 s: camera's were just put.
    const live = await get(emulator.url, '/console/api/hls?stream=camera')
    expect(live.status).toBe(200)
    expect(live.json!.url).toMatch(/getHLSMasterPlaylist\.m3u8\?SessionToken=/)
  })

  it('refuses hostile input with AWS-shaped errors: unknown streams, bad ranges, bad modes', async () => {
    const now = Date.now()
    const cases: Array<[string, number, string]> = [
      ['/console/api/fragments', 400, 'InvalidArgumentException'],
      ['/console/api/fragments?stream=', 400, 'InvalidArgumentException'],
      ['/console/api/fragments?stream=nope', 404, 'ResourceNotFoundException'],
      [`/console/api/fragments?stream=${'x'.repeat(300)}`, 400, 'InvalidArgumentException'],
      ['/console/api/acks?stream=nope', 404, 'ResourceNotFoundException'],
      ['/console/api/hls?stream=nope', 404, 'ResourceNotFoundException'],
      ['/console/api/fragments?stream=camera&start=abc', 400, 'InvalidArgumentException'],
      ['/console/api/fragments?stream=camera&start=-5', 400, 'InvalidArgumentException'],
      ['/console/api/fragments?stream=camera&start=1e12', 400, 'InvalidArgumentException'],
      ['/console/api/fragments?stream=camera&start=99999999999999999999', 400, 'InvalidArgumentException'],
      [`/console/api/fragments?stream=camera&start=${now}&end=${now}`, 400, 'InvalidArgumentException'],
      [
        `/console/api/fragments?stream=camera&start=${now}&end=${now - 1000}`,
        400,
        'InvalidArgumentException',
      ],
      [
        `/console/api/fragments?stream=camera&start=${now - 25 * 3600_000}&end=${now}`,
        400,
        'InvalidArgumentException',
      ],
      ['/console/api/hls?stream=camera&mode=LIVE_REPLAY', 400, 'InvalidArgumentException'],
      ['/console/api/hls?stream=camera&mode=', 400, 'InvalidArgumentException'],
      [`/console/api/hls?stream=camera&mode=LIVE&start=${now - 1000}`, 400, 'InvalidArgumentException'],
      ['/console/api/hls?stream=camera&mode=ON_DEMAND', 400, 'InvalidArgumentException'],
      [`/console/api/hls?stream=camera&mode=ON_DEMAND&start=${now - 1000}`, 400, 'InvalidArgumentException'],
      // The service's own checks: a range ending in the future, a range without fragments, no live fragments.
      [
        `/console/api/hls?stream=camera&mode=ON_DEMAND&start=${now - 1000}&end=${now + 60_000}`,
        400,
        'InvalidArgumentException',
      ],
      [
        `/console/api/hls?stream=camera&mode=ON_DEMAND&start=${now - 7200_000}&end=${now - 3600_000}`,
        404,
        'ResourceNotFoundException',
      ],
      ['/console/api/hls?stream=empty', 404, 'ResourceNotFoundException'],
    ]
    for (const [path, status, errorType] of cases) {
      const answer = await get(emulator.url, path)
      expect([answer.status, answer.errorType], path).toEqual([status, errorType])
      expect(answer.type, path).toBe('application/json')
      expect(typeof answer.json?.Message, path).toBe('string')
    }
  })
})
