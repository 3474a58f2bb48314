import { invalidOption } from '@kvs-streams/core'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import {
  CONTENT_SHA256_HEADER,
  DEFAULT_REFRESH_BEFORE_EXPIRY_MS,
  DEFAULT_SERVICE,
  HOP_BY_HOP_HEADERS,
  HOST_HEADER,
  UNSIGNED_PAYLOAD,
} from './constants.ts'
import { createCredentialsCache, isCredentialIdentity } from './credentials-cache.ts'
import { ERR_KVS_SIGNER_MISSING_REGION } from './errors.ts'
import { parseQuery } from './parse-query.ts'
import { type SignedRequest, signHttpRequest } from './sign-http-request.ts'

/** Options of `createKvsSigner`. */
export interface KvsSignerOptions {
  /** AWS region of the endpoint, e.g. `us-west-2`; goes into the credential scope. */
  region: string
  /**
   * Static credentials or a provider (`fromNodeProviderChain()`, `fromIni()`, `fromEnv()` from
   * `@aws-sdk/credential-providers` plug in directly). Provider results are cached, see `refreshBeforeExpiryMs`.
   */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider
  /** Current time in epoch milliseconds; default `Date.now`. Used for `x-amz-date` and credential expiry. */
  clock?: () => number
  /** Signing name; default `kinesisvideo` (control plane, media and archived media alike). */
  service?: string
  /** Refresh cached provider credentials this long before their `expiration`; default 5 minutes. */
  refreshBeforeExpiryMs?: number
}

/** An HTTP request for `KvsSigner.sign`. */
export interface RequestToSign {
  /** HTTP method, e.g. `POST`. The standard methods are upper-cased as `fetch` does. */
  method: string
  /** Full URL including path and query, e.g. `http://127.0.0.1:4567/putMedia`. */
  url: string | URL
  /** Headers to send (any case). Hop-by-hop headers (`connection`, `transfer-encoding`, `expect`, …) are dropped. */
  headers?: Record<string, string>
  /** Body, hashed with SHA-256 into the canonical request (unless `unsignedPayload`). */
  body?: string | Uint8Array
  /** Use the literal `UNSIGNED-PAYLOAD` as payload hash and send it in `x-amz-content-sha256`. */
  unsignedPayload?: boolean
}

/** A SigV4 signer for Kinesis Video Streams requests. */
export interface KvsSigner {
  readonly region: string
  readonly service: string
  /** Signs any request. The returned headers are everything to send, with lower-case names. */
  sign(request: RequestToSign): Promise<SignedRequest>
  /**
   * Signs a PutMedia request (`POST`, streaming body): payload `UNSIGNED-PAYLOAD`; `transfer-encoding`,
   * `connection` and `expect` are dropped and `content-length` is sent unsigned, so the HTTP client may frame
   * the body as it likes.
   */
  signPutMedia(request: { url: string | URL; headers: Record<string, string> }): Promise<SignedRequest>
  /** Signs a JSON `POST` (control plane, GetMedia, ListFragments…): `content-type: application/json`, body hashed. */
  signJson(request: {
    url: string | URL
    body: string
    headers?: Record<string, string>
  }): Promise<SignedRequest>
  /** The credentials the next request would be signed with (cached, refreshed before they expire). */
  credentials(): Promise<AwsCredentialIdentity>
  /**
   * Forgets cached provider credentials, so the next request is signed with credentials the provider gives
   * anew (asked with `{ forceRefresh: true }`): what the producer and `readStream` do after the service answered
   * `ExpiredTokenException`. No effect with static credentials. Optional, for signers made elsewhere.
   */
  refreshCredentials?(): void
}

/** Headers PutMedia sends without signing, on top of the hop-by-hop ones (chunked uploads have no length). */
const PUT_MEDIA_UNSIGNABLE_HEADERS: ReadonlySet<string> = new Set(['content-length'])

/** Methods `fetch` upper-cases (https://fetch.spec.whatwg.org/#concept-method-normalize). */
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'])

/**
 * Creates a SigV4 signer for Kinesis Video Streams. Signatures come from `@smithy/signature-v4`; every result
 * also carries the intermediate steps (canonical request, string to sign).
 * @throws {TypeError} on a bad option; a missing or empty `region` has `code: 'ERR_KVS_SIGNER_MISSING_REGION'`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
export function createKvsSigner(options: KvsSignerOptions): KvsSigner {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { region, credentials, clock = Date.now, service = DEFAULT_SERVICE } = options
  const refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? DEFAULT_REFRESH_BEFORE_EXPIRY_MS
  if (typeof region !== 'string' || region === '') {
    throw invalidOption('region', 'a non-empty string', region, ERR_KVS_SIGNER_MISSING_REGION)
  }
  if (!/^[^\s/]+$/.test(region)) throw invalidOption('region', 'a region name such as "us-west-2"', region)
  if (typeof credentials !== 'function' && !isCredentialIdentity(credentials)) {
    throw invalidOption(
      'credentials',
      '{ accessKeyId, secretAccessKey } strings (with an optional Date expiration) or a credentials provider function',
      credentials,
    )
  }
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  if (typeof service !== 'string' || !/^[^\s/]+$/.test(service)) {
    throw invalidOption('service', 'a non-empty signing name such as "kinesisvideo"', service)
  }
  if (
    typeof refreshBeforeExpiryMs !== 'number' ||
    !(refreshBeforeExpiryMs >= 0) ||
    refreshBeforeExpiryMs === Infinity
  ) {
    throw invalidOption(
      'refreshBeforeExpiryMs',
      'a finite number of milliseconds >= 0',
      refreshBeforeExpiryMs,
    )
  }
  const resolveCredentials = createCredentialsCache(credentials, { clock, refreshBeforeExpiryMs })

  async function signWith(
    request: RequestToSign,
    unsignableHeaders?: ReadonlySet<string>,
  ): Promise<SignedRequest> {
    if (typeof request !== 'object' || request === null) throw invalidOption('request', 'an object', request)
    const { method, body, unsignedPayload = false } = request
    if (typeof method !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) {
      throw invalidOption('request.method', 'an HTTP method such as "POST"', method)
    }
    const url = toUrl(request.url)
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      throw invalidOption('request.body', 'a string or a Uint8Array', body)
    }
    const headers = lowerCaseHeaders(request.headers)
    headers[HOST_HEADER] ??= url.host
    if (unsignedPayload) headers[CONTENT_SHA256_HEADER] = UNSIGNED_PAYLOAD
    const epochMs = clock()
    if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) {
      throw invalidOption('clock()', 'a finite number of epoch milliseconds', epochMs)
    }
    const upperMethod = method.toUpperCase()
    return signHttpRequest(
      {
        method: NORMALIZED_METHODS.has(upperMethod) ? upperMethod : method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query: parseQuery(url.search),
        headers,
        body: unsignedPayload ? undefined : body,
      },
      {
        credentials: await resolveCredentials(),
        region,
        service,
        epochMs,
        ...(unsignableHeaders === undefined ? {} : { unsignableHeaders }),
      },
    )
  }

  return {
    region,
    service,
    sign: (request) => signWith(request),
    signPutMedia: (request) =>
      signWith(
        { method: 'POST', url: request?.url, headers: request?.headers, unsignedPayload: true },
        PUT_MEDIA_UNSIGNABLE_HEADERS,
      ),
    async signJson(request) {
      if (typeof request?.body !== 'string')
        throw invalidOption('request.body', 'a JSON string', request?.body)
      const headers = lowerCaseHeaders(request.headers)
      headers['content-type'] ??= 'application/json'
      return signWith({ method: 'POST', url: request.url, headers, body: request.body })
    },
    credentials: () => resolveCredentials(),
    refreshCredentials: () => resolveCredentials.invalidate(),
  }
}

function toUrl(url: unknown): URL {
  if (url instanceof URL) return url
  if (typeof url === 'string' && URL.canParse(url)) return new URL(url)
  throw invalidOption('request.url', 'an absolute URL', url)
}

/**
 * Copies headers with lower-case names, dropping hop-by-hop ones; names that differ only in case are joined
 * with `,` as HTTP combines repeated fields.
 */
function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = Object.create(null)
  if (headers === undefined) return result
  if (typeof headers !== 'object' || headers === null)
    throw invalidOption('request.headers', 'an object', headers)
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string')
      throw invalidOption(`request.headers[${JSON.stringify(name)}]`, 'a string', value)
    const lowerName = name.toLowerCase()
    if (HOP_BY_HOP_HEADERS.has(lowerName)) continue
    const previous = result[lowerName]
    result[lowerName] = previous === undefined ? value : `${previous},${value}`
  }
  return result
}
