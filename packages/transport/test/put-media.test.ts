import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Duplex, Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Ack, createAckDecoder, encodeAck } from '@kvs-streams/acks'
import { verifyRequest } from '@kvs-streams/signer'
import { Agent } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import {
  KvsAbortError,
  KvsConnectionError,
  KvsHttpError,
  KvsTimeoutError,
  type LegacyChunkerEventInput,
  type PutMediaInput,
  type PutMediaResponse,
  putMedia,
} from '../src/index.ts'
import { collect, credentials, startServer, type TestServer, testSigner, until } from './helpers.ts'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TestServer> {
  const server = await startServer(handler)
  servers.push(server)
  return server
}

/** Decodes an ack body. */
function decode(chunks: readonly Uint8Array[]): Ack[] {
  const decoder = createAckDecoder()
  const acks: Ack[] = []
  for (const chunk of chunks)
    for (const event of decoder.push(chunk)) if (event.type === 'ack') acks.push(event.ack)
  decoder.end()
  return acks
}

/**
 * A PutMedia stand-in: answers 200 at once (chunked), treats every `fragmentBytes` of body as one fragment and
 * acks BUFFERING/RECEIVED for it as soon as its bytes are in; records the body.
 */
async function ackingServer(fragmentBytes: number) {
  const state = {
    body: [] as Buffer[],
    received: 0,
    path: '',
    headers: {} as IncomingMessage['headers'],
    headersDistinct: {} as IncomingMessage['headersDistinct'],
  }
  const server = await serve((request, response) => {
    state.headers = request.headers
    state.headersDistinct = request.headersDistinct
    state.path = request.url ?? ''
    response.writeHead(200, { 'x-amzn-requestid': 'req-200' })
    response.flushHeaders()
    let fragment = 0
    let inFragment = 0
    request.on('data', (chunk: Buffer) => {
      state.body.push(chunk)
      state.received += chunk.length
      let rest = chunk.length
      while (rest > 0) {
        if (inFragment === 0)
          response.write(encodeAck({ eventType: 'BUFFERING', fragmentTimecode: fragment }))
        const take = Math.min(rest, fragmentBytes - inFragment)
        inFragment += take
        rest -= take
        if (inFragment === fragmentBytes) {
          response.write(
            encodeAck({
              eventType: 'RECEIVED',
              fragmentTimecode: fragment,
              fragmentNumber: String(fragment),
            }),
          )
          fragment++
          inFragment = 0
        }
      }
    })
    request.on('end', () => response.end())
  })
  return { server, state }
}

function bytes(length: number, seed: number): Uint8Array {
  const array = new Uint8Array(length)
  for (let index = 0; index < length; index++) array[index] = (index * 31 + seed) & 0xff
  return array
}

function writeAsync(stream: Duplex, chunk: unknown): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())))
}

describe('putMedia', () => {
  it('sends a signed, chunked POST /putMedia with the stream and timecode headers and returns the ack body', async () => {
    const { server, state } = await ackingServer(1000)
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 'my-stream',
      signer: testSigner(),
      fragmentTimecodeType: 'ABSOLUTE',
      producerStartTimestamp: 1677613818005,
    })
    const response = once(duplex, 'response') as Promise<[PutMediaResponse]>
    const acks = collect(duplex)
    duplex.end(bytes(3000, 1))
    const ackList = decode((await acks) as Buffer[])
    expect(ackList.map((ack) => `${ack.eventType}:${ack.fragmentTimecode}`)).toEqual([
      'BUFFERING:0',
      'RECEIVED:0',
      'BUFFERING:1',
      'RECEIVED:1',
      'BUFFERING:2',
      'RECEIVED:2',
    ])
    const [{ status, requestId }] = await response
    expect({ status, requestId }).toEqual({ status: 200, requestId: 'req-200' })
    expect(state.headers).toMatchObject({
      'transfer-encoding': 'chunked',
      'x-amzn-stream-name': 'my-stream',
      'x-amzn-fragment-timecode-type': 'ABSOLUTE',
      'x-amzn-producer-start-timestamp': '1677613818.005',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    })
    expect(state.headers['content-length']).toBeUndefined()
    expect(Buffer.concat(state.body)).toEqual(Buffer.from(bytes(3000, 1)))
    const verified = await verifyRequest(
      { method: 'POST', path: state.path, headers: state.headersDistinct },
      { lookupSecret: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined) },
    )
    expect(verified).toMatchObject({ ok: true, accessKeyId: credentials.accessKeyId })
  })

  it('sends the stream ARN header when given streamArn', async () => {
    const { server, state } = await ackingServer(1000)
    const arn = 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/my-stream/1234567890123'
    const duplex = putMedia({ endpoint: server.url, streamArn: arn, signer: testSigner() })
    const acks = collect(duplex)
    duplex.end(bytes(10, 0))
    await acks
    expect(state.headers['x-amzn-stream-arn']).toBe(arn)
    expect(state.headers['x-amzn-stream-name']).toBeUndefined()
  })

  it('sends an array of views as one write, in order, skipping empty views, without copying them', async () => {
    const { server, state } = await ackingServer(1 << 20)
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const acks = collect(duplex)
    const backing = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    const header: PutMediaInput = Uint8Array.of(10, 11)
    const fragment: PutMediaInput = [
      backing.subarray(2, 5),
      Uint8Array.of(),
      backing.subarray(7),
      backing.subarray(0, 1),
    ]
    await writeAsync(duplex, header)
    await writeAsync(duplex, fragment)
    await writeAsync(duplex, [])
    await writeAsync(duplex, [Uint8Array.of(12), Buffer.from([13, 14])])
    duplex.end()
    await acks
    expect([...Buffer.concat(state.body)]).toEqual([10, 11, 2, 3, 4, 7, 8, 9, 0, 12, 13, 14])
  })

  it('still takes the deprecated chunker events: a header event as its bytes, a fragment event as its parts in order, other events ignored', async () => {
    const { server, state } = await ackingServer(1 << 20)
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const acks = collect(duplex)
    const legacy: LegacyChunkerEventInput[] = [
      { type: 'header', bytes: Uint8Array.of(1, 2, 3) },
      { type: 'fragment-start' },
      { type: 'fragment', parts: [Uint8Array.of(4, 5), Uint8Array.of(), Uint8Array.of(6)] },
      { type: 'violation' },
    ]
    await pipeline(
      Readable.from([
        { type: 'header', bytes: Uint8Array.of(1, 2, 3), timecodeScale: 1_000_000, tracks: [] },
        { type: 'fragment-start', index: 0, offset: 3, timecode: 0 },
        { type: 'fragment', parts: [Uint8Array.of(4, 5), Uint8Array.of(), Uint8Array.of(6)], timecode: 0 },
        { type: 'violation', violation: {} },
        Uint8Array.of(7, 8),
        ...legacy,
      ]),
      duplex,
    ).catch(() => {})
    await acks
    expect([...Buffer.concat(state.body)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6])
  })

  it.each([
    ['a string', 'a string', '"a string"'],
    ['a number', 42, '42'],
    ['an array holding a number', [Uint8Array.of(1), 2], 'an array'],
    ['an array holding a string', ['bytes'], 'an array'],
    ['an object without a type', { bytes: Uint8Array.of(1) }, 'an object'],
    ['a header event without bytes', { type: 'header', bytes: [1, 2] }, 'an object'],
    [
      'a fragment event whose parts hold a number',
      { type: 'fragment', parts: [Uint8Array.of(1), 3] },
      'an object',
    ],
  ])('fails a write of %s with a TypeError, sending nothing', async (_name, chunk, described) => {
    const { server, state } = await ackingServer(1000)
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    duplex.resume()
    const error = once(duplex, 'error')
    duplex.write(chunk)
    const [caught] = await error
    expect(caught).toBeInstanceOf(TypeError)
    expect((caught as Error).message).toBe(
      `chunk must be a Uint8Array of MKV bytes or an array of Uint8Arrays, got ${described}`,
    )
    expect(state.received).toBe(0)
  })

  it('reads acks while the body is still uploading: each fragment waits for the ack of the one two before it', async () => {
    // If acks were only read after the body ended, the writer below would wait forever.
    const fragmentBytes = 256 * 1024
    const fragments = 40
    const { server, state } = await ackingServer(fragmentBytes)
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const received: number[] = []
    const decoder = createAckDecoder()
    let writerDone = false
    const ackedBeforeEnd: boolean[] = []
    duplex.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.type === 'ack' && event.ack.eventType === 'RECEIVED') {
          received.push(event.ack.fragmentTimecode!)
          ackedBeforeEnd.push(!writerDone)
        }
      }
    })
    const ended = once(duplex, 'end')
    for (let fragment = 0; fragment < fragments; fragment++) {
      if (fragment >= 2) await until(() => received.length >= fragment - 1)
      await writeAsync(duplex, bytes(fragmentBytes, fragment))
    }
    writerDone = true
    duplex.end()
    await ended
    expect(received).toEqual(Array.from({ length: fragments }, (_, index) => index))
    expect(ackedBeforeEnd.filter(Boolean).length).toBeGreaterThanOrEqual(fragments - 2)
    expect(state.received).toBe(fragmentBytes * fragments)
  })

  it('accepts a 200 that is not chunked (content-length response)', async () => {
    const server = await serve((request, response) => {
      request.resume()
      request.on('end', () => {
        const body = encodeAck({ eventType: 'PERSISTED', fragmentTimecode: 0, fragmentNumber: '1' })
        response.writeHead(200, { 'content-length': String(body.length) })
        response.end(body)
      })
    })
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const acks = collect(duplex)
    duplex.end(bytes(100, 0))
    expect(decode((await acks) as Buffer[]).map((ack) => ack.eventType)).toEqual(['PERSISTED'])
  })

  it('turns an HTTP error into a KvsHttpError named after the AWS exception, with status and requestId', async () => {
    const server = await serve((request, response) => {
      request.resume()
      response.writeHead(404, {
        'x-amzn-errortype': 'ResourceNotFoundException:https://kinesisvideo.amazonaws.com/doc/2017-09-30/',
        'x-amzn-requestid': 'req-404',
        'content-type': 'application/json',
      })
      response.end('{"Message":"The requested stream is not found or not active."}')
    })
    const duplex = putMedia({ endpoint: server.url, streamName: 'missing', signer: testSigner() })
    duplex.write(bytes(100, 0))
    const [error] = await once(duplex, 'error')
    expect(KvsHttpError.is(error)).toBe(true)
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      code: 'ERR_KVS_HTTP',
      status: 404,
      errorType: 'ResourceNotFoundException',
      requestId: 'req-404',
      message: 'The requested stream is not found or not active.',
    })
  })

  it('rejects pipeline() with the HTTP error when the service refuses the session', async () => {
    const server = await serve((request, response) => {
      request.resume()
      response.writeHead(403, { 'x-amzn-requestid': 'req-403' })
      response.end(
        '{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match"}',
      )
    })
    const result = pipeline(
      Readable.from([bytes(1000, 0), bytes(1000, 1)]),
      putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() }),
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    )
    await expect(result).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      status: 403,
      requestId: 'req-403',
      message: 'The request signature we calculated does not match',
    })
  })

  it('reports the HTTP error, not the write failure, when the service answers and resets the connection mid-upload (20 times)', async () => {
    // The answer comes before the body is read, then the connection is destroyed with body bytes unread: the
    // kernel sends an RST, so the client's next write fails with EPIPE/ECONNRESET while the answer is unread.
    const server = await serve((request, response) => {
      response.writeHead(404, {
        'x-amzn-errortype': 'ResourceNotFoundException:https://kinesisvideo.amazonaws.com/doc/2017-09-30/',
        'x-amzn-requestid': 'req-404',
        'content-type': 'application/json',
        connection: 'close',
      })
      response.end('{"Message":"The requested stream is not found or not active."}', () =>
        request.socket.destroy(),
      )
    })
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 96; index++) {
        yield bytes(64 * 1024, index)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    for (let iteration = 0; iteration < 20; iteration++) {
      const duplex = putMedia({ endpoint: server.url, streamName: 'missing', signer: testSigner() })
      duplex.resume()
      const error = await pipeline(slowBody, duplex).then(
        () => new Error('the upload succeeded'),
        (error: unknown) => error,
      )
      expect({ iteration, error }).toMatchObject({
        iteration,
        error: { name: 'ResourceNotFoundException', status: 404, requestId: 'req-404' },
      })
    }
  })

  it('reports the HTTP error, the connection failure as its cause, when the connection fails after the status line', async () => {
    const server = await serve((request, response) => {
      response.writeHead(403, { 'x-amzn-requestid': 'req-403', 'content-length': 500 })
      response.write('{"__type":"InvalidSignatureException","message":"The request', () =>
        request.socket.destroy(),
      )
    })
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    duplex.resume()
    duplex.write(bytes(1000, 0))
    const [error] = await once(duplex, 'error')
    expect(KvsHttpError.is(error)).toBe(true)
    expect(error).toMatchObject({
      status: 403,
      requestId: 'req-403',
      message: 'HTTP 403: {"__type":"InvalidSignatureException","message":"The request',
    })
    expect(KvsConnectionError.is((error as Error).cause)).toBe(true)
  })

  it('fails with ERR_KVS_CONNECT_TIMEOUT when the connection is not made in time', async () => {
    // A connector that never calls back: the socket never connects.
    const dispatcher = new Agent({ connect: () => {} })
    try {
      const duplex = putMedia({
        endpoint: 'http://127.0.0.1:9',
        streamName: 's',
        signer: testSigner(),
        dispatcher,
        connectTimeoutMs: 50,
      })
      duplex.write(bytes(10, 0))
      const [error] = await once(duplex, 'error')
      expect(KvsTimeoutError.is(error)).toBe(true)
      expect(error).toMatchObject({ code: 'ERR_KVS_CONNECT_TIMEOUT', timeoutMs: 50 })
    } finally {
      await dispatcher.destroy()
    }
  })

  it('fails with ERR_KVS_CONNECTION, the socket error as cause, when the connection is refused', async () => {
    const server = await serve(() => {})
    const url = server.url
    await server.close()
    servers.pop()
    const duplex = putMedia({ endpoint: url, streamName: 's', signer: testSigner() })
    duplex.write(bytes(10, 0))
    const [error] = await once(duplex, 'error')
    expect(KvsConnectionError.is(error)).toBe(true)
    expect((error as Error & { cause: { code: string } }).cause.code).toBe('ECONNREFUSED')
  })

  it('aborts with ERR_KVS_ACK_STALE when the service sends nothing after the headers while data is sent', async () => {
    const server = await serve((request, response) => {
      response.writeHead(200)
      response.flushHeaders()
      request.resume()
    })
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      ackStalenessMs: 100,
    })
    duplex.resume()
    // Keeps sending, as a live producer does, until the stream fails.
    const timer = setInterval(() => duplex.write(bytes(1000, 0)), 10)
    const [error] = await once(duplex, 'error').finally(() => clearInterval(timer))
    expect(error).toMatchObject({ name: 'KvsTimeoutError', code: 'ERR_KVS_ACK_STALE', timeoutMs: 100 })
    await until(() => server.sockets.size === 0)
  })

  it('aborts with ERR_KVS_ACK_STALE when the service stops reading the body and then answers once more', async () => {
    // The service answers (an ack for earlier data) while the client's socket is full and bytes still wait in
    // its queue; then it goes silent, reading nothing. Nothing is sent after that answer, so only the bytes
    // still queued can start the staleness clock.
    let answer!: () => void
    const server = await serve((_request, response) => {
      response.writeHead(200)
      response.flushHeaders()
      answer = () => response.write(encodeAck({ eventType: 'BUFFERING', fragmentTimecode: 0 }))
    })
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      ackStalenessMs: 1500,
      highWaterMark: 64 * 1024,
    })
    duplex.resume()
    let failedAt: number | undefined
    const failed = once(duplex, 'error').then(([error]) => {
      failedAt = performance.now()
      return error as Error
    })
    // Writes until a write's callback is held for 100 ms: the socket takes no more bytes.
    const sleep = (ms: number) => new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), ms))
    let outcome: 'taken' | 'held' = 'taken'
    while (outcome === 'taken') {
      const write = writeAsync(duplex, bytes(256 * 1024, 0)).then(
        () => 'taken' as const,
        () => 'held' as const,
      )
      outcome = await Promise.race([write, sleep(100)])
    }
    expect(failedAt).toBeUndefined()
    answer()
    const answeredAt = performance.now()
    const error = await Promise.race([failed, sleep(6000).then(() => new Error('no error within 6 s: hung'))])
    expect(error).toMatchObject({ name: 'KvsTimeoutError', code: 'ERR_KVS_ACK_STALE', timeoutMs: 1500 })
    expect(failedAt! - answeredAt).toBeGreaterThanOrEqual(1400)
  }, 15_000)

  it('does not count time without unanswered data as staleness', async () => {
    const { server } = await ackingServer(100)
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      ackStalenessMs: 50,
    })
    const acks = collect(duplex)
    await writeAsync(duplex, bytes(100, 0))
    await new Promise((resolve) => setTimeout(resolve, 200))
    duplex.end(bytes(100, 1))
    expect(decode((await acks) as Buffer[]).filter((ack) => ack.eventType === 'RECEIVED')).toHaveLength(2)
  })

  it('aborts through the signal mid-upload: KvsAbortError with the reason as cause, socket destroyed', async () => {
    let bodyBytes = 0
    const server = await serve((request) => {
      // Reads the body, never answers.
      request.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length
      })
    })
    const controller = new AbortController()
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      signal: controller.signal,
    })
    const error = once(duplex, 'error')
    await writeAsync(duplex, bytes(64 * 1024, 0))
    await until(() => bodyBytes > 0 && server.sockets.size === 1)
    const reason = new Error('operator stop')
    controller.abort(reason)
    const [caught] = await error
    expect(KvsAbortError.is(caught)).toBe(true)
    expect(caught).toMatchObject({ name: 'AbortError', code: 'ERR_KVS_ABORTED', cause: reason })
    expect(duplex.destroyed).toBe(true)
    await until(() => server.sockets.size === 0)
  })

  it('fails at once with ERR_KVS_ABORTED when the signal is already aborted', async () => {
    const { server } = await ackingServer(100)
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      signal: AbortSignal.abort(),
    })
    const [error] = await once(duplex, 'error')
    expect(error).toMatchObject({ code: 'ERR_KVS_ABORTED' })
  })

  it('destroys the socket when the stream is destroyed', async () => {
    const server = await serve((request) => request.resume())
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    await writeAsync(duplex, bytes(1000, 0))
    await until(() => server.sockets.size === 1)
    duplex.destroy()
    await until(() => server.sockets.size === 0)
  })

  it('applies backpressure: with a server that stops reading, write() returns false and memory stays bounded', async () => {
    let serverRequest: IncomingMessage | undefined
    const received: Buffer[] = []
    const server = await serve((request, response) => {
      serverRequest = request
      response.writeHead(200)
      response.flushHeaders()
      request.pause()
      request.on('data', (chunk: Buffer) => received.push(chunk))
      request.on('end', () => response.end())
    })
    const highWaterMark = 64 * 1024
    const duplex = putMedia({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      highWaterMark,
      ackStalenessMs: 0,
    })
    duplex.resume()
    const chunkBytes = 64 * 1024
    let accepted = 0
    let written = 0
    let completed = 0
    // Write until write() says stop; the server reads nothing, so socket buffers fill and callbacks stall.
    const writeUntilFull = async (): Promise<void> => {
      while (true) {
        const ok = duplex.write(bytes(chunkBytes, written++), (error) => {
          if (!error) completed++
        })
        accepted += chunkBytes
        if (!ok) {
          // Wait for drain, unless the socket buffers are full: then 'drain' does not come.
          const drained = await Promise.race([
            once(duplex, 'drain').then(() => true),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300)),
          ])
          if (!drained) return
        }
      }
    }
    await writeUntilFull()
    // The writer is held: the latest writes' callbacks wait for the socket, and write() said stop.
    expect(duplex.writableNeedDrain).toBe(true)
    expect(completed).toBeLessThan(written)
    // Bounded: kernel socket buffers, plus highWaterMark, plus the two writes the stream holds.
    expect(accepted).toBeLessThan(64 * 1024 * 1024)
    expect(duplex.writableLength).toBeLessThanOrEqual(2)
    // Reading again lets everything through, intact.
    serverRequest!.resume()
    await once(duplex, 'drain')
    duplex.end()
    await once(duplex, 'finish')
    await until(() => Buffer.concat(received).length === written * chunkBytes)
    const body = Buffer.concat(received)
    for (let index = 0; index < written; index++) {
      expect(
        body.subarray(index * chunkBytes, (index + 1) * chunkBytes).equals(bytes(chunkBytes, index)),
      ).toBe(true)
    }
  })

  it('delivers every ack, then fails with ERR_KVS_CONNECTION, when the service ends the response mid-body', async () => {
    const server = await serve((request, response) => {
      response.writeHead(200)
      request.once('data', () => {
        response.write(encodeAck({ eventType: 'BUFFERING', fragmentTimecode: 0, fragmentNumber: '1' }))
        response.end(
          encodeAck({
            eventType: 'ERROR',
            fragmentTimecode: 0,
            fragmentNumber: '1',
            errorId: 4004,
            errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
          }),
        )
      })
    })
    const duplex = putMedia({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const chunks: Buffer[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk)
        callback()
      },
    })
    const source = Readable.from(
      (async function* () {
        for (let index = 0; index < 1000; index++) {
          yield bytes(16 * 1024, index)
          await new Promise((resolve) => setImmediate(resolve))
        }
      })(),
    )
    await expect(pipeline(source, duplex, sink)).rejects.toMatchObject({ code: 'ERR_KVS_CONNECTION' })
    expect(decode(chunks).map((ack) => ack.eventType)).toEqual(['BUFFERING', 'ERROR'])
  })

  it('rejects bad options with TypeErrors', () => {
    const signer = testSigner()
    expect(() => putMedia({ endpoint: 'ftp://x', streamName: 's', signer })).toThrow(
      /^endpoint must be an http\(s\) URL/,
    )
    expect(() => putMedia({ endpoint: 'http://x', signer } as never)).toThrow(
      /^streamName must be a non-empty/,
    )
    expect(() =>
      putMedia({ endpoint: 'http://x', streamName: 's', streamArn: 'a', signer } as never),
    ).toThrow(/^streamName must be absent when streamArn is given/)
    expect(() =>
      putMedia({ endpoint: 'http://x', streamName: 's', signer, fragmentTimecodeType: 'LOCAL' as never }),
    ).toThrow('fragmentTimecodeType must be "RELATIVE" or "ABSOLUTE", got "LOCAL"')
    expect(() => putMedia({ endpoint: 'http://x', streamName: 's', signer, ackStalenessMs: -1 })).toThrow(
      'ackStalenessMs must be a finite number of milliseconds >= 0, got -1',
    )
    expect(() => putMedia({ endpoint: 'http://x', streamName: 's', signer: {} as never })).toThrow(
      /^signer must be/,
    )
    expect(() => putMedia({ endpoint: 'http://x', streamName: 's', signer, signal: {} as never })).toThrow(
      'signal must be an AbortSignal, got an object',
    )
  })
})
