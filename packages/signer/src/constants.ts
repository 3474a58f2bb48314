/**
 * The payload hash a client puts in `x-amz-content-sha256` (and in the canonical request) when the body is not
 * hashed, as the KVS Java producer does for PutMedia.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

/**
 * The payload hash the AWS SDK for Java v1 sends for PutMedia (without per-chunk signatures). Accepted verbatim by
 * `verifyRequest`.
 */
export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'

/** SHA-256 of the empty string: the payload hash of a request without a body. */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** The only SigV4 algorithm this package signs and verifies. */
export const ALGORITHM = 'AWS4-HMAC-SHA256'

/** Last element of every SigV4 credential scope. */
export const SCOPE_TERMINATOR = 'aws4_request'

/** Signing name of Kinesis Video Streams for control plane, media and archived media. */
export const DEFAULT_SERVICE = 'kinesisvideo'

export const AMZ_DATE_HEADER = 'x-amz-date'
export const AUTHORIZATION_HEADER = 'authorization'
export const CONTENT_SHA256_HEADER = 'x-amz-content-sha256'
export const SECURITY_TOKEN_HEADER = 'x-amz-security-token'
export const HOST_HEADER = 'host'

/**
 * Headers that describe one connection rather than the request (RFC 9110 §7.6.1), plus `expect`. They are never
 * signed and are dropped from the signed header set: a proxy or the HTTP client may add, change or remove them,
 * and undici refuses most of them as request options.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'expect',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Headers `@smithy/signature-v4` never signs (its `ALWAYS_UNSIGNABLE_HEADERS`), plus names matching
 * `^proxy-` and `^sec-`. Kept here so the step functions select exactly the headers smithy signs.
 */
export const ALWAYS_UNSIGNABLE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
])

/** Default of `KvsSignerOptions.refreshBeforeExpiryMs`: five minutes. */
export const DEFAULT_REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000

/** Default of `VerifyOptions.maxSkewMs`: fifteen minutes, as the AWS services allow. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60_000
