import { ALGORITHM } from './constants.ts'

/** What goes into an `Authorization` header. */
export interface AuthorizationParts {
  accessKeyId: string
  credentialScope: string
  /** Lower-case names joined with `;`. */
  signedHeaders: string
  signature: string
}

/** `AWS4-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<names>, Signature=<hex>`, as every AWS SDK writes it. */
export function formatAuthorization(parts: AuthorizationParts): string {
  return `${ALGORITHM} Credential=${parts.accessKeyId}/${parts.credentialScope}, SignedHeaders=${parts.signedHeaders}, Signature=${parts.signature}`
}

/** An `Authorization` header taken apart. */
export interface ParsedAuthorization {
  accessKeyId: string
  /** `YYYYMMDD` from the credential scope. */
  shortDate: string
  region: string
  service: string
  /** Should be `aws4_request`. */
  terminator: string
  /** Verbatim, e.g. `host;x-amz-date`. */
  signedHeaders: string
  signature: string
}

/**
 * Reads a SigV4 `Authorization` header value. Returns a message saying what is missing or malformed (the
 * service's `IncompleteSignature` cases) instead of throwing.
 */
export function parseAuthorization(value: string): ParsedAuthorization | { error: string } {
  const trimmed = value.trim()
  const space = trimmed.indexOf(' ')
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space)
  if (algorithm !== ALGORITHM) return { error: `Unsupported AWS 'algorithm': '${algorithm}'.` }
  const parameters = new Map<string, string>()
  for (const item of trimmed.slice(space + 1).split(',')) {
    const part = item.trim()
    const equals = part.indexOf('=')
    if (equals > 0) parameters.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim())
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !parameters.get(name))
  if (missing.length > 0) {
    return { error: missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ') }
  }
  const credential = parameters.get('Credential')!.split('/')
  if (credential.length !== 5 || credential.some((component) => component === '')) {
    return {
      error: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parameters.get('Credential')}'.`,
    }
  }
  const [accessKeyId, shortDate, region, service, terminator] = credential as [
    string,
    string,
    string,
    string,
    string,
  ]
  return {
    accessKeyId,
    shortDate,
    region,
    service,
    terminator,
    signedHeaders: parameters.get('SignedHeaders')!,
    signature: parameters.get('Signature')!,
  }
}
