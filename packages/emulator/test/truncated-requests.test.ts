import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { callJson, createStream, putMedia, signerFor, testEmulator } from './support/client.ts'
import { mkvCluster, mkvHeader, videoCluster, videoStream } from './support/mkv.ts'
import { httpChunk, httpHead, openRaw, rawAcks } from './support/raw-socket.ts'

/** The emulator still answers a normal signed request. */
async function expectStillServing(emulator: Emulator): Promise<void> {
  const listed = await callJson(emulator, '/listStreams', {})
  expect(listed.status).toBe(200)
}

/** Bodies of the JSON routes, complete. */
const jsonRequests: [operation: string, path: string, body: string][] = [
  ['CreateStream', '/createStream', '{"StreamName":"cut-stream","DataRetentionInHours":1}'],
  ['ListFragments', '/listFragments', '{"StreamName":"stored","MaxResults":10}'],
  ['GetMedia', '/getMedia', '{"StreamName":"stored","StartSelector":{"StartSelectorType":"EARLIEST"}}'],
  [
    'GetMediaForFragmentList',
    '/getMediaForFragmentList',
    '{"StreamName":"stored","Fragments":["91343852333181432392682062607743920146264772578"]}',
  ],
]

/** An emulator with a stream `stored` holding two fragments, so every read route has something to answer. */
async function emulatorWithFragments(): Promise<Emulator> {
  const emulator = await testEmulator()
  await createStream(emulator, 'stored')
  const put = await putMedia(emulator, videoStream(2), { streamName: 'stored' })
  expect(put.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
  return emulator
}

describe('requests cut by the network', () => {
  describe.each(jsonRequests)('%s', (_operation, path, body) => {
    it('closes the connection without answering when the peer half-closes inside a Content-Length body', async () => {
      const emulator = await emulatorWithFragments()
      const raw = openRaw(emulator.port)
      await raw.write(
        httpHead(path, {
          host: '127.0.0.1',
          'content-type': 'application/json',
          'content-length': String(body.length),
        }) + body.slice(0, 20),
      )
      raw.socket.end()
      expect(await raw.closed).toBe('')
      expect(emulator.storage.getStream('cut-stream')).toBeUndefined()
      await expectStillServing(emulator)
    })

    it('closes the connection without answering when the peer half-closes inside a chunk', async () => {
      const emulator = await emulatorWithFragments()
      const raw = openRaw(emulator.port)
      await raw.write(
        `${httpHead(path, { host: '127.0.0.1', 'content-type': 'application/json', 'transfer-encoding': 'chunked' })}${body.length.toString(16)}\r\n${body.slice(0, 20)}`,
      )
      raw.socket.end()
      expect(await raw.closed).toBe('')
      expect(emulator.storage.getStream('cut-stream')).toBeUndefined()
      await expectStillServing(emulator)
    })

    it('closes the connection without answering when the peer half-closes after a whole chunk, before the last one', async () => {
      const emulator = await emulatorWithFragments()
      const raw = openRaw(emulator.port)
      await raw.write(
        `${httpHead(path, { host: '127.0.0.1', 'content-type': 'application/json', 'transfer-encoding': 'chunked' })}${body.length.toString(16)}\r\n${body}\r\n`,
      )
      raw.socket.end()
      expect(await raw.closed).toBe('')
      expect(emulator.storage.getStream('cut-stream')).toBeUndefined()
      await expectStillServing(emulator)
    })

    it('survives a reset inside the body and keeps serving', async () => {
      const emulator = await emulatorWithFragments()
      const raw = openRaw(emulator.port)
      await raw.write(
        httpHead(path, {
          host: '127.0.0.1',
          'content-type': 'application/json',
          'content-length': String(body.length),
        }) + body.slice(0, 20),
      )
      raw.socket.resetAndDestroy()
      await raw.closed
      await expectStillServing(emulator)
      expect(emulator.storage.getStream('cut-stream')).toBeUndefined()
    })
  })

  it('closes a connection whose request head is cut by a half-close without answering', async () => {
    const emulator = await testEmulator()
    const raw = openRaw(emulator.port)
    await raw.write('POST /listStreams HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-le')
    raw.socket.end()
    expect(await raw.closed).toBe('')
    await expectStillServing(emulator)
  })

  describe('PutMedia', () => {
    const header = mkvHeader()
    const first = mkvCluster(videoCluster(0))
    const second = mkvCluster(videoCluster(1000))

    /** Opens a chunked PutMedia on a raw socket, sends the header and both clusters, and waits for the second BUFFERING. */
    async function openCutPutMedia(emulator: Emulator, lastChunk: Uint8Array) {
      await createStream(emulator, 'cut')
      const signed = await signerFor(emulator).signPutMedia({
        url: `${emulator.url}/putMedia`,
        headers: { 'x-amzn-stream-name': 'cut', 'x-amzn-fragment-timecode-type': 'ABSOLUTE' },
      })
      const raw = openRaw(emulator.port)
      await raw.write(httpHead('/putMedia', { ...signed.headers, 'transfer-encoding': 'chunked' }))
      await raw.write(Buffer.concat([httpChunk(header), httpChunk(first), lastChunk]))
      await raw.waitFor((text) => text.split('"BUFFERING"').length === 3)
      return raw
    }

    async function storedTimecodes(emulator: Emulator): Promise<number[]> {
      // close() waits for the stores in flight.
      await emulator.close()
      return emulator.storage.listFragments('cut').map((fragment) => fragment.fragmentTimecode)
    }

    it('stores the last fragment when the body ends with its terminating chunk (the control case)', async () => {
      const emulator = await testEmulator()
      const raw = await openCutPutMedia(emulator, httpChunk(second))
      await raw.write('0\r\n\r\n')
      raw.socket.end()
      const response = await raw.closed
      expect(response.endsWith('0\r\n\r\n')).toBe(true)
      expect(rawAcks(response).filter((ack) => ack.EventType === 'RECEIVED')).toHaveLength(2)
      expect(await storedTimecodes(emulator)).toEqual([0, 1000])
    })

    it('does not complete the last fragment when the peer half-closes after whole chunks, without the terminating chunk', async () => {
      const emulator = await testEmulator()
      const raw = await openCutPutMedia(emulator, httpChunk(second))
      raw.socket.end()
      const response = await raw.closed
      expect(response.endsWith('0\r\n\r\n')).toBe(false)
      expect(rawAcks(response).filter((ack) => ack.EventType === 'RECEIVED')).toMatchObject([
        { FragmentTimecode: 0 },
      ])
      expect(rawAcks(response).some((ack) => ack.EventType === 'ERROR')).toBe(false)
      await expectStillServing(emulator)
      expect(await storedTimecodes(emulator)).toEqual([0])
    })

    it('does not complete the last fragment when the peer half-closes inside a chunk', async () => {
      const emulator = await testEmulator()
      const chunk = httpChunk(second)
      const raw = await openCutPutMedia(emulator, chunk.subarray(0, chunk.length - 12))
      raw.socket.end()
      const response = await raw.closed
      expect(response.endsWith('0\r\n\r\n')).toBe(false)
      expect(rawAcks(response).filter((ack) => ack.EventType === 'RECEIVED')).toHaveLength(1)
      await expectStillServing(emulator)
      expect(await storedTimecodes(emulator)).toEqual([0])
    })

    it('does not complete the last fragment when the connection is reset', async () => {
      const emulator = await testEmulator()
      const raw = await openCutPutMedia(emulator, httpChunk(second))
      raw.socket.resetAndDestroy()
      await raw.closed
      await expectStillServing(emulator)
      expect(await storedTimecodes(emulator)).toEqual([0])
    })

    it('does not complete the last fragment of a Content-Length body cut by a half-close', async () => {
      const emulator = await testEmulator()
      await createStream(emulator, 'cut')
      const signed = await signerFor(emulator).signPutMedia({
        url: `${emulator.url}/putMedia`,
        headers: { 'x-amzn-stream-name': 'cut', 'x-amzn-fragment-timecode-type': 'ABSOLUTE' },
      })
      const body = Buffer.concat([header, first, second])
      const raw = openRaw(emulator.port)
      await raw.write(
        httpHead('/putMedia', { ...signed.headers, 'content-length': String(body.length + 100) }),
      )
      await raw.write(body)
      await raw.waitFor((text) => text.split('"BUFFERING"').length === 3)
      raw.socket.end()
      const response = await raw.closed
      expect(response).toMatch(/^HTTP\/1\.1 200 /)
      expect(response.endsWith('0\r\n\r\n')).toBe(false)
      await expectStillServing(emulator)
      expect(await storedTimecodes(emulator)).toEqual([0])
    })
  })
})
