import { hmacSha256, toHex } from './hash.ts'

/**
 * The SigV4 signature: lower-case hex `HMAC(signingKey, stringToSign)`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#calculate-signature
 */
export function computeSignature(signingKey: Uint8Array, stringToSign: string): string {
  return toHex(hmacSha256(signingKey, stringToSign))
}
