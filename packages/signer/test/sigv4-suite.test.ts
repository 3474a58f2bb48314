import { createHash, createHmac } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { canonicalPath } from '../src/canonical-path.ts'
import { escapeUri } from '../src/escape-uri.ts'
import { createKvsSigner, verifyRequest } from '../src/index.ts'
import { parseQuery } from '../src/parse-query.ts'
import { signHttpRequest } from '../src/sign-http-request.ts'
import type { SigningSteps } from '../src/signing-steps.ts'
import { joinedHeaders, loadSigV4Cases, type SigV4Case } from './sigv4-fixtures.ts'

const cases = loadSigV4Cases()
const byName = new Map(cases.map((item) => [item.name, item]))

/**
 * Cases that `KvsSigner.sign()` cannot express, because it takes a WHATWG URL and always normalises the path (as
 * every AWS service except S3 requires). They all run through the signing core in the first table.
 */
const NOT_EXPRESSIBLE_AS_URL: Record<string, string> = {
  'get-relative-relative-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-relative-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-slash-dot-slash-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-slash-pointless-dot-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-slash-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-slashes-unnormalized': 'normalize=false (S3 style): the signer always normalises paths',
  'get-space-unnormalized':
    'normalize=false, and a raw space in the path: a URL sends it as %20, which AWS signs double-encoded',
  'get-space-normalized':
    'a raw space in the path: a URL sends it as %20, which AWS signs double-encoded (%2520)',
  'get-utf8': 'raw UTF-8 in the path: a URL sends it percent-encoded, which AWS signs double-encoded',
}

/**
 * Signed requests that `verifyRequest` rejects: they were signed without path normalisation, and a KVS endpoint
 * (like every AWS service but S3) normalises the received path before checking the signature.
 */
const REJECTED_BY_NORMALISING_VERIFIER = [
  'get-relative-relative-unnormalized',
  'get-relative-unnormalized',
  'get-slash-dot-slash-unnormalized',
  'get-slash-pointless-dot-unnormalized',
  'get-slash-unnormalized',
  'get-slashes-unnormalized',
]

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'

function credentialsOf(item: SigV4Case) {
  const { access_key_id, secret_access_key, token } = item.context.credentials
  // `omit_session_token`: the token is sent but not signed, i.e. the request is signed as if there were none.
  const signToken = token !== undefined && item.context.omit_session_token !== true
  return {
    accessKeyId: access_key_id,
    secretAccessKey: secret_access_key,
    ...(signToken ? { sessionToken: token } : {}),
  }
}

function splitTarget(target: string): { path: string; search: string } {
  const question = target.indexOf('?')
  return question === -1
    ? { path: target, search: '' }
    : { path: target.slice(0, question), search: target.slice(question + 1) }
}

/** Re-derives the signature from the steps with node:crypto, independently of the package's hashing. */
function expectStepsToProduceSignature(steps: SigningSteps, secret: string) {
  const hash = createHash('sha256').update(steps.canonicalRequest).digest('hex')
  expect(steps.stringToSign).toBe(`AWS4-HMAC-SHA256\n${steps.amzDate}\n${steps.credentialScope}\n${hash}`)
  const [date, region, service, terminator] = steps.credentialScope.split('/') as [
    string,
    string,
    string,
    string,
  ]
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest()
  for (const part of [region, service, terminator]) key = createHmac('sha256', key).update(part).digest()
  expect(createHmac('sha256', key).update(steps.stringToSign).digest('hex')).toBe(steps.signature)
  expect(steps.signedHeaders).toBe(steps.canonicalRequest.split('\n').at(-2))
}

test('the suite has the 38 cases listed in fixtures/SOURCES.md', () => {
  expect(cases).toHaveLength(38)
})

describe('signing core (@smithy/signature-v4 plus the step functions) on the AWS SigV4 suite', () => {
  test.each(cases.map((item) => [item.name, item] as const))(
    '%s: canonical request, string to sign and signature match the suite (recorded and recomputed steps)',
    async (_name, item) => {
      // Both ways: steps recorded from smithy's hooks, and steps recomputed by the step functions.
      for (const useSmithyIntermediates of [true, false]) {
        const { path, search } = splitTarget(item.request.target)
        const signed = await signHttpRequest(
          {
            method: item.request.method,
            protocol: 'https:',
            hostname: item.request.headers.host![0]!,
            // S3 style (normalize=false) signs the path as sent, so it must be percent-encoded the way it is sent.
            path: item.context.normalize ? path : path.split('/').map(escapeUri).join('/'),
            query: parseQuery(search),
            headers: joinedHeaders(item.request),
            body: item.request.body,
          },
          {
            credentials: credentialsOf(item),
            region: item.context.region,
            service: item.context.service,
            epochMs: Date.parse(item.context.timestamp),
            applyChecksum: item.context.sign_body,
            normalizePath: item.context.normalize,
            useSmithyIntermediates,
          },
        )
        expect(signed.steps.canonicalRequest).toBe(item.canonicalRequest)
        expect(signed.steps.stringToSign).toBe(item.stringToSign)
        expect(signed.steps.signature).toBe(item.signature)
        expect(signed.headers.authorization).toBe(item.authorization)
        expectStepsToProduceSignature(signed.steps, item.context.credentials.secret_access_key)
      }
    },
  )
})

/** The suite's canonical request with the `x-amz-content-sha256` header the public signer always adds. */
function withPayloadHashHeader(canonicalRequest: string): string {
  const lines = canonicalRequest.split('\n')
  const payloadHash = lines.at(-1)!
  const blank = lines.indexOf('', 3)
  const headerLines = lines.slice(3, blank)
  if (headerLines.some((line) => line.startsWith('x-amz-content-sha256:'))) return canonicalRequest
  headerLines.push(`x-amz-content-sha256:${payloadHash}`)
  headerLines.sort()
  const names = headerLines.map((line) => line.slice(0, line.indexOf(':')))
  return [...lines.slice(0, 3), ...headerLines, '', names.join(';'), payloadHash].join('\n')
}

function urlOf(item: SigV4Case): string {
  return `https://${item.request.headers.host![0]}${item.request.target}`
}

function publicSigner(item: SigV4Case) {
  return createKvsSigner({
    region: item.context.region,
    service: item.context.service,
    credentials: credentialsOf(item),
    clock: () => Date.parse(item.context.timestamp),
  })
}

describe('KvsSigner.sign() with a URL on the AWS SigV4 suite', () => {
  const expressible = cases.filter((item) => !(item.name in NOT_EXPRESSIBLE_AS_URL))

  test('every case is either run through a URL or listed with the reason it cannot be', () => {
    expect(Object.keys(NOT_EXPRESSIBLE_AS_URL).every((name) => byName.has(name))).toBe(true)
    expect(expressible.length + Object.keys(NOT_EXPRESSIBLE_AS_URL).length).toBe(cases.length)
    expect(expressible).toHaveLength(29)
  })

  test.each(expressible.map((item) => [item.name, item] as const))(
    '%s: gives the suite canonical request plus the x-amz-content-sha256 header, and a consistent signature',
    async (_name, item) => {
      const signed = await publicSigner(item).sign({
        method: item.request.method,
        url: urlOf(item),
        headers: joinedHeaders(item.request),
        ...(item.request.body === undefined ? {} : { body: item.request.body }),
      })
      expect(signed.steps.canonicalRequest).toBe(withPayloadHashHeader(item.canonicalRequest))
      expect(signed.steps.stringToSign.split('\n').slice(0, 3)).toEqual(
        item.stringToSign.split('\n').slice(0, 3),
      )
      if (item.context.sign_body) expect(signed.steps.signature).toBe(item.signature)
      expectStepsToProduceSignature(signed.steps, SECRET)
      expect(signed.headers.authorization).toBe(
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${signed.steps.credentialScope}, SignedHeaders=${signed.steps.signedHeaders}, Signature=${signed.steps.signature}`,
      )
    },
  )

  test.each(Object.entries(NOT_EXPRESSIBLE_AS_URL))(
    '%s is not expressible as a URL (%s): the signed canonical path differs from the suite',
    async (name) => {
      const item = byName.get(name)!
      const signed = await publicSigner(item).sign({
        method: item.request.method,
        url: urlOf(item),
        headers: joinedHeaders(item.request),
      })
      const signedPath = signed.steps.canonicalRequest.split('\n')[1]
      expect(signedPath).not.toBe(item.canonicalRequest.split('\n')[1])
      // What is signed instead: the URL's own (percent-encoded, dot-free) path, normalised and encoded once more.
      expect(signedPath).toBe(canonicalPath(new URL(urlOf(item)).pathname))
    },
  )
})

describe('verifyRequest on the signed requests of the AWS SigV4 suite', () => {
  const verifyOptions = (item: SigV4Case) => ({
    lookupSecret: (id: string) => (id === 'AKIDEXAMPLE' ? SECRET : undefined),
    region: item.context.region,
    service: item.context.service,
    now: Date.parse(item.context.timestamp),
  })
  const inputOf = (item: SigV4Case, headers = item.signedRequest.headers) => ({
    method: item.signedRequest.method,
    path: item.signedRequest.target,
    headers,
    ...(item.signedRequest.body === undefined ? {} : { body: item.signedRequest.body }),
  })

  test('the only rejected cases are the listed unnormalised ones', () => {
    expect(
      REJECTED_BY_NORMALISING_VERIFIER.every((name) => byName.get(name)?.context.normalize === false),
    ).toBe(true)
  })

  test.each(cases.map((item) => [item.name, item] as const))(
    '%s: header-signed-request.txt verifies, or is rejected only when signed unnormalised',
    async (name, item) => {
      const result = await verifyRequest(inputOf(item), verifyOptions(item))
      if (REJECTED_BY_NORMALISING_VERIFIER.includes(name)) {
        expect(result).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' })
      } else {
        expect(result).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE', region: 'us-east-1' })
      }
    },
  )

  test.each(cases.map((item) => [item.name, item] as const))(
    '%s: a flipped signature byte gives InvalidSignatureException',
    async (_name, item) => {
      const authorization = item.authorization
      const last = authorization.at(-1)!
      const flipped = authorization.slice(0, -1) + (last === '0' ? '1' : '0')
      const result = await verifyRequest(
        inputOf(item, { ...item.signedRequest.headers, authorization: [flipped] }),
        verifyOptions(item),
      )
      expect(result).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' })
    },
  )
})
