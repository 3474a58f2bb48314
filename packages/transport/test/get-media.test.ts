import { createReadStream } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { verifyRequest } from '@kvs-streams/signer'
import { fixturePath, readFixture } from '@kvs-streams/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import {
  getMedia,
  getMediaForFragmentList,
  isTransportError,
  KvsAbortError,
  KvsHttpError,
  KvsProtocolError,
  listAllFragments,
  listFragments,
  type ResponseBody,
} from '../src/index.ts'
import { collect, credentials, startServer, type TestServer, testSigner, until } from './helpers.ts'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

interface Received {
  path: string
  headers: IncomingMessage['headers']
  json: Record<string, unknown>
  signatureOk: boolean
}

/** A data-plane stand-in: checks the SigV4 signature (body hash included), then calls `answer`. */
async function dataPlane(answer: (received: Received, response: ServerResponse) => void) {
  const requests: Received[] = []
  const server = await startServer(async (request, response) => {
    const body = Buffer.concat(await collect<Buffer>(request))
    const verified = await verifyRequest(
      { method: request.method!, path: request.url!, headers: request.headersDistinct, body },
      { lookupSecret: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined) },
    )
    const received: Received = {
      path: request.url!,
      headers: request.headers,
      json: JSON.parse(body.toString('utf8')),
      signatureOk: verified.ok,
    }
    requests.push(received)
    if (!verified.ok) {
      response.writeHead(403, { 'x-amzn-errortype': `${verified.errorType}:`, 'x-amzn-requestid': 'req-sig' })
      response.end(JSON.stringify({ message: verified.message }))
      return
    }
    answer(received, response)
  })
  servers.push(server)
  return { server, requests }
}

describe('getMedia', () => {
  it('POSTs a signed JSON body to /getMedia and resolves with the media stream on 200', async () => {
    const { server, requests } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'video/webm', 'x-amzn-requestid': 'req-get' })
      createReadStream(fixturePath('kvs-getmedia', 'output_get_media.mkv')).pipe(response)
    })
    const media = await getMedia({
      endpoint: server.url,
      streamName: 'my-stream',
      startSelector: { StartSelectorType: 'EARLIEST' },
      signer: testSigner(),
    })
    expect(media.status).toBe(200)
    expect(media.contentType).toBe('video/webm')
    expect(media.requestId).toBe('req-get')
    const bytes = Buffer.concat(await collect<Buffer>(media))
    expect(bytes.equals(Buffer.from(readFixture('kvs-getmedia', 'output_get_media.mkv')))).toBe(true)
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      path: '/getMedia',
      signatureOk: true,
      json: { StreamName: 'my-stream', StartSelector: { StartSelectorType: 'EARLIEST' } },
    })
    expect(requests[0]!.headers['content-type']).toBe('application/json')
    expect(requests[0]!.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(requests[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTRANSPORTTEST\//)
  })

  it('sends StreamARN and the start selector fields, timestamps as epoch seconds', async () => {
    const { server, requests } = await dataPlane((_received, response) => response.end())
    const arn = 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/s/1'
    await collect(
      await getMedia({
        endpoint: server.url,
        streamArn: arn,
        startSelector: { StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: new Date(1562589645061) },
        signer: testSigner(),
      }),
    )
    await collect(
      await getMedia({
        endpoint: server.url,
        streamName: 's',
        startSelector: {
          StartSelectorType: 'FRAGMENT_NUMBER',
          AfterFragmentNumber: '91343852333181432392682062607743920146264541790',
        },
        signer: testSigner(),
      }),
    )
    expect(requests.map((request) => request.json)).toEqual([
      {
        StreamARN: arn,
        StartSelector: { StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: 1562589645.061 },
      },
      {
        StreamName: 's',
        StartSelector: {
          StartSelectorType: 'FRAGMENT_NUMBER',
          AfterFragmentNumber: '91343852333181432392682062607743920146264541790',
        },
      },
    ])
  })

  it('rejects with a typed KvsHttpError for a non-200 answer', async () => {
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(404, {
        'x-amzn-errortype': 'ResourceNotFoundException:https://kinesisvideo.amazonaws.com/doc/2017-09-30/',
        'x-amzn-requestid': 'req-404',
      })
      response.end('{"Message":"The requested stream is not found or not active."}')
    })
    const error = await getMedia({
      endpoint: server.url,
      streamName: 'missing',
      startSelector: { StartSelectorType: 'NOW' },
      signer: testSigner(),
    }).catch((caught: unknown) => caught)
    expect(KvsHttpError.is(error)).toBe(true)
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
      requestId: 'req-404',
      message: 'The requested stream is not found or not active.',
    })
  })

  it('rejects with InvalidSignatureException (403) when the signature does not match', async () => {
    const { server } = await dataPlane(() => {})
    const wrongSecret = { ...credentials, secretAccessKey: 'not-the-secret' }
    const { createKvsSigner } = await import('@kvs-streams/signer')
    const error = await getMedia({
      endpoint: server.url,
      streamName: 's',
      startSelector: { StartSelectorType: 'NOW' },
      signer: createKvsSigner({ region: 'us-west-2', credentials: wrongSecret }),
    }).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'InvalidSignatureException', status: 403, requestId: 'req-sig' })
  })

  it('destroys the socket when the media stream is destroyed mid-body, and aborts through the signal', async () => {
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'video/webm' })
      response.write(Buffer.alloc(1024))
      // Live: keeps the response open.
    })
    const media: ResponseBody = await getMedia({
      endpoint: server.url,
      streamName: 's',
      startSelector: { StartSelectorType: 'NOW' },
      signer: testSigner(),
    })
    media.destroy()
    await until(() => server.sockets.size === 0)

    const controller = new AbortController()
    const live = await getMedia({
      endpoint: server.url,
      streamName: 's',
      startSelector: { StartSelectorType: 'NOW' },
      signer: testSigner(),
      signal: controller.signal,
    })
    const failed = collect(live).catch((caught: unknown) => caught)
    controller.abort()
    const error = await failed
    expect(KvsAbortError.is(error)).toBe(true)
    await until(() => server.sockets.size === 0)
  })

  it('rejects a bad start selector with a TypeError before sending anything', () => {
    expect(() =>
      getMedia({
        endpoint: 'http://127.0.0.1:1',
        streamName: 's',
        startSelector: { StartSelectorType: 'FRAGMENT_NUMBER' },
        signer: testSigner(),
      }),
    ).toThrow('startSelector.AfterFragmentNumber must be a fragment number string, got undefined')
    expect(() =>
      getMedia({
        endpoint: 'http://127.0.0.1:1',
        streamName: 's',
        startSelector: { StartSelectorType: 'LATEST' as never },
        signer: testSigner(),
      }),
    ).toThrow(/^startSelector.StartSelectorType must be FRAGMENT_NUMBER \| /)
  })
})

describe('getMediaForFragmentList', () => {
  it('POSTs the fragment list to /getMediaForFragmentList and streams the media', async () => {
    const { server, requests } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'video/webm' })
      response.end(Buffer.from(readFixture('kvs-getmedia', 'clusters.mkv')))
    })
    const media = await getMediaForFragmentList({
      endpoint: server.url,
      streamName: 's',
      fragments: ['1', '2'],
      signer: testSigner(),
    })
    const bytes = Buffer.concat(await collect<Buffer>(media))
    expect(bytes.length).toBe(readFixture('kvs-getmedia', 'clusters.mkv').length)
    expect(requests[0]).toMatchObject({
      path: '/getMediaForFragmentList',
      signatureOk: true,
      json: { StreamName: 's', Fragments: ['1', '2'] },
    })
  })
})

describe('listFragments', () => {
  it('POSTs to /listFragments and returns the fragments with Date timestamps', async () => {
    const { server, requests } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          Fragments: [
            {
              FragmentNumber: '91343852333181432392682062607743920146264541790',
              FragmentSizeInBytes: 788604,
              ProducerTimestamp: 1.562589645061e9,
              ServerTimestamp: 1.562589646e9,
              FragmentLengthInMilliseconds: 1796,
            },
          ],
          NextToken: 'next',
        }),
      )
    })
    const page = await listFragments({
      endpoint: server.url,
      streamName: 's',
      maxResults: 10,
      fragmentSelector: {
        FragmentSelectorType: 'SERVER_TIMESTAMP',
        TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: 1e9 },
      },
      signer: testSigner(),
    })
    expect(page).toEqual({
      Fragments: [
        {
          FragmentNumber: '91343852333181432392682062607743920146264541790',
          FragmentSizeInBytes: 788604,
          ProducerTimestamp: new Date(1562589645061),
          ServerTimestamp: new Date(1562589646000),
          FragmentLengthInMilliseconds: 1796,
        },
      ],
      NextToken: 'next',
    })
    expect(requests[0]).toMatchObject({
      path: '/listFragments',
      signatureOk: true,
      json: {
        StreamName: 's',
        MaxResults: 10,
        FragmentSelector: {
          FragmentSelectorType: 'SERVER_TIMESTAMP',
          TimestampRange: { StartTimestamp: 0, EndTimestamp: 1e9 },
        },
      },
    })
  })

  it('rejects with a typed error for an error answer', async () => {
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(400, { 'x-amzn-requestid': 'req-400' })
      response.end('{"__type":"InvalidArgumentException","Message":"MaxResults is out of range"}')
    })
    await expect(
      listFragments({ endpoint: server.url, streamName: 's', signer: testSigner() }),
    ).rejects.toMatchObject({
      name: 'InvalidArgumentException',
      status: 400,
      requestId: 'req-400',
      message: 'MaxResults is out of range',
    })
  })
})

describe('listFragments answers that are not usable', () => {
  it('rejects a 200 answer that is not JSON with KvsProtocolError (ERR_KVS_PROTOCOL), the text quoted', async () => {
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'text/html' })
      response.end('<html>captive portal</html>')
    })
    const error = await listFragments({ endpoint: server.url, streamName: 's', signer: testSigner() }).catch(
      (caught: unknown) => caught,
    )
    expect(KvsProtocolError.is(error)).toBe(true)
    expect(isTransportError(error)).toBe(true)
    expect(error).toMatchObject({ name: 'KvsProtocolError', code: 'ERR_KVS_PROTOCOL' })
    expect((error as Error).message).toContain('<html>captive portal</html>')
    expect((error as Error).cause).toBeInstanceOf(SyntaxError)
  })

  it('stops reading an answer larger than 16 MiB and rejects with KvsProtocolError', async () => {
    let written = 0
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      const piece = Buffer.alloc(1024 * 1024, 0x20)
      const more = () => {
        // An endless body: without the limit the client would buffer until it ran out of memory.
        while (!response.destroyed && written < 64 * 1024 * 1024) {
          written += piece.length
          if (!response.write(piece)) return void response.once('drain', more)
        }
        response.end()
      }
      response.on('close', () => {})
      more()
    })
    const error = await listFragments({ endpoint: server.url, streamName: 's', signer: testSigner() }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toMatchObject({ code: 'ERR_KVS_PROTOCOL' })
    expect((error as Error).message).toContain('larger than 16777216 bytes')
    expect(written).toBeLessThan(64 * 1024 * 1024)
  })
})

describe('listAllFragments', () => {
  /** A service with `pages` pages of `perPage` fragments: page k answers NextToken `page-(k+1)` until the last. */
  async function pagedService(pages: number, perPage: number, token = (page: number) => `page-${page}`) {
    return dataPlane((received, response) => {
      const page =
        received.json.NextToken === undefined ? 0 : Number(String(received.json.NextToken).slice(5))
      const fragments = Array.from({ length: perPage }, (_, index) => ({
        FragmentNumber: String(1000 + page * perPage + index),
        ProducerTimestamp: 1.7e9 + page * perPage + index,
      }))
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          Fragments: fragments,
          ...(page + 1 < pages ? { NextToken: token(page + 1) } : {}),
        }),
      )
    })
  }

  it('yields every fragment of every page in order, sending each NextToken back with the same options', async () => {
    const { server, requests } = await pagedService(3, 2)
    const numbers: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      maxResults: 2,
      fragmentSelector: {
        FragmentSelectorType: 'SERVER_TIMESTAMP',
        TimestampRange: { StartTimestamp: 0, EndTimestamp: 2e9 },
      },
    })) {
      numbers.push(fragment.FragmentNumber)
      expect(fragment.ProducerTimestamp).toBeInstanceOf(Date)
    }
    expect(numbers).toEqual(['1000', '1001', '1002', '1003', '1004', '1005'])
    expect(requests.map((request) => request.json.NextToken)).toEqual([undefined, 'page-1', 'page-2'])
    for (const request of requests) {
      expect(request).toMatchObject({
        path: '/listFragments',
        signatureOk: true,
        json: {
          StreamName: 's',
          MaxResults: 2,
          FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP' },
        },
      })
    }
  })

  it('asks for the next page only when the fragments before it are consumed, and stops when the loop breaks', async () => {
    const { server, requests } = await pagedService(100, 2)
    const fragments = listAllFragments({ endpoint: server.url, streamName: 's', signer: testSigner() })
    const seen: string[] = []
    for await (const fragment of fragments) {
      seen.push(fragment.FragmentNumber)
      expect(requests).toHaveLength(Math.floor((seen.length - 1) / 2) + 1)
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['1000', '1001', '1002'])
    expect(requests).toHaveLength(2)
  })

  it('ends at an empty NextToken as at an absent one', async () => {
    const { server, requests } = await pagedService(3, 1, (page) => (page === 1 ? 'page-1' : ''))
    const numbers: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
    }))
      numbers.push(fragment.FragmentNumber)
    expect(numbers).toEqual(['1000', '1001'])
    expect(requests).toHaveLength(2)
  })

  it('rejects with KvsProtocolError when the service repeats a NextToken, instead of looping', async () => {
    // Pages 1 and 2 both point back to page 1.
    const { server, requests } = await pagedService(5, 1, () => 'page-1')
    const numbers: string[] = []
    const error = await (async () => {
      for await (const fragment of listAllFragments({
        endpoint: server.url,
        streamName: 's',
        signer: testSigner(),
      }))
        numbers.push(fragment.FragmentNumber)
    })().catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'KvsProtocolError', code: 'ERR_KVS_PROTOCOL' })
    expect((error as Error).message).toContain('"page-1" twice')
    // What was listed before the repeat was delivered.
    expect(numbers).toEqual(['1000', '1001'])
    expect(requests).toHaveLength(2)
  })

  it('passes a service error through as KvsHttpError, and refuses a nextToken option with a TypeError', async () => {
    const { server } = await dataPlane((_received, response) => {
      response.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException:' })
      response.end('{"Message":"The stream s does not exist"}')
    })
    const failing = listAllFragments({ endpoint: server.url, streamName: 's', signer: testSigner() })
    await expect(failing.next()).rejects.toMatchObject({ name: 'ResourceNotFoundException', status: 404 })
    const withToken = listAllFragments({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      ...({ nextToken: 'x' } as object),
    })
    await expect(withToken.next()).rejects.toThrow(TypeError)
    await expect(withToken.next()).resolves.toEqual({ done: true, value: undefined })
  })

  it('aborts the request in flight through its signal', async () => {
    const { server } = await dataPlane(() => {})
    const controller = new AbortController()
    const fragments = listAllFragments({
      endpoint: server.url,
      streamName: 's',
      signer: testSigner(),
      signal: controller.signal,
    })
    const first = fragments.next()
    setTimeout(() => controller.abort(), 50)
    await expect(first).rejects.toSatisfy((error: unknown) => KvsAbortError.is(error))
  })
})
