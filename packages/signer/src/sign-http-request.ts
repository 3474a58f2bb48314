import { Sha256 } from '@aws-crypto/sha256-js'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity, HttpRequest } from '@smithy/types'
import { formatAmzDate } from './amz-date.ts'
import { formatAuthorization } from './authorization.ts'
import { selectSignedHeaders } from './canonical-headers.ts'
import { AUTHORIZATION_HEADER, CONTENT_SHA256_HEADER, EMPTY_PAYLOAD_SHA256 } from './constants.ts'
import { KvsSignerError } from './errors.ts'
import { sha256Hex } from './hash.ts'
import type { QueryParameters } from './parse-query.ts'
import { computeSigningSteps, type SigningSteps } from './signing-steps.ts'

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
 * Signs with `@smithy/signature-v4`, then recomputes the signature step by step with this package's step
 * functions (the ones `verifyRequest` uses) and returns both the headers and the steps. Throws
 * `ERR_KVS_SIGNER_INCONSISTENT` if the two disagree, so the exposed steps are always the ones that were signed.
 */
export async function signHttpRequest(
  request: HttpRequestToSign,
  options: SignHttpRequestOptions,
): Promise<SignedRequest> {
  const smithy = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service,
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
    uriEscapePath: options.normalizePath ?? true,
  })
  const signed = await smithy.sign(request as HttpRequest, {
    signingDate: new Date(options.epochMs),
    ...(options.unsignableHeaders === undefined
      ? {}
      : { unsignableHeaders: options.unsignableHeaders as Set<string> }),
  })
  const headers = signed.headers
  const { [AUTHORIZATION_HEADER]: authorization, ...signable } = headers
  const signedHeaderNames = selectSignedHeaders(signable, options.unsignableHeaders)
  const steps = computeSigningSteps({
    method: signed.method,
    path: signed.path,
    query: request.query,
    headers: signable,
    signedHeaderNames,
    payloadHash: payloadHash(signable, request.body),
    amzDate: formatAmzDate(options.epochMs).amzDate,
    region: options.region,
    service: options.service,
    secretAccessKey: options.credentials.secretAccessKey,
    normalizePath: options.normalizePath ?? true,
  })
  const expected = formatAuthorization({
    accessKeyId: options.credentials.accessKeyId,
    credentialScope: steps.credentialScope,
    signedHeaders: steps.signedHeaders,
    signature: steps.signature,
  })
  if (authorization !== expected) {
    throw new KvsSignerError(
      'ERR_KVS_SIGNER_INCONSISTENT',
      `The signing steps disagree with @smithy/signature-v4 (please report this): smithy wrote "${authorization}", the steps give "${expected}"`,
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
