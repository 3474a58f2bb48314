import { createHash } from 'node:crypto'
import { Sha256 } from '@aws-crypto/sha256-js'
import fc from 'fast-check'
import { describe, expect, test, vi } from 'vitest'
import {
  createKvsSigner,
  ERR_KVS_SIGNER_MISSING_REGION,
  KvsSignerError,
  type KvsSignerOptions,
  UNSIGNED_PAYLOAD,
  verifyRequestSync,
} from '../src/index.ts'
import { RecordingSignatureV4 } from '../src/recording-signature-v4.ts'
import { signHttpRequest } from '../src/sign-http-request.ts'

const NOW = Date.UTC(2023, 1, 28, 19, 50, 18, 5)
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

function signer(options: Partial<KvsSignerOptions> = {}) {
  return createKvsSigner({ region: 'us-west-2', credentials: CREDENTIALS, clock: () => NOW, ...options })
}

const HOP_BY_HOP = {
  Connection: 'keep-alive',
  'Keep-Alive': 'timeout=5',
  'Transfer-Encoding': 'chunked',
  TE: 'trailers',
  Trailer: 'x-checksum',
  Upgrade: 'h2c',
  Expect: '100-continue',
  'Proxy-Connection': 'keep-alive',
}

describe('createKvsSigner', () => {
  test('defaults the service to kinesisvideo and exposes region and service', () => {
    const kvs = signer()
    expect(kvs.region).toBe('us-west-2')
    expect(kvs.service).toBe('kinesisvideo')
    expect(signer({ service: 'service' }).service).toBe('service')
  })

  test('throws a TypeError with code ERR_KVS_SIGNER_MISSING_REGION when region is missing or empty', () => {
    for (const region of [undefined, '', 42]) {
      let thrown: unknown
      try {
        createKvsSigner({ region, credentials: CREDENTIALS } as unknown as KvsSignerOptions)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(TypeError)
      expect(thrown).toMatchObject({ code: ERR_KVS_SIGNER_MISSING_REGION })
    }
    expect(() => createKvsSigner({ credentials: CREDENTIALS } as unknown as KvsSignerOptions)).toThrow(
      'region must be a non-empty string, got undefined',
    )
  })

  test('throws TypeErrors naming the bad option', () => {
    const cases: Array<[Partial<Record<keyof KvsSignerOptions, unknown>>, RegExp]> = [
      [{ region: 'us west' }, /^region must be/],
      [{ credentials: undefined }, /^credentials must be/],
      [{ credentials: { accessKeyId: 'A' } }, /^credentials must be/],
      [{ clock: 5 }, /^clock must be/],
      [{ service: '' }, /^service must be/],
      [{ refreshBeforeExpiryMs: -1 }, /^refreshBeforeExpiryMs must be/],
      [{ refreshBeforeExpiryMs: Number.NaN }, /^refreshBeforeExpiryMs must be/],
    ]
    for (const [override, message] of cases) {
      expect(() =>
        createKvsSigner({ region: 'us-west-2', credentials: CREDENTIALS, ...override } as KvsSignerOptions),
      ).toThrow(message)
    }
    expect(() => createKvsSigner(undefined as unknown as KvsSignerOptions)).toThrow(TypeError)
  })
})

describe('sign', () => {
  test('returns every header to send: lower-cased input, host, x-amz-date, x-amz-content-sha256 and authorization', async () => {
    const signed = await signer().sign({
      method: 'POST',
      url: 'https://kinesisvideo.us-west-2.amazonaws.com/describeStream',
      headers: { 'Content-Type': 'application/json', 'X-Custom': ' a   b ' },
      body: '{"StreamName":"s"}',
    })
    expect(Object.keys(signed.headers).sort()).toEqual([
      'authorization',
      'content-type',
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-custom',
    ])
    expect(signed.headers).toMatchObject({
      host: 'kinesisvideo.us-west-2.amazonaws.com',
      'x-amz-date': '20230228T195018Z',
      'x-amz-content-sha256': sha256('{"StreamName":"s"}'),
      'x-custom': ' a   b ',
    })
    expect(signed.steps).toMatchObject({
      amzDate: '20230228T195018Z',
      credentialScope: '20230228/us-west-2/kinesisvideo/aws4_request',
      signedHeaders: 'content-type;host;x-amz-content-sha256;x-amz-date;x-custom',
    })
    expect(signed.steps.canonicalRequest).toContain('\nx-custom:a b\n')
    expect(signed.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230228/us-west-2/kinesisvideo/aws4_request, SignedHeaders=${signed.steps.signedHeaders}, Signature=${signed.steps.signature}`,
    )
  })

  test('adds and signs x-amz-security-token when the credentials carry a session token', async () => {
    const signed = await signer({ credentials: { ...CREDENTIALS, sessionToken: 'token/+=' } }).sign({
      method: 'POST',
      url: 'https://example.com/',
    })
    expect(signed.headers['x-amz-security-token']).toBe('token/+=')
    expect(signed.steps.signedHeaders).toBe('host;x-amz-content-sha256;x-amz-date;x-amz-security-token')
  })

  test('drops hop-by-hop headers from the result and never signs them', async () => {
    const signed = await signer().sign({
      method: 'POST',
      url: 'https://example.com/',
      headers: { ...HOP_BY_HOP, 'x-kept': '1' },
    })
    for (const name of Object.keys(HOP_BY_HOP)) {
      expect(signed.headers).not.toHaveProperty(name.toLowerCase())
      expect(signed.steps.signedHeaders.split(';')).not.toContain(name.toLowerCase())
    }
    expect(signed.steps.signedHeaders).toBe('host;x-amz-content-sha256;x-amz-date;x-kept')
  })

  test('sends user-agent unsigned, as @smithy/signature-v4 does', async () => {
    const signed = await signer().sign({
      method: 'POST',
      url: 'https://example.com/',
      headers: { 'User-Agent': 'x' },
    })
    expect(signed.headers['user-agent']).toBe('x')
    expect(signed.steps.signedHeaders).not.toContain('user-agent')
  })

  test('signs content-length and hashes a Uint8Array body', async () => {
    const body = new Uint8Array([0, 1, 2, 255])
    const signed = await signer().sign({
      method: 'PUT',
      url: 'https://example.com/x',
      headers: { 'Content-Length': '4' },
      body,
    })
    expect(signed.steps.signedHeaders).toBe('content-length;host;x-amz-content-sha256;x-amz-date')
    expect(signed.steps.canonicalRequest.split('\n').at(-1)).toBe(sha256(body))
  })

  test('with unsignedPayload uses UNSIGNED-PAYLOAD in x-amz-content-sha256 and the canonical request', async () => {
    const signed = await signer().sign({
      method: 'POST',
      url: 'https://example.com/',
      body: 'ignored',
      unsignedPayload: true,
    })
    expect(signed.headers['x-amz-content-sha256']).toBe(UNSIGNED_PAYLOAD)
    expect(signed.steps.canonicalRequest.split('\n').at(-1)).toBe(UNSIGNED_PAYLOAD)
  })

  test('takes host (with a non-default port) from the URL unless the caller sets it', async () => {
    const fromUrl = await signer().sign({ method: 'POST', url: new URL('http://127.0.0.1:4567/putMedia') })
    expect(fromUrl.headers.host).toBe('127.0.0.1:4567')
    const defaultPort = await signer().sign({ method: 'POST', url: 'https://example.com:443/' })
    expect(defaultPort.headers.host).toBe('example.com')
    const explicit = await signer().sign({
      method: 'POST',
      url: 'http://127.0.0.1:4567/putMedia',
      headers: { Host: 'kvs.local' },
    })
    expect(explicit.headers.host).toBe('kvs.local')
  })

  test('upper-cases the standard methods as fetch does', async () => {
    const signed = await signer().sign({ method: 'post', url: 'https://example.com/' })
    expect(signed.steps.canonicalRequest.startsWith('POST\n')).toBe(true)
  })

  test('drops the milliseconds of the clock from x-amz-date', async () => {
    const signed = await signer({ clock: () => Date.UTC(2024, 0, 1, 0, 0, 0, 999) }).sign({
      method: 'GET',
      url: 'https://example.com/',
    })
    expect(signed.headers['x-amz-date']).toBe('20240101T000000Z')
  })

  test('joins header names that differ only in case with a comma', async () => {
    const signed = await signer().sign({
      method: 'GET',
      url: 'https://example.com/',
      headers: { 'X-A': '1', 'x-a': '2' },
    })
    expect(signed.headers['x-a']).toBe('1,2')
  })

  test('rejects with a TypeError for a bad URL, method, header value or body', async () => {
    const kvs = signer()
    await expect(kvs.sign({ method: 'POST', url: '/putMedia' })).rejects.toThrow(
      /^request.url must be an absolute URL/,
    )
    await expect(kvs.sign({ method: 'PO ST', url: 'https://example.com/' })).rejects.toThrow(
      /^request.method must be/,
    )
    await expect(
      kvs.sign({ method: 'POST', url: 'https://example.com/', headers: { a: 1 as unknown as string } }),
    ).rejects.toThrow('request.headers["a"] must be a string, got 1')
    await expect(
      kvs.sign({ method: 'POST', url: 'https://example.com/', body: 5 as unknown as string }),
    ).rejects.toThrow(TypeError)
    await expect(
      signer({ clock: () => Number.NaN }).sign({ method: 'GET', url: 'https://example.com/' }),
    ).rejects.toThrow(/^clock\(\) must be/)
  })
})

describe('signPutMedia', () => {
  test('signs POST with UNSIGNED-PAYLOAD, drops transfer-encoding/connection/expect and sends content-length unsigned', async () => {
    const signed = await signer().signPutMedia({
      url: 'https://s-1.kinesisvideo.us-west-2.amazonaws.com/putMedia',
      headers: { ...HOP_BY_HOP, 'Content-Length': '1000', 'x-amzn-stream-name': 's' },
    })
    expect(signed.steps.canonicalRequest.startsWith('POST\n/putMedia\n\n')).toBe(true)
    expect(signed.headers['x-amz-content-sha256']).toBe(UNSIGNED_PAYLOAD)
    expect(signed.headers['content-length']).toBe('1000')
    expect(signed.headers).not.toHaveProperty('transfer-encoding')
    expect(signed.headers).not.toHaveProperty('connection')
    expect(signed.headers).not.toHaveProperty('expect')
    expect(signed.steps.signedHeaders).toBe('host;x-amz-content-sha256;x-amz-date;x-amzn-stream-name')
  })
})

describe('signJson', () => {
  test('adds content-type application/json and signs the body hash', async () => {
    const body = '{"StreamName":"s","APIName":"GET_MEDIA"}'
    const signed = await signer().signJson({
      url: 'https://kinesisvideo.us-west-2.amazonaws.com/getDataEndpoint',
      body,
    })
    expect(signed.headers['content-type']).toBe('application/json')
    expect(signed.headers['x-amz-content-sha256']).toBe(sha256(body))
    expect(signed.steps.signedHeaders).toBe('content-type;host;x-amz-content-sha256;x-amz-date')
    expect(signed.steps.canonicalRequest.split('\n').at(-1)).toBe(sha256(body))
  })

  test("keeps the caller's content-type whatever its case", async () => {
    const signed = await signer().signJson({
      url: 'https://example.com/getMedia',
      body: '{}',
      headers: { 'Content-Type': 'application/x-amz-json-1.1' },
    })
    expect(signed.headers['content-type']).toBe('application/x-amz-json-1.1')
  })

  test('rejects a body that is not a string', async () => {
    await expect(
      signer().signJson({ url: 'https://example.com/', body: { a: 1 } as unknown as string }),
    ).rejects.toThrow(/^request.body must be a JSON string/)
  })
})

describe('sign and verifyRequest agree', () => {
  const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/)
  const headerValue = fc.stringMatching(/^[!-~]([ \t]{0,3}[!-~]){0,8}$/)
  const segment = fc.string({ unit: 'grapheme', maxLength: 6 })
  const queryPart = fc.string({ unit: 'grapheme-ascii', maxLength: 6 })

  test('any request the signer signs verifies, and fails once its body changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(token, headerValue, { maxKeys: 5 }),
        fc.array(segment, { maxLength: 4 }),
        fc.array(fc.tuple(queryPart, queryPart), { maxLength: 4 }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        fc.option(fc.constantFrom('token', 'to/ken+='), { nil: undefined }),
        async (headers, segments, query, body, sessionToken) => {
          const url = new URL('https://kinesisvideo.us-west-2.amazonaws.com/')
          url.pathname = `/${segments.join('/')}`
          for (const [name, value] of query) url.searchParams.append(name, value)
          const kvs = signer({ credentials: { ...CREDENTIALS, ...(sessionToken ? { sessionToken } : {}) } })
          const signed = await kvs.sign({
            method: 'POST',
            url,
            headers,
            ...(body === undefined ? {} : { body }),
          })
          const input = { method: 'POST', path: url.pathname + url.search, headers: signed.headers }
          const options = { lookupSecret: () => CREDENTIALS.secretAccessKey, now: NOW, region: 'us-west-2' }
          expect(verifyRequestSync({ ...input, body: body ?? '' }, options)).toMatchObject({ ok: true })
          expect(verifyRequestSync({ ...input, body: `${body ?? ''}!` }, options)).toMatchObject({
            ok: false,
          })
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('steps come from @smithy/signature-v4', () => {
  const request = {
    method: 'POST',
    protocol: 'https:',
    hostname: 'example.com',
    path: '/putMedia',
    query: {},
    headers: { host: 'example.com', 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
  }
  const options = { credentials: CREDENTIALS, region: 'us-west-2', service: 'kinesisvideo', epochMs: NOW }

  test("smithy's canonical request and string to sign are recorded through its hooks", async () => {
    const smithy = new RecordingSignatureV4({ ...options, sha256: Sha256 })
    await smithy.sign(request, { signingDate: new Date(NOW) })
    expect(smithy.recordedCanonicalRequest).toMatch(/^POST\n\/putMedia\n/)
    expect(smithy.recordedStringToSign).toMatch(/^AWS4-HMAC-SHA256\n20230228T195018Z\n/)
    const recorded = await signHttpRequest(request, options)
    const recomputed = await signHttpRequest(request, { ...options, useSmithyIntermediates: false })
    expect(recorded).toEqual(recomputed)
  })

  test('signing computes the canonical request once; the recomputing mode checks it against the step functions', async () => {
    // SignatureV4Base.prototype: where smithy's own createCanonicalRequest lives.
    const hooks = Object.getPrototypeOf(Object.getPrototypeOf(RecordingSignatureV4.prototype)) as {
      createCanonicalRequest(...args: unknown[]): string
    }
    const original = hooks.createCanonicalRequest
    const spy = vi.spyOn(hooks, 'createCanonicalRequest').mockImplementation(function (
      this: unknown,
      ...args
    ) {
      return `${original.apply(this, args)}\ntampered`
    })
    try {
      // Default: smithy's canonical request is taken as it is, built once (no second canonicalisation to compare).
      const signed = await signHttpRequest(request, options)
      expect(spy).toHaveBeenCalledTimes(1)
      expect(signed.steps.canonicalRequest).toMatch(/\ntampered$/)
      // Verification mode: every step recomputed, and smithy's (tampered) signature no longer matches them.
      const error = await signHttpRequest(request, { ...options, useSmithyIntermediates: false }).catch(
        (caught) => caught,
      )
      expect(KvsSignerError.is(error)).toBe(true)
      expect(error).toMatchObject({ code: 'ERR_KVS_SIGNER_INCONSISTENT' })
    } finally {
      spy.mockRestore()
    }
  })
})
