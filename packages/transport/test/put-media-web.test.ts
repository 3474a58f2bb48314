import { AckDecoderStream, encodeAck } from '@kvs-streams/acks'
import { afterEach, describe, expect, it } from 'vitest'
import { type PutMediaInput, putMediaWeb } from '../src/index.ts'
import { startServer, type TestServer, testSigner, until } from './helpers.ts'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe('putMediaWeb', () => {
  it('works as a WHATWG transform pair: bytes in, ack bytes out, through pipeThrough', async () => {
    const received: Buffer[] = []
    const server = await startServer((request, response) => {
      response.writeHead(200)
      let fragment = 0
      request.on('data', (chunk: Buffer) => {
        received.push(chunk)
        response.write(
          encodeAck({ eventType: 'RECEIVED', fragmentTimecode: fragment++, fragmentNumber: '1' }),
        )
      })
      request.on('end', () => response.end())
    })
    servers.push(server)
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 5; index++) controller.enqueue(new Uint8Array(1000).fill(index))
        controller.close()
      },
    })
    const events: string[] = []
    await source
      .pipeThrough(putMediaWeb({ endpoint: server.url, streamName: 's', signer: testSigner() }))
      .pipeThrough(new AckDecoderStream())
      .pipeTo(
        new WritableStream({
          write(event) {
            if (event.type === 'ack') events.push(event.ack.eventType)
          },
        }),
      )
    expect(Buffer.concat(received).length).toBe(5000)
    expect(events.length).toBeGreaterThan(0)
    expect(new Set(events)).toEqual(new Set(['RECEIVED']))
  })

  it('takes arrays of views, each written in order as one write', async () => {
    const received: Buffer[] = []
    const server = await startServer((request, response) => {
      response.writeHead(200)
      request.on('data', (chunk: Buffer) => received.push(chunk))
      request.on('end', () => response.end())
    })
    servers.push(server)
    const backing = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7)
    const source = new ReadableStream<PutMediaInput>({
      start(controller) {
        controller.enqueue(Uint8Array.of(9, 9))
        controller.enqueue([backing.subarray(4), backing.subarray(0, 2), Uint8Array.of()])
        controller.enqueue([backing.subarray(7)])
        controller.close()
      },
    })
    await source
      .pipeThrough(putMediaWeb({ endpoint: server.url, streamName: 's', signer: testSigner() }))
      .pipeTo(new WritableStream())
    expect([...Buffer.concat(received)]).toEqual([9, 9, 4, 5, 6, 7, 0, 1, 7])
  })

  it('errors both sides with the typed HTTP error', async () => {
    const server = await startServer((request, response) => {
      request.resume()
      response.writeHead(401, { 'x-amzn-errortype': 'NotAuthorizedException:', 'x-amzn-requestid': 'r401' })
      response.end('{"Message":"Unauthorized"}')
    })
    servers.push(server)
    const { writable, readable } = putMediaWeb({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
    })
    const writer = writable.getWriter()
    const write = writer.write(new Uint8Array(10)).then(
      () => writer.closed,
      (error: unknown) => Promise.reject(error),
    )
    await expect(write).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      status: 401,
      requestId: 'r401',
    })
    await expect(readable.getReader().read()).rejects.toMatchObject({ name: 'NotAuthorizedException' })
  })

  it('aborts the request when the writable is aborted', async () => {
    let requests = 0
    const server = await startServer((request) => {
      requests++
      request.resume()
    })
    servers.push(server)
    const { writable, readable } = putMediaWeb({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
    })
    const writer = writable.getWriter()
    await writer.write(new Uint8Array(10))
    await until(() => requests === 1)
    const read = readable.getReader().read()
    await writer.abort(new Error('stop'))
    await expect(read).rejects.toMatchObject({ code: 'ERR_KVS_ABORTED' })
    await until(() => server.sockets.size === 0)
  })
})
