import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The AWS SigV4 test suite (aws-c-auth `tests/aws-signing-test-suite/v4`), see `fixtures/SOURCES.md`. */
export const SIGV4_FIXTURES = fileURLToPath(new URL('../../../fixtures/sigv4/v4/', import.meta.url))

/** One raw HTTP/1.1 request as written in `request.txt` / `header-signed-request.txt`. */
export interface RawRequest {
  method: string
  /** Request target exactly as written (may hold a raw space or UTF-8, which no real client sends). */
  target: string
  /** Lower-case names; a header written several times keeps all its values in order. */
  headers: Record<string, string[]>
  body: string | undefined
}

export interface SigV4Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string }
  normalize: boolean
  region: string
  service: string
  sign_body: boolean
  timestamp: string
  omit_session_token?: boolean
}

export interface SigV4Case {
  name: string
  context: SigV4Context
  request: RawRequest
  signedRequest: RawRequest
  canonicalRequest: string
  stringToSign: string
  signature: string
  /** The `Authorization` value of `header-signed-request.txt`. */
  authorization: string
}

/** Parses a raw request; continuation lines (obs-fold) are kept in the value with their line break. */
export function parseRawRequest(text: string): RawRequest {
  const headerEnd = text.indexOf('\n\n')
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd)
  const body = headerEnd === -1 ? undefined : text.slice(headerEnd + 2)
  const [requestLine = '', ...lines] = head.split('\n')
  const method = requestLine.slice(0, requestLine.indexOf(' '))
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' '))
  const headers: Record<string, string[]> = {}
  let last: string[] | undefined
  for (const line of lines) {
    if (line === '') continue
    if (/^[ \t]/.test(line) && last !== undefined) {
      last[last.length - 1] += `\n${line}`
      continue
    }
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).toLowerCase()
    last = headers[name] ??= []
    last.push(line.slice(colon + 1))
  }
  return { method, target, headers, body: body === '' ? undefined : body }
}

function read(name: string, file: string): string {
  return readFileSync(`${SIGV4_FIXTURES}${name}/${file}`, 'utf8')
}

/** Every case of the suite, by folder name. */
export function loadSigV4Cases(): SigV4Case[] {
  return readdirSync(SIGV4_FIXTURES)
    .sort()
    .map((name) => {
      const signedRequest = parseRawRequest(read(name, 'header-signed-request.txt'))
      return {
        name,
        context: JSON.parse(read(name, 'context.json')) as SigV4Context,
        request: parseRawRequest(read(name, 'request.txt')),
        signedRequest,
        canonicalRequest: read(name, 'header-canonical-request.txt'),
        stringToSign: read(name, 'header-string-to-sign.txt'),
        signature: read(name, 'header-signature.txt').trim(),
        authorization: signedRequest.headers.authorization![0]!,
      }
    })
}

/** Headers for a signer: repeated headers joined with `,` as HTTP combines them. */
export function joinedHeaders(request: RawRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).map(([name, values]) => [name, values.join(',')]))
}
