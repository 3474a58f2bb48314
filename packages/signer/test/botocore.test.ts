import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { createKvsSigner, formatProducerStartTimestamp, type SignedRequest } from '../src/index.ts'

const SCRIPT = fileURLToPath(new URL('./botocore-sign.py', import.meta.url))

/**
 * The first Python with botocore: Debian's `/usr/bin/python3` (python3-botocore) preferred, then whatever
 * `python3`/`python` is on PATH. The cross-check fails, never skips, when there is none.
 */
function findPythonWithBotocore(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3', 'python']) {
    const probe = spawnSync(candidate, ['-c', 'import botocore.auth'], { encoding: 'utf8' })
    if (probe.status === 0) return candidate
  }
  return undefined
}

const python = findPythonWithBotocore()

interface BotocoreResult {
  headers: Record<string, string>
  canonicalRequest: string
  stringToSign: string
  botocoreVersion: string
}

function botocoreSign(request: Record<string, unknown>): BotocoreResult {
  if (python === undefined) {
    throw new Error(
      'No python3 with botocore found (tried /usr/bin/python3, python3, python): apt-get install python3-botocore',
    )
  }
  const run = spawnSync(python, [SCRIPT], { input: JSON.stringify(request), encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`botocore-sign.py failed (${run.status}): ${run.stderr}`)
  return JSON.parse(run.stdout) as BotocoreResult
}

/** 2023-02-28T19:50:18.005Z: the milliseconds must not reach x-amz-date. */
const NOW = Date.UTC(2023, 1, 28, 19, 50, 18, 5)
const TIMESTAMP = '2023-02-28T19:50:18Z'
const STATIC = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
}
const SESSION = {
  accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with+slashes==',
}

const PUT_MEDIA_HEADERS = {
  'x-amzn-stream-name': 'my-stream',
  'x-amzn-fragment-timecode-type': 'ABSOLUTE',
  'x-amzn-producer-start-timestamp': formatProducerStartTimestamp(NOW),
  'x-amzn-fragment-acknowledgment-required': '1',
  'User-Agent': 'AWS-SDK-KVS/3.0.0 kvs-streams',
  Accept: '*/*',
  'Content-Type': 'application/json',
  'Transfer-Encoding': 'chunked',
  Connection: 'keep-alive',
  Expect: '100-continue',
}

type Case = {
  name: string
  region: string
  sign: (signer: ReturnType<typeof createKvsSigner>) => Promise<SignedRequest>
  method: string
  url: string
  body?: string
}

const requests: Case[] = [
  {
    name: 'PutMedia to a data endpoint',
    region: 'ap-southeast-1',
    method: 'POST',
    url: 'https://s-670061c1.kinesisvideo.ap-southeast-1.amazonaws.com/putMedia',
    sign: (signer) =>
      signer.signPutMedia({
        url: 'https://s-670061c1.kinesisvideo.ap-southeast-1.amazonaws.com/putMedia',
        headers: PUT_MEDIA_HEADERS,
      }),
  },
  {
    name: 'PutMedia to the local emulator (http, explicit port)',
    region: 'us-east-1',
    method: 'POST',
    url: 'http://127.0.0.1:4567/putMedia',
    sign: (signer) =>
      signer.signPutMedia({ url: 'http://127.0.0.1:4567/putMedia', headers: PUT_MEDIA_HEADERS }),
  },
  {
    name: 'GetMedia (JSON body)',
    region: 'us-west-2',
    method: 'POST',
    url: 'https://s-4010bf70.kinesisvideo.us-west-2.amazonaws.com/getMedia',
    body: '{"StreamName":"my-stream","StartSelector":{"StartSelectorType":"NOW"}}',
    sign: (signer) =>
      signer.signJson({
        url: 'https://s-4010bf70.kinesisvideo.us-west-2.amazonaws.com/getMedia',
        body: '{"StreamName":"my-stream","StartSelector":{"StartSelectorType":"NOW"}}',
      }),
  },
  {
    name: 'GetDataEndpoint (JSON body, control plane)',
    region: 'us-west-2',
    method: 'POST',
    url: 'https://kinesisvideo.us-west-2.amazonaws.com/getDataEndpoint',
    body: '{"StreamName":"my-stream","APIName":"PUT_MEDIA"}',
    sign: (signer) =>
      signer.signJson({
        url: 'https://kinesisvideo.us-west-2.amazonaws.com/getDataEndpoint',
        body: '{"StreamName":"my-stream","APIName":"PUT_MEDIA"}',
        headers: { 'User-Agent': 'kvs-streams' },
      }),
  },
  {
    name: 'a generic request with a query string',
    region: 'eu-west-1',
    method: 'POST',
    url: 'https://kinesisvideo.eu-west-1.amazonaws.com/listStreams?b=2&a=x%20y&a=w',
    body: '{}',
    sign: (signer) =>
      signer.sign({
        method: 'POST',
        url: 'https://kinesisvideo.eu-west-1.amazonaws.com/listStreams?b=2&a=x%20y&a=w',
        headers: { 'content-type': 'application/json' },
        body: new TextEncoder().encode('{}'),
      }),
  },
]

const matrix = requests.flatMap((request) => [
  { ...request, credentials: STATIC, label: `${request.name}, without session token` },
  { ...request, credentials: SESSION, label: `${request.name}, with session token` },
])

describe('cross-check with botocore SigV4Auth (an independent signer)', () => {
  test('a python with botocore is available (the cross-check fails rather than skips without one)', () => {
    expect(python, 'install python3-botocore (Debian) or botocore for python3').toBeDefined()
    expect(
      botocoreSign({
        method: 'GET',
        url: 'https://example.com/',
        headers: {},
        region: 'us-east-1',
        service: 'kinesisvideo',
        timestamp: TIMESTAMP,
        credentials: STATIC,
      }).botocoreVersion,
    ).toMatch(/^1\./)
  })

  test.each(matrix.map((item) => [item.label, item] as const))(
    '%s: same Authorization, canonical request and string to sign',
    async (_label, item) => {
      const signer = createKvsSigner({ region: item.region, credentials: item.credentials, clock: () => NOW })
      const ours = await item.sign(signer)
      const isJson = item.body !== undefined
      const generated = new Set(['authorization', 'x-amz-date', 'x-amz-security-token'])
      if (isJson) generated.add('x-amz-content-sha256')
      const botocore = botocoreSign({
        method: item.method,
        url: item.url,
        headers: Object.fromEntries(Object.entries(ours.headers).filter(([name]) => !generated.has(name))),
        ...(isJson ? { body: item.body, contentSha256Header: true } : {}),
        region: item.region,
        service: 'kinesisvideo',
        timestamp: TIMESTAMP,
        credentials: item.credentials,
      })
      expect(ours.steps.canonicalRequest).toBe(botocore.canonicalRequest)
      expect(ours.steps.stringToSign).toBe(botocore.stringToSign)
      expect(ours.headers.authorization).toBe(botocore.headers.authorization)
      const expectedAdded: Record<string, string> = {
        authorization: ours.headers.authorization!,
        'x-amz-date': '20230228T195018Z',
      }
      const { sessionToken } = item.credentials as { sessionToken?: string }
      if (sessionToken !== undefined) expectedAdded['x-amz-security-token'] = sessionToken
      if (isJson) expectedAdded['x-amz-content-sha256'] = ours.headers['x-amz-content-sha256']!
      expect(botocore.headers).toEqual(expectedAdded)
      for (const [name, value] of Object.entries(expectedAdded)) expect(ours.headers[name]).toBe(value)
    },
  )

  test('PutMedia signs the x-amzn headers, host, date and UNSIGNED-PAYLOAD, never user-agent or hop-by-hop headers', async () => {
    const signer = createKvsSigner({ region: 'us-east-1', credentials: SESSION, clock: () => NOW })
    const signed = await signer.signPutMedia({
      url: 'http://127.0.0.1:4567/putMedia',
      headers: PUT_MEDIA_HEADERS,
    })
    expect(signed.steps.signedHeaders).toBe(
      'accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amzn-fragment-acknowledgment-required;x-amzn-fragment-timecode-type;x-amzn-producer-start-timestamp;x-amzn-stream-name',
    )
    expect(signed.steps.canonicalRequest.split('\n').at(-1)).toBe('UNSIGNED-PAYLOAD')
  })
})
