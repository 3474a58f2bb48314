import { SCOPE_TERMINATOR } from './constants.ts'
import { hmacSha256 } from './hash.ts'

/** Bound on remembered keys: one per (secret, day, region, service), as `@smithy/signature-v4` bounds its own. */
const MAX_CACHED_KEYS = 50

/** Derived keys by scope and secret; a key only changes with the day, so signing reuses it for every request. */
const cache = new Map<string, Uint8Array>()

/**
 * The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
 */
export function deriveSigningKey(
  secretAccessKey: string,
  shortDate: string,
  region: string,
  service: string,
): Uint8Array {
  const cacheKey = `${shortDate}/${region}/${service}/${secretAccessKey}`
  const cached = cache.get(cacheKey)
  if (cached !== undefined) return cached
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, shortDate)
  const key = hmacSha256(hmacSha256(hmacSha256(dateKey, region), service), SCOPE_TERMINATOR)
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value as string)
  cache.set(cacheKey, key)
  return key
}
