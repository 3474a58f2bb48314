import type { AwsCredentialIdentity } from '@smithy/types'
import { describe, expect, test } from 'vitest'
import { createKvsSigner, KvsSignerError } from '../src/index.ts'

const MINUTE = 60_000

/** A provider handing out numbered credentials that expire `lifetimeMs` after the clock's now (`null`: never). */
function countingProvider(clock: { now: number }, lifetimeMs: number | null = 60 * MINUTE) {
  const provider = async () => {
    provider.calls++
    return {
      accessKeyId: `AKID${provider.calls}`,
      secretAccessKey: 'secret',
      ...(lifetimeMs === null ? {} : { expiration: new Date(clock.now + lifetimeMs) }),
    }
  }
  provider.calls = 0
  return provider
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('credential caching', () => {
  test('calls the provider once and reuses its credentials until refreshBeforeExpiryMs before expiration', async () => {
    const clock = { now: 1_000_000 }
    const provider = countingProvider(clock)
    const signer = createKvsSigner({ region: 'us-east-1', credentials: provider, clock: () => clock.now })
    expect((await signer.credentials()).accessKeyId).toBe('AKID1')
    clock.now += 54 * MINUTE
    await signer.sign({ method: 'GET', url: 'https://example.com/' })
    expect((await signer.credentials()).accessKeyId).toBe('AKID1')
    expect(provider.calls).toBe(1)
    clock.now += MINUTE // exactly 5 minutes (the default margin) before expiration
    const signed = await signer.sign({ method: 'GET', url: 'https://example.com/' })
    expect(provider.calls).toBe(2)
    expect(signed.headers.authorization).toContain('Credential=AKID2/')
  })

  test('honours a custom refreshBeforeExpiryMs', async () => {
    const clock = { now: 0 }
    const provider = countingProvider(clock, 10 * MINUTE)
    const signer = createKvsSigner({
      region: 'us-east-1',
      credentials: provider,
      clock: () => clock.now,
      refreshBeforeExpiryMs: 0,
    })
    await signer.credentials()
    clock.now = 10 * MINUTE - 1
    await signer.credentials()
    expect(provider.calls).toBe(1)
    clock.now = 10 * MINUTE
    await signer.credentials()
    expect(provider.calls).toBe(2)
  })

  test('shares one in-flight provider call between concurrent requests', async () => {
    const clock = { now: 0 }
    let release: () => void = () => {}
    let calls = 0
    const provider = () => {
      calls++
      return new Promise<AwsCredentialIdentity>((resolve) => {
        release = () => resolve({ accessKeyId: 'AKID', secretAccessKey: 'secret' })
      })
    }
    const signer = createKvsSigner({ region: 'us-east-1', credentials: provider, clock: () => clock.now })
    const pending = Array.from({ length: 5 }, () =>
      signer.signPutMedia({ url: 'https://example.com/putMedia', headers: {} }),
    )
    const credentials = signer.credentials()
    await Promise.resolve()
    release()
    const results = await Promise.all(pending)
    expect(calls).toBe(1)
    expect(new Set(results.map((result) => result.headers.authorization)).size).toBe(1)
    expect((await credentials).accessKeyId).toBe('AKID')
  })

  test('keeps provider credentials without expiration forever', async () => {
    const clock = { now: 0 }
    const provider = countingProvider(clock, null)
    const signer = createKvsSigner({ region: 'us-east-1', credentials: provider, clock: () => clock.now })
    await signer.credentials()
    clock.now = 365 * 24 * 60 * MINUTE
    await signer.credentials()
    expect(provider.calls).toBe(1)
  })

  test('refreshCredentials() makes the next request ask the provider again, with forceRefresh', async () => {
    const clock = { now: 0 }
    const calls: unknown[] = []
    const provider = countingProvider(clock, null)
    const recording = async (properties?: unknown) => {
      calls.push(properties)
      return provider()
    }
    const signer = createKvsSigner({ region: 'us-east-1', credentials: recording, clock: () => clock.now })
    expect((await signer.credentials()).accessKeyId).toBe('AKID1')
    expect((await signer.credentials()).accessKeyId).toBe('AKID1')
    signer.refreshCredentials?.()
    const signed = await signer.signJson({
      url: 'https://kinesisvideo.us-east-1.amazonaws.com/x',
      body: '{}',
    })
    expect(signed.headers.authorization).toContain('Credential=AKID2/')
    expect(calls).toEqual([undefined, { forceRefresh: true }])
    // Then cached again.
    expect((await signer.credentials()).accessKeyId).toBe('AKID2')
    expect(provider.calls).toBe(2)
  })

  test('refreshCredentials() leaves static credentials as they are', async () => {
    const credentials = { accessKeyId: 'AKIDSTATIC', secretAccessKey: 'secret' }
    const signer = createKvsSigner({ region: 'us-east-1', credentials })
    signer.refreshCredentials?.()
    expect(await signer.credentials()).toBe(credentials)
  })

  test('rejects expired static credentials with ERR_KVS_CREDENTIALS_EXPIRED', async () => {
    const expiration = new Date(5_000)
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret', expiration }
    const clock = { now: 4_999 }
    const signer = createKvsSigner({ region: 'us-east-1', credentials, clock: () => clock.now })
    expect(await signer.credentials()).toBe(credentials)
    clock.now = 5_000
    const error = await rejection(signer.sign({ method: 'GET', url: 'https://example.com/' }))
    expect(KvsSignerError.is(error)).toBe(true)
    expect(error).toMatchObject({ name: 'KvsSignerError', code: 'ERR_KVS_CREDENTIALS_EXPIRED', expiration })
    await expect(signer.credentials()).rejects.toMatchObject({ code: 'ERR_KVS_CREDENTIALS_EXPIRED' })
  })

  test('rejects credentials a provider returns already expired with ERR_KVS_CREDENTIALS_EXPIRED', async () => {
    const clock = { now: 10_000 }
    const signer = createKvsSigner({
      region: 'us-east-1',
      credentials: async () => ({
        accessKeyId: 'AKID',
        secretAccessKey: 'secret',
        expiration: new Date(9_999),
      }),
      clock: () => clock.now,
    })
    await expect(signer.credentials()).rejects.toMatchObject({ code: 'ERR_KVS_CREDENTIALS_EXPIRED' })
  })

  test('wraps a provider failure in ERR_KVS_CREDENTIALS_UNAVAILABLE with the cause, and retries on the next call', async () => {
    const cause = new Error('no profile "kvs"')
    let calls = 0
    const provider = async () => {
      calls++
      if (calls === 1) throw cause
      return { accessKeyId: 'AKID', secretAccessKey: 'secret' }
    }
    const signer = createKvsSigner({ region: 'us-east-1', credentials: provider })
    const error = await rejection(signer.signJson({ url: 'https://example.com/', body: '{}' }))
    expect(KvsSignerError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_KVS_CREDENTIALS_UNAVAILABLE', cause })
    expect((error as Error).message).toContain('no profile "kvs"')
    expect((await signer.credentials()).accessKeyId).toBe('AKID')
    expect(calls).toBe(2)
  })

  test('wraps a provider that throws synchronously or returns no credentials', async () => {
    const throwing = createKvsSigner({
      region: 'us-east-1',
      credentials: (() => {
        throw 'plain string'
      }) as never,
    })
    await expect(throwing.credentials()).rejects.toMatchObject({
      code: 'ERR_KVS_CREDENTIALS_UNAVAILABLE',
      cause: 'plain string',
    })
    const empty = createKvsSigner({
      region: 'us-east-1',
      credentials: async () => ({}) as AwsCredentialIdentity,
    })
    await expect(empty.credentials()).rejects.toMatchObject({ code: 'ERR_KVS_CREDENTIALS_UNAVAILABLE' })
  })

  test('keeps using cached credentials that have not expired when a refresh fails', async () => {
    const clock = { now: 0 }
    let calls = 0
    const provider = async () => {
      calls++
      if (calls > 1) throw new Error('IMDS unreachable')
      return { accessKeyId: 'AKID', secretAccessKey: 'secret', expiration: new Date(10 * MINUTE) }
    }
    const signer = createKvsSigner({ region: 'us-east-1', credentials: provider, clock: () => clock.now })
    await signer.credentials()
    clock.now = 6 * MINUTE // inside the refresh margin, not yet expired
    expect((await signer.credentials()).accessKeyId).toBe('AKID')
    expect(calls).toBe(2)
    clock.now = 10 * MINUTE
    await expect(signer.credentials()).rejects.toMatchObject({ code: 'ERR_KVS_CREDENTIALS_UNAVAILABLE' })
  })
})

describe('KvsSignerError', () => {
  test('is() recognises the brand, also on an instance from another copy of the package', () => {
    const error = new KvsSignerError('ERR_KVS_CREDENTIALS_EXPIRED', 'expired')
    expect(KvsSignerError.is(error)).toBe(true)
    expect(error).toBeInstanceOf(Error)
    const foreign = { [Symbol.for('kvs-streams.signer-error')]: true }
    expect(KvsSignerError.is(foreign)).toBe(true)
    expect(KvsSignerError.is(new TypeError('x'))).toBe(false)
    expect(KvsSignerError.is(null)).toBe(false)
    expect(KvsSignerError.is('ERR_KVS_CREDENTIALS_EXPIRED')).toBe(false)
  })
})
