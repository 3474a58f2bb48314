import { Sha256 } from '@aws-crypto/sha256-js'
import type { AwsCredentialIdentity, HttpRequest } from '@smithy/types'
import { formatAmzDate } from './amz-date.ts'
import { formatAuthorization } from './authorization.ts'
import { selectSignedHeaders } from './canonical-headers.ts'
import { ALGORITHM, AUTHORIZATION_HEADER, CONTENT_SHA256_HEADER, EMPTY_PAYLOAD_SHA256 } from './constants.ts'
import { createCredentialScope } from './credential-scope.ts'
import { KvsSignerError } from './errors.ts'
import { sha256Hex } from './hash.ts'
import type { QueryParameters } from './parse-query.ts'
import { RecordingSignatureV4 } from './recording-signature-v4.ts'
import {
  canonicalRequestOf,
  computeSigningSteps,
  type SigningInput,
  type SigningSteps,
} from './signing-steps.ts'

/** A request taken apart the way `@smithy/signature-v4` wants it. */
export interface HttpRequestToSign {
  method: string
  /** `https:` or `http:`. */
  protocol: string
  hostname: string
  port?: number | undefined
  /** Path as sent, percent-encoded, without the query. */
  path: string
  query: QueryParameters
  /** Header values by lower-case name, `host` included. */
  headers: Record<string, string>
  body?: string | Uint8Array | undefined
}

export interface SignHttpRequestOptions {
  credentials: AwsCredentialIdentity
  region: string
  service: string
  /** Signing time, epoch milliseconds. */
  epochMs: number
  /** Add (and sign) `x-amz-content-sha256` with the payload hash when the caller did not set it; default `true`. */
  applyChecksum?: boolean
  /** Normalise and re-encode the path, as every service but S3 expects; default `true`. */
  normalizePath?: boolean
  /** Lower-case names of headers to send without signing them. */
  unsignableHeaders?: ReadonlySet<string>
  /**
   * Take the canonical request and string to sign from smithy (default `true`: SigV4 computed once); `false`
   * recomputes every step with the step functions and checks smithy's `Authorization` against them.
   */
  useSmithyIntermediates?: boolean
}

/** A signed request: the headers to send and how the signature was computed. */
export interface SignedRequest {
  /**
   * Every header to send, with lower-case names: the caller's headers (hop-by-hop ones removed), plus `host`,
   * `x-amz-date`, `x-amz-content-sha256`, `authorization` and, with a session token, `x-amz-security-token`.
   */
  headers: Record<string, string>
  /** The canonical request, string to sign and signature behind `headers.authorization`. */
  steps: SigningSteps
}

/**
 * Signs with `@smithy/signature-v4` and returns the headers with the steps behind them. By default the canonical
 * request and string to sign are the ones smithy built (recorded through its hooks): SigV4 is computed once, and
 * only the shape of the result is checked (the string to sign's scope, the `Authorization` prefix, a 64-digit
 * signature). With `useSmithyIntermediates: false`, or if the hooks are unavailable, every step is recomputed with
 * this package's step functions (the ones `verifyRequest` uses) and the resulting `Authorization` must equal
 * smithy's: the verification mode the tests run on the AWS SigV4 suite. A disagreement throws
 * `ERR_KVS_SIGNER_INCONSISTENT`.
 */
export async function signHttpRequest(
  request: HttpRequestToSign,
  options: SignHttpRequestOptions,
): Promise<SignedRequest> {
  const { credentials, region, service, epochMs } = options
  const normalizePath = options.normalizePath ?? true
  const smithy = new RecordingSignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
    uriEscapePath: normalizePath,
  })
  const signed = await smithy.sign(request as HttpRequest, {
    signingDate: new Date(epochMs),
    ...(options.unsignableHeaders === undefined
      ? {}
      : { unsignableHeaders: options.unsignableHeaders as Set<string> }),
  })
  const headers = signed.headers
  const authorization = headers[AUTHORIZATION_HEADER] ?? ''
  const signable: Record<string, string> = {}
  for (const name in headers) if (name !== AUTHORIZATION_HEADER) signable[name] = headers[name]!
  const { amzDate, shortDate } = formatAmzDate(epochMs)
  const input: SigningInput = {
    method: signed.method,
    path: signed.path,
    query: request.query,
    headers: signable,
    signedHeaderNames: selectSignedHeaders(signable, options.unsignableHeaders),
    payloadHash: payloadHash(signable, request.body),
    amzDate,
    region,
    service,
    secretAccessKey: credentials.secretAccessKey,
    normalizePath,
  }
  const credentialScope = createCredentialScope(shortDate, region, service)
  const signedHeaders = input.signedHeaderNames.join(';')
  const authorizationPrefix = formatAuthorization({
    accessKeyId: credentials.accessKeyId,
    credentialScope,
    signedHeaders,
    signature: '',
  })
  const { recordedCanonicalRequest, recordedStringToSign } = smithy
  let steps: SigningSteps
  let consistent: boolean
  if (
    (options.useSmithyIntermediates ?? true) &&
    recordedCanonicalRequest !== undefined &&
    recordedStringToSign !== undefined
  ) {
    const signature = authorization.slice(authorizationPrefix.length)
    steps = {
      canonicalRequest: recordedCanonicalRequest,
      stringToSign: recordedStringToSign,
      signature,
      signedHeaders,
      credentialScope,
      amzDate,
    }
    consistent =
      recordedStringToSign.startsWith(`${ALGORITHM}\n${amzDate}\n${credentialScope}\n`) &&
      authorization.startsWith(authorizationPrefix) &&
      /^[0-9a-f]{64}$/.test(signature)
  } else {
    steps = computeSigningSteps(input)
    consistent = authorization === authorizationPrefix + steps.signature
  }
  if (!consistent) {
    throw new KvsSignerError(
      'ERR_KVS_SIGNER_INCONSISTENT',
      `The signing steps disagree with @smithy/signature-v4 (please report this): smithy wrote "${authorization}" for\n${recordedCanonicalRequest ?? '(no recorded canonical request)'}\nthe step functions give\n${canonicalRequestOf(input)}`,
    )
  }
  return { headers, steps }
}

/** The payload hash as `@smithy/signature-v4` picks it: the header verbatim, else the body's SHA-256. */
function payloadHash(
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array | undefined,
): string {
  const header = headers[CONTENT_SHA256_HEADER]
  if (header !== undefined) return header
  return body === undefined ? EMPTY_PAYLOAD_SHA256 : sha256Hex(body)
}
