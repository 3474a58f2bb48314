import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { callJson, createStream, openPutMedia, putMedia, signerFor, testEmulator } from './support/client.ts'
import { mkvCluster, mkvHeader, videoCluster, videoStream } from './support/mkv.ts'
import { httpHead, openRaw } from './support/raw-socket.ts'

/** Bytes a trickling client sends at most (one every 100 ms: 10 s), so a test with a stuck server ends. */
const MAX_TRICKLED = 100

interface TrickleOutcome {
  /** Bytes trickled before the connection closed. */
  trickled: number
  /** The server closed the connection (false: the client ran out of bytes and closed it). */
  closedByServer: boolean
  response: string
}

/** Sends `head`, then `body` one byte every 100 ms, until the server closes the connection or `MAX_TRICKLED`. */
function trickle(emulator: Emulator, head: string, body: Uint8Array | string): Promise<TrickleOutcome> {
  const raw = openRaw(emulator.port)
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body
  let trickled = 0
  let closedByServer = true
  if (head !== '') void raw.write(head).catch(() => {})
  const timer = setInterval(() => {
    if (trickled === MAX_TRICKLED || trickled === bytes.length) {
      closedByServer = false
      raw.socket.destroy()
      return
    }
    void raw.write(bytes.subarray(trickled, trickled + 1)).catch(() => {})
    trickled++
  }, 100)
  return raw.closed.then((response) => {
    clearInterval(timer)
    return { trickled, closedByServer, response }
  })
}

function jsonHead(path: string): string {
  return httpHead(path, { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': '1000' })
}

describe('slow clients', () => {
  it('closes every client trickling its head, a JSON body or a PutMedia body, and serves a normal client meanwhile', async () => {
    const emulator = await testEmulator({ headersTimeoutMs: 1000, bodyTimeoutMs: 1000, idleTimeoutMs: 1000 })
    await createStream(emulator, 'slow')
    await createStream(emulator, 'normal')
    const putMediaHead = httpHead('/putMedia', {
      ...(
        await signerFor(emulator).signPutMedia({
          url: `${emulator.url}/putMedia`,
          headers: { 'x-amzn-stream-name': 'slow', 'x-amzn-fragment-timecode-type': 'ABSOLUTE' },
        })
      ).headers,
      'content-length': '100000',
    })
    const jsonBody = `{"StreamName":"slow","Pad":"${'x'.repeat(900)}"}`
    const paths = ['/createStream', '/listFragments', '/getMedia', '/getMediaForFragmentList', '/listStreams']
    const heads = Array.from({ length: 7 }, () =>
      trickle(
        emulator,
        '',
        `POST /listStreams HTTP/1.1\r\nhost: 127.0.0.1\r\nx-pad: ${'p'.repeat(200)}\r\n\r\n`,
      ),
    )
    const bodies = Array.from({ length: 7 }, (_, index) =>
      trickle(emulator, jsonHead(paths[index % paths.length]!), jsonBody),
    )
    const uploads = Array.from({ length: 7 }, () => trickle(emulator, putMediaHead, videoStream(5)))

    const listed = await callJson(emulator, '/listStreams', {})
    expect(listed.status).toBe(200)
    const put = await putMedia(emulator, videoStream(3), { streamName: 'normal' })
    expect(put.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(3)

    for (const outcome of await Promise.all(heads)) {
      expect(outcome).toMatchObject({ closedByServer: true })
      expect(outcome.trickled).toBeLessThan(MAX_TRICKLED)
      expect(outcome.response).toMatch(/^HTTP\/1\.1 408 /)
      expect(outcome.response).toMatch(/x-amzn-ErrorType: RequestTimeoutException:/)
    }
    for (const outcome of await Promise.all(bodies)) {
      expect(outcome).toMatchObject({ closedByServer: true })
      expect(outcome.trickled).toBeLessThan(MAX_TRICKLED)
      expect(outcome.response).toMatch(/^HTTP\/1\.1 408 /)
      expect(outcome.response).toMatch(/x-amzn-errortype: RequestTimeoutException:/i)
    }
    for (const outcome of await Promise.all(uploads)) {
      expect(outcome).toMatchObject({ closedByServer: true })
      expect(outcome.trickled).toBeLessThan(MAX_TRICKLED)
      expect(outcome.response).toMatch(/^HTTP\/1\.1 200 /)
      expect(outcome.response.endsWith('0\r\n\r\n')).toBe(true)
    }
    expect(emulator.storage.listFragments('slow')).toEqual([])
    expect(emulator.storage.getStream('normal')).toBeDefined()
  })

  it('keeps a PutMedia open past idleTimeoutMs while it sends at least minBodyBytes per idleTimeoutMs', async () => {
    const emulator = await testEmulator({ idleTimeoutMs: 1000, minBodyBytes: 100 })
    await createStream(emulator, 'steady')
    const upload = await openPutMedia(emulator, { streamName: 'steady' })
    await upload.write(mkvHeader())
    // 30 fragments of ~200 bytes, one every 50 ms: 1.5 s, more than idleTimeoutMs.
    for (let index = 0; index < 30; index++) {
      await upload.write(mkvCluster(videoCluster(index * 1000)))
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    upload.end()
    const result = await upload.result
    expect(result.complete).toBe(true)
    expect(result.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(30)
    expect(emulator.storage.listFragments('steady')).toHaveLength(30)
  })
})
