import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createKvsSigner,
  type SignedRequest,
  STREAMING_PAYLOAD,
  type VerifyOptions,
  type VerifyRequestInput,
  verifyRequest,
  verifyRequestSync,
} from '../src/index.ts'
import { signHttpRequest } from '../src/sign-http-request.ts'

const NOW = Date.UTC(2023, 1, 28, 19, 50, 18)
const MINUTE = 60_000
const SECRETS: Record<string, string> = { AKIDEXAMPLE: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const OPTIONS: VerifyOptions = { lookupSecret: (id) => SECRETS[id], region: 'us-west-2', now: NOW }
const URL_PUT_MEDIA = 'http://127.0.0.1:4567/putMedia'

function signer(sessionToken?: string) {
  return createKvsSigner({
    region: 'us-west-2',
    credentials: {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: SECRETS.AKIDEXAMPLE!,
      ...(sessionToken ? { sessionToken } : {}),
    },
    clock: () => NOW,
  })
}

async function putMedia(): Promise<SignedRequest> {
  return signer().signPutMedia({
    url: URL_PUT_MEDIA,
    headers: {
      'x-amzn-stream-name': 'my-stream',
      'x-amzn-fragment-timecode-type': 'ABSOLUTE',
      'user-agent': 'test',
    },
  })
}

function inputOf(signed: SignedRequest, overrides: Partial<VerifyRequestInput> = {}): VerifyRequestInput {
  return { method: 'POST', path: '/putMedia', headers: { ...signed.headers }, ...overrides }
}

function replaceAuthorization(signed: SignedRequest, from: string | RegExp, to: string): VerifyRequestInput {
  return inputOf(signed, {
    headers: { ...signed.headers, authorization: signed.headers.authorization!.replace(from, to) },
  })
}

describe('verifyRequest accepts', () => {
  test('a PutMedia request without its body (UNSIGNED-PAYLOAD used verbatim)', async () => {
    expect(await verifyRequest(inputOf(await putMedia()), OPTIONS)).toEqual({
      ok: true,
      accessKeyId: 'AKIDEXAMPLE',
      region: 'us-west-2',
    })
  })

  test('UNSIGNED-PAYLOAD even when a body is given', async () => {
    expect(verifyRequestSync(inputOf(await putMedia(), { body: 'mkv bytes' }), OPTIONS)).toMatchObject({
      ok: true,
    })
  })

  test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD verbatim (AWS SDK for Java v1 PutMedia)', async () => {
    const signed = await signer().sign({
      method: 'POST',
      url: URL_PUT_MEDIA,
      headers: { 'x-amz-content-sha256': STREAMING_PAYLOAD },
    })
    expect(signed.steps.canonicalRequest.endsWith(`\n${STREAMING_PAYLOAD}`)).toBe(true)
    expect(verifyRequestSync(inputOf(signed), OPTIONS)).toMatchObject({ ok: true })
    expect(verifyRequestSync(inputOf(signed, { body: new Uint8Array([1, 2]) }), OPTIONS)).toMatchObject({
      ok: true,
    })
  })

  test('a request without x-amz-content-sha256 signed over the empty body (producer-c style)', async () => {
    const signed = await signHttpRequest(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4567,
        path: '/putMedia',
        query: {},
        headers: { host: '127.0.0.1:4567', 'x-amzn-stream-name': 's' },
      },
      {
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRETS.AKIDEXAMPLE! },
        region: 'us-west-2',
        service: 'kinesisvideo',
        epochMs: NOW,
        applyChecksum: false,
      },
    )
    expect(signed.headers).not.toHaveProperty('x-amz-content-sha256')
    expect(verifyRequestSync(inputOf(signed), OPTIONS)).toMatchObject({ ok: true })
  })

  test('a JSON request whose body matches its hash', async () => {
    const body = '{"StreamName":"my-stream","StartSelector":{"StartSelectorType":"NOW"}}'
    const signed = await signer().signJson({ url: 'http://127.0.0.1:4567/getMedia', body })
    const input = inputOf(signed, { path: '/getMedia', body: new TextEncoder().encode(body) })
    expect(verifyRequestSync(input, OPTIONS)).toMatchObject({ ok: true })
  })

  test('a signed session token without checking its value, and an unsigned one', async () => {
    const signed = await signer('session-token').signPutMedia({ url: URL_PUT_MEDIA, headers: {} })
    expect(signed.steps.signedHeaders).toContain('x-amz-security-token')
    expect(verifyRequestSync(inputOf(signed), OPTIONS)).toMatchObject({ ok: true })
    const unsigned = await putMedia()
    const input = inputOf(unsigned, { headers: { ...unsigned.headers, 'x-amz-security-token': 'anything' } })
    expect(verifyRequestSync(input, OPTIONS)).toMatchObject({ ok: true })
  })

  test('header lists (headersDistinct), mixed-case names and any region when none is required', async () => {
    const signed = await signer().sign({ method: 'POST', url: URL_PUT_MEDIA, headers: { 'x-multi': 'a,b' } })
    const headers: Record<string, string | string[]> = { ...signed.headers, 'x-multi': ['a', 'b'] }
    headers.Host = headers.host!
    delete headers.host
    expect(
      verifyRequestSync(inputOf(signed, { headers }), { lookupSecret: OPTIONS.lookupSecret, now: NOW }),
    ).toMatchObject({
      ok: true,
    })
  })

  test('a request signed up to maxSkewMs before or after now', async () => {
    const signed = await putMedia()
    for (const now of [NOW - 15 * MINUTE, NOW + 15 * MINUTE]) {
      expect(verifyRequestSync(inputOf(signed), { ...OPTIONS, now })).toMatchObject({ ok: true })
    }
  })
})

describe('verifyRequest rejects', () => {
  test('a request without Authorization: MissingAuthenticationToken', async () => {
    const signed = await putMedia()
    const { authorization: _, ...headers } = signed.headers
    expect(verifyRequestSync(inputOf(signed, { headers }), OPTIONS)).toEqual({
      ok: false,
      errorType: 'MissingAuthenticationToken',
      message: 'Missing Authentication Token',
    })
  })

  test.each([
    ['another algorithm', /^AWS4-HMAC-SHA256/, 'AWS4-ECDSA-P256-SHA256', "Unsupported AWS 'algorithm'"],
    ['no Signature', /, Signature=.*$/, '', "requires 'Signature' parameter"],
    ['no SignedHeaders', /SignedHeaders=[^,]*, /, '', "requires 'SignedHeaders' parameter"],
    ['a 4-part Credential', '/aws4_request', '', '5 slash-delimited elements'],
    ['upper-case SignedHeaders', 'SignedHeaders=host', 'SignedHeaders=Host', 'lower-case header names'],
  ])('a malformed Authorization (%s): IncompleteSignature', async (_name, from, to, message) => {
    const result = verifyRequestSync(replaceAuthorization(await putMedia(), from, to), OPTIONS)
    expect(result).toMatchObject({ ok: false, errorType: 'IncompleteSignature' })
    expect(result.ok === false && result.message).toContain(message)
  })

  test('a missing or malformed x-amz-date: IncompleteSignature', async () => {
    const signed = await putMedia()
    const { 'x-amz-date': _, ...withoutDate } = signed.headers
    expect(verifyRequestSync(inputOf(signed, { headers: withoutDate }), OPTIONS)).toMatchObject({
      errorType: 'IncompleteSignature',
    })
    for (const date of ['2023-02-28T19:50:18Z', '20230230T195018Z', '20230228T195018']) {
      const headers = { ...signed.headers, 'x-amz-date': date }
      expect(verifyRequestSync(inputOf(signed, { headers }), OPTIONS)).toMatchObject({
        errorType: 'IncompleteSignature',
      })
    }
  })

  test.each([
    ['a scope date other than x-amz-date', '/20230228/', '/20230227/', 'Date in Credential scope'],
    ['another service', '/kinesisvideo/', '/s3/', "scoped to correct service: 'kinesisvideo'"],
    ['another region than required', '/us-west-2/', '/eu-west-1/', 'scoped to a valid region'],
    ['another terminator', '/aws4_request', '/aws5_request', 'valid terminator'],
    ['host not signed', 'SignedHeaders=host;', 'SignedHeaders=', "'Host' or ':authority'"],
    ['a wrong signature', /Signature=\w{4}/, 'Signature=0000', 'does not match the signature you provided'],
  ])('%s: InvalidSignatureException', async (_name, from, to, message) => {
    const result = verifyRequestSync(replaceAuthorization(await putMedia(), from, to), OPTIONS)
    expect(result).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' })
    expect(result.ok === false && result.message).toContain(message)
  })

  test('a changed signed header, with the expected canonical request and string to sign in the message', async () => {
    const signed = await putMedia()
    const headers = { ...signed.headers, 'x-amzn-stream-name': 'other-stream' }
    const result = verifyRequestSync(inputOf(signed, { headers }), OPTIONS)
    expect(result).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' })
    expect(result.ok === false && result.message).toContain('x-amzn-stream-name:other-stream')
    expect(result.ok === false && result.message).toContain('The String-to-Sign should have been')
  })

  test('a changed path, method or query: InvalidSignatureException', async () => {
    const signed = await putMedia()
    for (const overrides of [{ path: '/getMedia' }, { method: 'PUT' }, { path: '/putMedia?x=1' }]) {
      expect(verifyRequestSync(inputOf(signed, overrides), OPTIONS)).toMatchObject({
        errorType: 'InvalidSignatureException',
      })
    }
  })

  test('a body that does not match x-amz-content-sha256: InvalidSignatureException', async () => {
    const signed = await signer().signJson({ url: 'http://127.0.0.1:4567/getMedia', body: '{}' })
    const result = verifyRequestSync(inputOf(signed, { path: '/getMedia', body: '{ }' }), OPTIONS)
    expect(result).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' })
    expect(result.ok === false && result.message).toContain("'x-amz-content-sha256'")
  })

  test('an unknown access key: UnrecognizedClientException', async () => {
    const result = verifyRequestSync(inputOf(await putMedia()), { ...OPTIONS, lookupSecret: () => undefined })
    expect(result).toMatchObject({ ok: false, errorType: 'UnrecognizedClientException' })
  })

  test('a malformed access key id: InvalidClientTokenId', async () => {
    const result = verifyRequestSync(
      replaceAuthorization(await putMedia(), 'AKIDEXAMPLE', 'AKID-EXAMPLE'),
      OPTIONS,
    )
    expect(result).toMatchObject({ ok: false, errorType: 'InvalidClientTokenId' })
  })

  test('a request signed more than maxSkewMs away from now: RequestExpired', async () => {
    const signed = await putMedia()
    const late = verifyRequestSync(inputOf(signed), { ...OPTIONS, now: NOW + 15 * MINUTE + 1000 })
    expect(late).toEqual({
      ok: false,
      errorType: 'RequestExpired',
      message:
        'Signature expired: 20230228T195018Z is now earlier than 20230228T195019Z (20230228T200519Z - 15 min.)',
    })
    const early = verifyRequestSync(inputOf(signed), { ...OPTIONS, now: NOW - 2000, maxSkewMs: 1000 })
    expect(early).toMatchObject({ ok: false, errorType: 'RequestExpired' })
    expect(early.ok === false && early.message).toContain('Signature not yet current')
  })

  test('bad input or options with a TypeError', () => {
    expect(() => verifyRequestSync({ method: 'POST', path: '/', headers: {} }, {} as VerifyOptions)).toThrow(
      /^options.lookupSecret must be a function/,
    )
    expect(() =>
      verifyRequestSync({ method: 'POST', headers: {} } as unknown as VerifyRequestInput, OPTIONS),
    ).toThrow(/^input.path must be a string/)
  })
})

describe('over real sockets: fetch (undici) to a node:http server that verifies', () => {
  let server: ReturnType<typeof createServer>
  let origin = ''
  const results: unknown[] = []

  async function readBody(request: IncomingMessage): Promise<Uint8Array> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const body = await readBody(request)
      const isPutMedia = request.url === '/putMedia'
      const result = await verifyRequest(
        {
          method: request.method!,
          path: request.url!,
          headers: request.headersDistinct,
          ...(isPutMedia ? {} : { body }),
        },
        { ...OPTIONS, now: NOW, region: 'us-west-2' },
      )
      results.push({ ...result, transferEncoding: request.headers['transfer-encoding'], bytes: body.length })
      response
        .writeHead(result.ok ? 200 : 403, { 'content-type': 'application/json' })
        .end(JSON.stringify(result))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.close()
    await once(server, 'close')
  })

  test('a chunked PutMedia upload and a JSON GetMedia request verify as sent', async () => {
    const put = await signer('token').signPutMedia({
      url: `${origin}/putMedia`,
      headers: {
        'x-amzn-stream-name': 's',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'user-agent': 'kvs',
      },
    })
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]))
        controller.enqueue(new Uint8Array(100))
        controller.close()
      },
    })
    const putResponse = await fetch(`${origin}/putMedia`, {
      method: 'POST',
      headers: put.headers,
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(await putResponse.json()).toMatchObject({ ok: true })

    const body = '{"StreamName":"s","StartSelector":{"StartSelectorType":"EARLIEST"}}'
    const get = await signer().signJson({ url: `${origin}/getMedia?x=a%20b`, body })
    const getResponse = await fetch(`${origin}/getMedia?x=a%20b`, {
      method: 'POST',
      headers: get.headers,
      body,
    })
    expect(await getResponse.json()).toMatchObject({ ok: true })
    expect(results).toMatchObject([
      { ok: true, transferEncoding: 'chunked', bytes: 104 },
      { ok: true, bytes: body.length },
    ])
  })
})
