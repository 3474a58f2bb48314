import { describe, expect, test } from 'vitest'
import { formatAmzDate, parseAmzDate } from '../src/amz-date.ts'
import { formatAuthorization, parseAuthorization } from '../src/authorization.ts'
import { canonicalHeaderValue, isSignableHeader, selectSignedHeaders } from '../src/canonical-headers.ts'
import { canonicalPath } from '../src/canonical-path.ts'
import { canonicalQuery } from '../src/canonical-query.ts'
import { createCanonicalRequest } from '../src/canonical-request.ts'
import { createCredentialScope } from '../src/credential-scope.ts'
import { escapeUri } from '../src/escape-uri.ts'
import { parseQuery } from '../src/parse-query.ts'
import { computeSignature } from '../src/signature.ts'
import { deriveSigningKey } from '../src/signing-key.ts'
import { createStringToSign } from '../src/string-to-sign.ts'
import { timingSafeEqual } from '../src/timing-safe-equal.ts'

describe('escapeUri', () => {
  test('keeps only the unreserved characters and encodes UTF-8', () => {
    expect(escapeUri("-._~azAZ09 !'()*/+=&ሴ")).toBe('-._~azAZ09%20%21%27%28%29%2A%2F%2B%3D%26%E1%88%B4')
  })
})

describe('canonicalPath', () => {
  test.each([
    ['/', '/'],
    ['', ''],
    ['/putMedia', '/putMedia'],
    ['//example//', '/example/'],
    ['/example/..', '/'],
    ['/a/./b/../c/', '/a/c/'],
    ['/a%20b', '/a%2520b'],
    ['/ሴ', '/%E1%88%B4'],
  ])('normalises and re-encodes %j as %j', (path, expected) => {
    expect(canonicalPath(path)).toBe(expected)
  })

  test('leaves the path verbatim without normalisation (S3 style)', () => {
    expect(canonicalPath('//a/../b%20', false)).toBe('//a/../b%20')
  })
})

describe('parseQuery and canonicalQuery', () => {
  test('decode names and values, keep + literal and malformed escapes, list repeated names', () => {
    expect({ ...parseQuery('?a=1&b=x+y&c=%zz&a=2&d&&e=%E1%88%B4') }).toEqual({
      a: ['1', '2'],
      b: 'x+y',
      c: '%zz',
      d: '',
      e: 'ሴ',
    })
    expect({ ...parseQuery('') }).toEqual({})
  })

  test('sort by encoded name, then repeated values by encoded pair, and leave out X-Amz-Signature', () => {
    expect(canonicalQuery(parseQuery('b=2&a=z&a=y&%E1%88%B4=1&X-Amz-Signature=abc&c=x+y&Z=1'))).toBe(
      '%E1%88%B4=1&Z=1&a=y&a=z&b=2&c=x%2By',
    )
  })
})

describe('canonical headers', () => {
  test('canonicalHeaderValue trims, collapses spaces and tabs, folds lines and joins lists with commas', () => {
    expect(canonicalHeaderValue('  a \t  b  ')).toBe('a b')
    expect(canonicalHeaderValue('value1\n  value2\r\n\tvalue3')).toBe('value1 value2 value3')
    expect(canonicalHeaderValue([' x ', 'y  z'])).toBe('x,y z')
  })

  test('hop-by-hop, user-agent, authorization, proxy-* and sec-* are never signable', () => {
    for (const name of [
      'connection',
      'transfer-encoding',
      'expect',
      'user-agent',
      'authorization',
      'proxy-x',
      'sec-fetch-mode',
    ]) {
      expect(isSignableHeader(name)).toBe(false)
    }
    expect(isSignableHeader('content-length')).toBe(true)
    expect(isSignableHeader('content-length', new Set(['content-length']))).toBe(false)
    expect(selectSignedHeaders({ 'x-b': '', host: '', 'x-a': '', te: '' })).toEqual(['host', 'x-a', 'x-b'])
  })
})

describe('the remaining steps', () => {
  test('reproduce the get-vanilla case of the AWS SigV4 suite one step at a time', () => {
    const canonicalRequest = createCanonicalRequest({
      method: 'GET',
      path: '/',
      query: '',
      headers: [
        ['host', 'example.amazonaws.com'],
        ['x-amz-date', '20150830T123600Z'],
      ],
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    })
    expect(canonicalRequest).toBe(
      'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    const scope = createCredentialScope('20150830', 'us-east-1', 'service')
    const stringToSign = createStringToSign('20150830T123600Z', scope, canonicalRequest)
    expect(stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
    )
    const key = deriveSigningKey(
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20150830',
      'us-east-1',
      'service',
    )
    expect(computeSignature(key, stringToSign)).toBe(
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    )
    expect(
      deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'service'),
    ).toBe(key)
  })

  test('formatAmzDate drops milliseconds; parseAmzDate accepts only valid basic-format instants', () => {
    expect(formatAmzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 999))).toEqual({
      amzDate: '20150830T123600Z',
      shortDate: '20150830',
    })
    expect(parseAmzDate('20150830T123600Z')).toBe(Date.UTC(2015, 7, 30, 12, 36))
    for (const bad of [
      '20150830T123600',
      '2015-08-30T12:36:00Z',
      '20150230T123600Z',
      '20150830T246000Z',
      '',
    ]) {
      expect(parseAmzDate(bad)).toBeUndefined()
    }
  })

  test('formatAuthorization and parseAuthorization round-trip', () => {
    const header = formatAuthorization({
      accessKeyId: 'AKID',
      credentialScope: '20150830/us-east-1/service/aws4_request',
      signedHeaders: 'host;x-amz-date',
      signature: 'abc',
    })
    expect(header).toBe(
      'AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
    )
    expect(parseAuthorization(header)).toEqual({
      accessKeyId: 'AKID',
      shortDate: '20150830',
      region: 'us-east-1',
      service: 'service',
      terminator: 'aws4_request',
      signedHeaders: 'host;x-amz-date',
      signature: 'abc',
    })
    expect(parseAuthorization(header.replaceAll(', ', ','))).toMatchObject({ signature: 'abc' })
    expect(parseAuthorization('AWS4-HMAC-SHA256')).toHaveProperty('error')
    expect(parseAuthorization('Basic dXNlcjpwYXNz')).toHaveProperty('error')
  })

  test('timingSafeEqual compares whole strings', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true)
    expect(timingSafeEqual('abc', 'abd')).toBe(false)
    expect(timingSafeEqual('abc', 'ab')).toBe(false)
  })
})
