import { invalidOption, numberOption } from '@kvs-streams/core'
import { formatAmzDate, parseAmzDate } from './amz-date.ts'
import { parseAuthorization } from './authorization.ts'
import {
  AMZ_DATE_HEADER,
  AUTHORIZATION_HEADER,
  CONTENT_SHA256_HEADER,
  DEFAULT_MAX_SKEW_MS,
  DEFAULT_SERVICE,
  EMPTY_PAYLOAD_SHA256,
  HOST_HEADER,
  SCOPE_TERMINATOR,
  STREAMING_PAYLOAD,
  UNSIGNED_PAYLOAD,
} from './constants.ts'
import { sha256Hex } from './hash.ts'
import { parseQuery } from './parse-query.ts'
import { computeSigningSteps } from './signing-steps.ts'
import { timingSafeEqual } from './timing-safe-equal.ts'

/** A request as an HTTP server received it. */
export interface VerifyRequestInput {
  method: string
  /** Raw request target including the query string, as received (`req.url` in `node:http`), e.g. `/putMedia`. */
  path: string
  /**
   * Headers as `node:http` gives them, lower-case names. Pass `req.headersDistinct` to keep repeated headers
   * apart (`req.headers` joins most of them with `, `, which SigV4 canonicalises differently from `,`).
   */
  headers: Record<string, string | string[] | undefined>
  /**
   * The body, to check a body hash. Omit it for PutMedia: the `x-amz-content-sha256` value is then used
   * verbatim, or the SHA-256 of the empty string when the header is absent (the schemes of §2.3).
   */
  body?: Uint8Array | string
}

/** Options of `verifyRequest`. */
export interface VerifyOptions {
  /** The secret access key of an access key id, or `undefined` when the id is unknown. */
  lookupSecret(accessKeyId: string): string | undefined
  /** When set, the credential scope's region must be this one. */
  region?: string
  /** The service the scope must name; default `kinesisvideo`. */
  service?: string
  /** Current time, epoch milliseconds; default `Date.now()`. */
  now?: number
  /** Largest accepted distance between `x-amz-date` and `now`; default 15 minutes. */
  maxSkewMs?: number
}

/** The AWS common error types `verifyRequest` answers with (all 403 except `IncompleteSignature` and `RequestExpired`, 400). */
export type VerifyErrorType =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException'
  | 'RequestExpired'
  | 'InvalidClientTokenId'

/** `ok` with the verified access key id and scope region, or the AWS error type and message to answer with. */
export type VerifyResult =
  | { ok: true; accessKeyId: string; region: string }
  | { ok: false; errorType: VerifyErrorType; message: string }

/**
 * Checks the SigV4 `Authorization` header of a received request, the way a Kinesis Video Streams endpoint does:
 * recomputes the canonical request from the headers named in SignedHeaders (with `@smithy/signature-v4`'s
 * canonicalisation), accepts `UNSIGNED-PAYLOAD` and `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` as payload hashes,
 * ignores the value of `x-amz-security-token` (signed or not) and compares signatures in constant time.
 * A mismatch message includes the expected canonical request and string to sign, as AWS does.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/CommonErrors.html
 */
export async function verifyRequest(
  input: VerifyRequestInput,
  options: VerifyOptions,
): Promise<VerifyResult> {
  return verifyRequestSync(input, options)
}

/** `verifyRequest` without the promise. */
export function verifyRequestSync(input: VerifyRequestInput, options: VerifyOptions): VerifyResult {
  if (typeof input !== 'object' || input === null) throw invalidOption('input', 'an object', input)
  if (typeof input.method !== 'string') throw invalidOption('input.method', 'a string', input.method)
  if (typeof input.path !== 'string') throw invalidOption('input.path', 'a string', input.path)
  if (typeof input.headers !== 'object' || input.headers === null) {
    throw invalidOption('input.headers', 'an object', input.headers)
  }
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  if (typeof options.lookupSecret !== 'function') {
    throw invalidOption('options.lookupSecret', 'a function', options.lookupSecret)
  }
  const service = options.service ?? DEFAULT_SERVICE
  const now = options.now ?? Date.now()
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
  numberOption('options.now', now, 'a finite number')
  numberOption('options.maxSkewMs', maxSkewMs, 'a number >= 0', { min: 0, infinity: true })

  const headers = lowerCaseHeaders(input.headers)
  const authorization = first(headers[AUTHORIZATION_HEADER])
  if (authorization === undefined || authorization.trim() === '') {
    return failure('MissingAuthenticationToken', 'Missing Authentication Token')
  }
  const parsed = parseAuthorization(authorization)
  if ('error' in parsed)
    return failure('IncompleteSignature', `${parsed.error} Authorization=${authorization}`)

  const amzDate = first(headers[AMZ_DATE_HEADER])
  if (amzDate === undefined) {
    return failure(
      'IncompleteSignature',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )
  }
  const signedAt = parseAmzDate(amzDate)
  if (signedAt === undefined) {
    return failure('IncompleteSignature', `Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`)
  }
  if (parsed.shortDate !== amzDate.slice(0, 8)) {
    return failure(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    )
  }
  if (parsed.terminator !== SCOPE_TERMINATOR) {
    return failure(
      'InvalidSignatureException',
      `Credential should be scoped with a valid terminator: '${SCOPE_TERMINATOR}', not '${parsed.terminator}'.`,
    )
  }
  if (parsed.service !== service) {
    return failure(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${service}', not '${parsed.service}'.`,
    )
  }
  if (options.region !== undefined && parsed.region !== options.region) {
    return failure(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${parsed.region}'. Expected '${options.region}'.`,
    )
  }
  if (now - signedAt > maxSkewMs) {
    return failure(
      'RequestExpired',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - maxSkewMs).amzDate} (${formatAmzDate(now).amzDate} - ${skew(maxSkewMs)}.)`,
    )
  }
  if (signedAt - now > maxSkewMs) {
    return failure(
      'RequestExpired',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + maxSkewMs).amzDate} (${formatAmzDate(now).amzDate} + ${skew(maxSkewMs)}.)`,
    )
  }
  if (!/^[A-Za-z0-9]+$/.test(parsed.accessKeyId)) {
    return failure('InvalidClientTokenId', `The AWS access key ID '${parsed.accessKeyId}' is malformed.`)
  }
  const secretAccessKey = options.lookupSecret(parsed.accessKeyId)
  if (typeof secretAccessKey !== 'string') {
    return failure('UnrecognizedClientException', 'The security token included in the request is invalid.')
  }

  const signedHeaderNames = parsed.signedHeaders.split(';')
  if (signedHeaderNames.some((name) => name === '' || name !== name.toLowerCase())) {
    return failure(
      'IncompleteSignature',
      `SignedHeaders must be lower-case header names separated by ';', got '${parsed.signedHeaders}'.`,
    )
  }
  if (!signedHeaderNames.includes(HOST_HEADER)) {
    return failure(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )
  }

  const contentSha256 = first(headers[CONTENT_SHA256_HEADER])
  let payloadHash = contentSha256 ?? EMPTY_PAYLOAD_SHA256
  if (input.body !== undefined && contentSha256 !== UNSIGNED_PAYLOAD && contentSha256 !== STREAMING_PAYLOAD) {
    payloadHash = sha256Hex(input.body)
    if (contentSha256 !== undefined && contentSha256 !== payloadHash) {
      return failure(
        'InvalidSignatureException',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      )
    }
  }

  const queryStart = input.path.indexOf('?')
  const steps = computeSigningSteps({
    method: input.method,
    path: queryStart === -1 ? input.path : input.path.slice(0, queryStart),
    query: parseQuery(queryStart === -1 ? '' : input.path.slice(queryStart + 1)),
    headers,
    signedHeaderNames,
    payloadHash,
    amzDate,
    region: parsed.region,
    service: parsed.service,
    secretAccessKey,
  })
  if (!timingSafeEqual(steps.signature, parsed.signature)) {
    return failure(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n' +
        `The Canonical String for this request should have been\n'${steps.canonicalRequest}'\n\n` +
        `The String-to-Sign should have been\n'${steps.stringToSign}'\n`,
    )
  }
  return { ok: true, accessKeyId: parsed.accessKeyId, region: parsed.region }
}

function failure(errorType: VerifyErrorType, message: string): VerifyResult {
  return { ok: false, errorType, message }
}

function first(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' || value === undefined ? value : value[0]
}

function skew(maxSkewMs: number): string {
  return maxSkewMs % 60_000 === 0 ? `${maxSkewMs / 60_000} min` : `${maxSkewMs / 1000} s`
}

/** Header values by lower-case name; names that differ only in case are merged into one list. */
function lowerCaseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | readonly string[]> {
  const result: Record<string, string | readonly string[]> = Object.create(null)
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lowerName = name.toLowerCase()
    const previous = result[lowerName]
    result[lowerName] = previous === undefined ? value : [previous, value].flat()
  }
  return result
}
