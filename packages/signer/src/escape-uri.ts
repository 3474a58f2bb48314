/**
 * Percent-encodes everything except the RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`), as SigV4 and
 * `@smithy/signature-v4` (`escapeUri`) do. Text is encoded as UTF-8.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, hexEncode)
}

function hexEncode(character: string): string {
  return `%${character.charCodeAt(0).toString(16).toUpperCase()}`
}
