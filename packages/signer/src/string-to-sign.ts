import { ALGORITHM } from './constants.ts'
import { sha256Hex } from './hash.ts'

/**
 * The SigV4 string to sign: algorithm, `x-amz-date`, credential scope and the hex SHA-256 of the canonical
 * request, separated by `\n`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign
 */
export function createStringToSign(
  amzDate: string,
  credentialScope: string,
  canonicalRequest: string,
): string {
  return `${ALGORITHM}\n${amzDate}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`
}
