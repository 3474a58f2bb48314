import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '../src/index.ts'

const emulators: Emulator[] = []
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()))
})

/** A browser's preflight for a signed POST to `path`. */
function preflight(url: string, path: string): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://127.0.0.1:9',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,x-amz-content-sha256,x-amz-date,x-amzn-stream-name',
      'access-control-request-private-network': 'true',
    },
  })
}

describe('cors option', () => {
  it('is off by default: a preflight is an unknown operation and responses carry no CORS header', async () => {
    const emulator = await startEmulator({ port: 0 })
    emulators.push(emulator)
    const response = await preflight(emulator.url, '/putMedia')
    expect(response.status).toBe(404)
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^UnknownOperationException(:|$)/)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers preflights with the requested headers allowed, and exposes the AWS headers on every response', async () => {
    const emulator = await startEmulator({ port: 0, cors: true })
    emulators.push(emulator)
    const response = await preflight(emulator.url, '/putMedia')
    expect(response.status).toBe(204)
    const names = [
      'access-control-allow-origin',
      'access-control-allow-methods',
      'access-control-allow-headers',
      'access-control-allow-private-network',
      'access-control-max-age',
    ]
    expect(Object.fromEntries(names.map((name) => [name, response.headers.get(name)]))).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': 'authorization,x-amz-content-sha256,x-amz-date,x-amzn-stream-name',
      'access-control-allow-private-network': 'true',
      'access-control-max-age': '600',
    })
    expect(response.headers.get('x-amzn-requestid')).toBeNull()

    // A signed control-plane call (and its error answers) carry the CORS headers too.
    let headers: Record<string, string> = {}
    const client = new KinesisVideoClient({
      region: emulator.region,
      credentials: { ...DEFAULT_CREDENTIALS },
      endpoint: emulator.url,
    })
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args)
        headers = (result.response as { headers: Record<string, string> }).headers
        return result
      },
      { step: 'deserialize' },
    )
    await client.send(new CreateStreamCommand({ StreamName: 'cors' }))
    client.destroy()
    expect(headers['access-control-allow-origin']).toBe('*')
    expect(headers['access-control-expose-headers']).toMatch(/x-amzn-RequestId, x-amzn-ErrorType/)
    const refused = await fetch(`${emulator.url}/putMedia`, { method: 'POST', body: '' })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('refuses a cors option that is not a boolean', async () => {
    await expect(startEmulator({ port: 0, cors: 'yes' as never })).rejects.toThrow(
      /cors must be a boolean, got/,
    )
  })
})
