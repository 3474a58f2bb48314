import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import {
  callJson,
  createStream,
  type HttpResult,
  putMedia,
  send,
  signerFor,
  testEmulator,
} from './support/client.ts'
import { videoStream } from './support/mkv.ts'

/** The emulator still answers a normal signed request after a hostile one. */
async function expectStillServing(emulator: Emulator): Promise<void> {
  const listed = await callJson(emulator, '/listStreams', {})
  expect(listed.status).toBe(200)
  expect(listed.json).toHaveProperty('StreamInfoList')
}

function expectAwsError(result: HttpResult, status: number, errorType: string): void {
  expect(result.status).toBe(status)
  expect(result.headers['x-amzn-errortype']).toMatch(new RegExp(`^${errorType}:https?://`))
  expect(result.headers['x-amzn-requestid']).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  )
  expect(result.headers['content-type']).toBe('application/json')
  const message = result.json?.Message ?? result.json?.message
  expect(message).toEqual(expect.any(String))
}

/** Writes raw bytes on a fresh socket and reads everything until the server closes it. */
function rawExchange(emulator: Emulator, bytes: string | Uint8Array, stallMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1')
    const parts: Buffer[] = []
    socket.on('data', (chunk) => parts.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(parts).toString('latin1')))
    socket.write(bytes)
    if (stallMs > 0) setTimeout(() => socket.destroy(), stallMs)
  })
}

function headerOf(response: string, name: string): string | undefined {
  const match = new RegExp(`^${name}: (.*)$`, 'im').exec(response)
  return match?.[1]?.trim()
}

describe('signature checks', () => {
  it('refuses a signature made with the wrong secret key (403 InvalidSignatureException)', async () => {
    const emulator = await testEmulator()
    const result = await callJson(
      emulator,
      '/listStreams',
      {},
      { signer: signerFor(emulator, { secretAccessKey: 'nope' }) },
    )
    expectAwsError(result, 403, 'InvalidSignatureException')
    expect(result.json?.message).toMatch(/^The request signature we calculated does not match/)
    await expectStillServing(emulator)
  })

  it('refuses an unknown access key (403 UnrecognizedClientException)', async () => {
    const emulator = await testEmulator()
    const result = await callJson(
      emulator,
      '/listStreams',
      {},
      { signer: signerFor(emulator, { accessKeyId: 'AKIDUNKNOWN' }) },
    )
    expectAwsError(result, 403, 'UnrecognizedClientException')
    await expectStillServing(emulator)
  })

  it('refuses a credential scope for another region', async () => {
    const emulator = await testEmulator()
    const result = await callJson(
      emulator,
      '/listStreams',
      {},
      { signer: signerFor(emulator, { region: 'eu-west-1' }) },
    )
    expectAwsError(result, 403, 'InvalidSignatureException')
    expect(result.json?.message).toContain('eu-west-1')
    await expectStillServing(emulator)
  })

  it('refuses a request signed 20 minutes ago, as KVS does (403 "Signature expired")', async () => {
    const emulator = await testEmulator()
    const signer = signerFor(emulator, { clock: () => Date.now() - 20 * 60_000 })
    const result = await callJson(emulator, '/listStreams', {}, { signer })
    expectAwsError(result, 403, 'InvalidSignatureException')
    expect(result.json?.message).toMatch(/^Signature expired: /)
    await expectStillServing(emulator)
  })

  it('refuses an unsigned request and a body that does not match its signature', async () => {
    const emulator = await testEmulator()
    const unsigned = await send(emulator.url, {
      path: '/listStreams',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expectAwsError(unsigned, 403, 'MissingAuthenticationToken')
    const signed = await signerFor(emulator).signJson({
      url: `${emulator.url}/createStream`,
      body: '{"StreamName":"a"}',
    })
    const tampered = await send(emulator.url, {
      path: '/createStream',
      headers: signed.headers,
      body: '{"StreamName":"b"}',
    })
    expectAwsError(tampered, 403, 'InvalidSignatureException')
    expect(emulator.storage.listStreams()).toEqual([])
    await expectStillServing(emulator)
  })

  it('refuses a PutMedia with a bad signature before answering 200', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'guarded')
    const result = await putMedia(emulator, videoStream(1), {
      streamName: 'guarded',
      signer: signerFor(emulator, { secretAccessKey: 'nope' }),
    })
    expect(result.status).toBe(403)
    expect(result.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/)
    expect(emulator.storage.listFragments('guarded')).toEqual([])
    await expectStillServing(emulator)
  })

  it('accepts anything with verifySignatures: false', async () => {
    const emulator = await testEmulator({ verifySignatures: false })
    const result = await send(emulator.url, { path: '/createStream', body: '{"StreamName":"open"}' })
    expect(result.status).toBe(200)
    expect(result.json?.StreamARN).toMatch(/stream\/open\//)
  })
})

describe('malformed and oversized requests', () => {
  it('answers malformed JSON with 400 SerializationException', async () => {
    const emulator = await testEmulator()
    const result = await callJson(emulator, '/createStream', undefined, { rawBody: '{"StreamName": "x",' })
    expectAwsError(result, 400, 'SerializationException')
    const notObject = await callJson(emulator, '/createStream', undefined, { rawBody: '["StreamName"]' })
    expectAwsError(notObject, 400, 'SerializationException')
    const wrongType = await callJson(emulator, '/createStream', { StreamName: 42 })
    expectAwsError(wrongType, 400, 'SerializationException')
    await expectStillServing(emulator)
  })

  it.each(['..', 'a/b', '../../etc/passwd', 'x'.repeat(257), '', 'name with spaces', 'näme'])(
    'refuses the stream name %j with 400 InvalidArgumentException',
    async (name) => {
      const emulator = await testEmulator()
      const result = await callJson(emulator, '/createStream', { StreamName: name })
      if (name === '..') {
        // '..' matches the service's pattern [a-zA-Z0-9_.-]+: accepted, and stored under a hashed directory name.
        expect(result.status).toBe(200)
        return
      }
      expectAwsError(result, 400, 'InvalidArgumentException')
      expect(emulator.storage.listStreams()).toEqual([])
      await expectStillServing(emulator)
    },
  )

  it('answers an unknown operation or method with 404 UnknownOperationException', async () => {
    const emulator = await testEmulator()
    expectAwsError(await callJson(emulator, '/deleteEverything', {}), 404, 'UnknownOperationException')
    expectAwsError(
      await send(emulator.url, { method: 'GET', path: '/listStreams' }),
      404,
      'UnknownOperationException',
    )
    await expectStillServing(emulator)
  })

  it('answers a JSON body over the limit with 413 without reading it all', async () => {
    const emulator = await testEmulator({ maxJsonBodyBytes: 1024 })
    const big = JSON.stringify({ StreamName: 'big', Tags: { pad: 'x'.repeat(200) }, Pad: 'y'.repeat(4000) })
    const result = await callJson(emulator, '/createStream', undefined, { rawBody: big })
    expectAwsError(result, 413, 'RequestEntityTooLargeException')
    // Chunked, without a Content-Length: cut off while streaming.
    const response = await rawExchange(
      emulator,
      `POST /createStream HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${(4000).toString(16)}\r\n${'z'.repeat(4000)}\r\n`,
    )
    expect(response).toMatch(/^HTTP\/1\.1 413 /)
    expect(headerOf(response, 'x-amzn-ErrorType')).toMatch(/^RequestEntityTooLargeException:/)
    await expectStillServing(emulator)
  })

  it('answers oversized headers with an AWS-shaped 431', async () => {
    const emulator = await testEmulator()
    const response = await rawExchange(
      emulator,
      `POST /listStreams HTTP/1.1\r\nhost: x\r\nx-padding: ${'p'.repeat(32 * 1024)}\r\n\r\n`,
    )
    expect(response).toMatch(/^HTTP\/1\.1 431 /)
    expect(headerOf(response, 'x-amzn-ErrorType')).toMatch(/^RequestHeaderFieldsTooLargeException:/)
    expect(headerOf(response, 'x-amzn-RequestId')).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toHaveProperty('Message')
    await expectStillServing(emulator)
  })

  it('answers a request that is not HTTP with an AWS-shaped 400', async () => {
    const emulator = await testEmulator()
    const response = await rawExchange(emulator, 'HELLO THERE\r\n\r\n')
    expect(response).toMatch(/^HTTP\/1\.1 400 /)
    expect(headerOf(response, 'x-amzn-ErrorType')).toMatch(/^SerializationException:/)
    await expectStillServing(emulator)
  })

  it('times out a client that stalls in the middle of a JSON body (408)', async () => {
    const emulator = await testEmulator({ bodyTimeoutMs: 200, verifySignatures: false })
    const response = await rawExchange(
      emulator,
      'POST /createStream HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"Stream',
    )
    expect(response).toMatch(/^HTTP\/1\.1 408 /)
    expect(headerOf(response, 'x-amzn-ErrorType')).toMatch(/^RequestTimeoutException:/)
    await expectStillServing(emulator)
  })

  it('answers a PutMedia body of garbage with ERROR 4006 and keeps serving', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'garbage')
    const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) % 251)
    const result = await putMedia(emulator, garbage, { streamName: 'garbage' })
    expect(result.acks).toMatchObject([{ eventType: 'ERROR', errorId: 4006, errorCode: 'INVALID_MKV_DATA' }])
    const good = await putMedia(emulator, videoStream(1), { streamName: 'garbage' })
    expect(good.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    await expectStillServing(emulator)
  })
})
