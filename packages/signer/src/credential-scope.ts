import { SCOPE_TERMINATOR } from './constants.ts'

/**
 * The credential scope `YYYYMMDD/region/service/aws4_request`, e.g. `20201106/us-west-2/kinesisvideo/aws4_request`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign
 */
export function createCredentialScope(shortDate: string, region: string, service: string): string {
  return `${shortDate}/${region}/${service}/${SCOPE_TERMINATOR}`
}
