/** The parts of a SigV4 canonical request, each already in canonical form. */
export interface CanonicalRequestParts {
  /** HTTP method as sent, e.g. `POST`. */
  method: string
  /** From `canonicalPath()`. */
  path: string
  /** From `canonicalQuery()`. */
  query: string
  /** Signed headers in SignedHeaders order: lower-case name and `canonicalHeaderValue()`. */
  headers: ReadonlyArray<readonly [name: string, value: string]>
  /** Hex SHA-256 of the body, or a literal such as `UNSIGNED-PAYLOAD`. */
  payloadHash: string
}

/**
 * Joins the parts into the canonical request: method, path, query, one `name:value` line per signed header, an
 * empty line, the SignedHeaders list and the payload hash, separated by `\n`.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
 */
export function createCanonicalRequest(parts: CanonicalRequestParts): string {
  let headerLines = ''
  let names = ''
  for (const [name, value] of parts.headers) {
    headerLines += `${name}:${value}\n`
    names += names === '' ? name : `;${name}`
  }
  return `${parts.method}\n${parts.path}\n${parts.query}\n${headerLines}\n${names}\n${parts.payloadHash}`
}
