import { canonicalHeaderValue } from './canonical-headers.ts'
import { canonicalPath } from './canonical-path.ts'
import { canonicalQuery } from './canonical-query.ts'
import { createCanonicalRequest } from './canonical-request.ts'
import { createCredentialScope } from './credential-scope.ts'
import type { QueryParameters } from './parse-query.ts'
import { computeSignature } from './signature.ts'
import { deriveSigningKey } from './signing-key.ts'
import { createStringToSign } from './string-to-sign.ts'

/** Every intermediate value of one SigV4 signature, for tests and for debugging a `403`. */
export interface SigningSteps {
  /** Method, canonical path, canonical query, headers, SignedHeaders and payload hash, joined by `\n`. */
  canonicalRequest: string
  /** `AWS4-HMAC-SHA256`, `amzDate`, `credentialScope` and the hex SHA-256 of `canonicalRequest`, joined by `\n`. */
  stringToSign: string
  /** Lower-case hex HMAC-SHA256 of `stringToSign` under the derived signing key. */
  signature: string
  /** The signed header names, lower-case, joined with `;`. */
  signedHeaders: string
  /** `YYYYMMDD/region/service/aws4_request`. */
  credentialScope: string
  /** The `x-amz-date` value, `YYYYMMDDTHHMMSSZ`. */
  amzDate: string
}

/** Everything the signature depends on. */
export interface SigningInput {
  method: string
  /** Request path as sent (percent-encoded as on the wire), without the query. */
  path: string
  query: QueryParameters
  /** Header values by lower-case name; a header sent several times may be given as its list of values. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** Lower-case names of the signed headers, in SignedHeaders order. */
  signedHeaderNames: readonly string[]
  payloadHash: string
  amzDate: string
  region: string
  service: string
  secretAccessKey: string
  /** Normalise and re-encode the path (every service but S3); default `true`. */
  normalizePath?: boolean
}

/** The canonical request of `input` (string work only, no hashing). */
export function canonicalRequestOf(input: SigningInput): string {
  return createCanonicalRequest({
    method: input.method,
    path: canonicalPath(input.path, input.normalizePath ?? true),
    query: canonicalQuery(input.query),
    headers: input.signedHeaderNames.map(
      (name) => [name, canonicalHeaderValue(input.headers[name] ?? '')] as const,
    ),
    payloadHash: input.payloadHash,
  })
}

/**
 * Runs the SigV4 steps one after the other: canonical request, string to sign, signing key, signature. The
 * same canonicalisation as `@smithy/signature-v4`, so `verifyRequest` recomputes exactly what a smithy-based
 * client signed. A signed header absent from `headers` contributes an empty value.
 */
export function computeSigningSteps(input: SigningInput): SigningSteps {
  const shortDate = input.amzDate.slice(0, 8)
  const credentialScope = createCredentialScope(shortDate, input.region, input.service)
  const canonicalRequest = canonicalRequestOf(input)
  const stringToSign = createStringToSign(input.amzDate, credentialScope, canonicalRequest)
  const signingKey = deriveSigningKey(input.secretAccessKey, shortDate, input.region, input.service)
  return {
    canonicalRequest,
    stringToSign,
    signature: computeSignature(signingKey, stringToSign),
    signedHeaders: input.signedHeaderNames.join(';'),
    credentialScope,
    amzDate: input.amzDate,
  }
}
