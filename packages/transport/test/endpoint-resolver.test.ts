import type { GetDataEndpointCommand } from '@aws-sdk/client-kinesis-video'
import { describe, expect, it } from 'vitest'
import {
  createDataEndpointResolver,
  isEndpointError,
  KvsConnectionError,
  KvsHttpError,
  KvsTimeoutError,
  withEndpoint,
} from '../src/index.ts'

/** A fake control-plane client: answers GetDataEndpoint with `https://<api>-<n>.example` and records calls. */
function fakeClient(fail?: (input: GetDataEndpointCommand['input']) => Error | undefined) {
  const calls: GetDataEndpointCommand['input'][] = []
  return {
    calls,
    async send(command: GetDataEndpointCommand) {
      calls.push(command.input)
      const error = fail?.(command.input)
      if (error !== undefined) throw error
      return { DataEndpoint: `https://${command.input.APIName!.toLowerCase()}-${calls.length}.example` }
    },
  }
}

describe('createDataEndpointResolver', () => {
  it('calls GetDataEndpoint once per stream and API name, and serves repeats from the cache', async () => {
    const client = fakeClient()
    const resolver = createDataEndpointResolver({ client })
    expect(await resolver.resolve('s', 'PUT_MEDIA')).toBe('https://put_media-1.example')
    expect(await resolver.resolve('s', 'PUT_MEDIA')).toBe('https://put_media-1.example')
    expect(await resolver.resolve({ streamName: 's' }, 'PUT_MEDIA')).toBe('https://put_media-1.example')
    expect(await resolver.resolve('s', 'GET_MEDIA')).toBe('https://get_media-2.example')
    expect(await resolver.resolve({ streamArn: 'arn:x' }, 'PUT_MEDIA')).toBe('https://put_media-3.example')
    expect(client.calls).toEqual([
      { StreamName: 's', APIName: 'PUT_MEDIA' },
      { StreamName: 's', APIName: 'GET_MEDIA' },
      { StreamARN: 'arn:x', APIName: 'PUT_MEDIA' },
    ])
  })

  it('shares one lookup between concurrent calls', async () => {
    const client = fakeClient()
    const resolver = createDataEndpointResolver({ client })
    const endpoints = await Promise.all([1, 2, 3].map(() => resolver.resolve('s', 'LIST_FRAGMENTS')))
    expect(new Set(endpoints).size).toBe(1)
    expect(client.calls).toHaveLength(1)
  })

  it('looks the endpoint up again once ttlMs has passed (injected clock)', async () => {
    const client = fakeClient()
    let now = 1_000
    const resolver = createDataEndpointResolver({ client, ttlMs: 100, clock: () => now })
    await resolver.resolve('s', 'PUT_MEDIA')
    now += 99
    await resolver.resolve('s', 'PUT_MEDIA')
    expect(client.calls).toHaveLength(1)
    now += 1
    expect(await resolver.resolve('s', 'PUT_MEDIA')).toBe('https://put_media-2.example')
  })

  it('invalidates one API of a stream, or all of them', async () => {
    const client = fakeClient()
    const resolver = createDataEndpointResolver({ client })
    await resolver.resolve('s', 'PUT_MEDIA')
    await resolver.resolve('s', 'GET_MEDIA')
    await resolver.resolve('other', 'PUT_MEDIA')
    resolver.invalidate('s', 'PUT_MEDIA')
    await resolver.resolve('s', 'PUT_MEDIA')
    await resolver.resolve('s', 'GET_MEDIA')
    expect(client.calls).toHaveLength(4)
    resolver.invalidate({ streamName: 's' })
    await resolver.resolve('s', 'PUT_MEDIA')
    await resolver.resolve('s', 'GET_MEDIA')
    await resolver.resolve('other', 'PUT_MEDIA')
    expect(client.calls).toHaveLength(6)
  })

  it('does not cache a failed lookup', async () => {
    let failures = 1
    const client = fakeClient(() => (failures-- > 0 ? new Error('ResourceNotFoundException') : undefined))
    const resolver = createDataEndpointResolver({ client })
    await expect(resolver.resolve('s', 'PUT_MEDIA')).rejects.toThrow('ResourceNotFoundException')
    expect(await resolver.resolve('s', 'PUT_MEDIA')).toBe('https://put_media-2.example')
  })

  it('rejects bad arguments with TypeErrors', async () => {
    expect(() => createDataEndpointResolver({ client: {} as never })).toThrow(
      'client must be a KinesisVideoClient, got an object',
    )
    expect(() => createDataEndpointResolver({ client: fakeClient(), ttlMs: -1 })).toThrow(
      'ttlMs must be a number of milliseconds >= 0, got -1',
    )
    expect(() => createDataEndpointResolver({ client: fakeClient(), ttlMs: Number.NaN })).toThrow(
      'ttlMs must be a number of milliseconds >= 0, got NaN',
    )
    // Infinity: never looked up again.
    expect(() =>
      createDataEndpointResolver({ client: fakeClient(), ttlMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow()
    const resolver = createDataEndpointResolver({ client: fakeClient() })
    await expect(resolver.resolve('s', 'GET_CLIP' as never)).rejects.toThrow(
      'apiName must be PUT_MEDIA | GET_MEDIA | LIST_FRAGMENTS | GET_MEDIA_FOR_FRAGMENT_LIST, got "GET_CLIP"',
    )
    await expect(resolver.resolve('', 'PUT_MEDIA')).rejects.toThrow(/^stream must be a stream name/)
  })
})

describe('withEndpoint', () => {
  const invalidEndpoint = () =>
    new KvsHttpError('wrong endpoint', { status: 400, errorType: 'InvalidEndpointException', requestId: 'r' })

  it('on InvalidEndpointException invalidates the endpoint, resolves it again and retries once', async () => {
    const client = fakeClient()
    const resolver = createDataEndpointResolver({ client })
    const seen: string[] = []
    const result = await withEndpoint(resolver, 's', 'PUT_MEDIA', async (endpoint) => {
      seen.push(endpoint)
      if (seen.length === 1) throw invalidEndpoint()
      return 'done'
    })
    expect(result).toBe('done')
    expect(seen).toEqual(['https://put_media-1.example', 'https://put_media-2.example'])
    // The fresh endpoint is the cached one now.
    expect(await resolver.resolve('s', 'PUT_MEDIA')).toBe('https://put_media-2.example')
  })

  it('retries on connection errors and connect timeouts, but only once', async () => {
    const resolver = createDataEndpointResolver({ client: fakeClient() })
    let calls = 0
    const error = await withEndpoint(resolver, 's', 'GET_MEDIA', async () => {
      calls++
      throw calls === 1
        ? new KvsConnectionError('Connection failed: ECONNREFUSED')
        : new KvsTimeoutError('ERR_KVS_CONNECT_TIMEOUT', 'Could not connect', 5000)
    }).catch((caught: unknown) => caught)
    expect(calls).toBe(2)
    expect(error).toMatchObject({ code: 'ERR_KVS_CONNECT_TIMEOUT' })
  })

  it('passes other errors through without retrying', async () => {
    const client = fakeClient()
    const resolver = createDataEndpointResolver({ client })
    let calls = 0
    const notFound = new KvsHttpError('gone', { status: 404, errorType: 'ResourceNotFoundException' })
    await expect(
      withEndpoint(resolver, 's', 'PUT_MEDIA', async () => {
        calls++
        throw notFound
      }),
    ).rejects.toBe(notFound)
    expect(calls).toBe(1)
    expect(client.calls).toHaveLength(1)
  })

  it('treats an AWS SDK InvalidEndpointException as an endpoint error, and ack staleness as not one', () => {
    const sdkError = Object.assign(new Error('wrong endpoint'), { name: 'InvalidEndpointException' })
    expect(isEndpointError(sdkError)).toBe(true)
    expect(isEndpointError(new KvsTimeoutError('ERR_KVS_ACK_STALE', 'stale', 1))).toBe(false)
    expect(isEndpointError(new Error('other'))).toBe(false)
  })
})
