import { escapeUri } from './escape-uri.ts'
import type { QueryParameters } from './parse-query.ts'

/**
 * The CanonicalQueryString of a SigV4 canonical request, computed as `@smithy/signature-v4` does: names and values
 * URI-encoded, pairs sorted by encoded name (repeated names by encoded pair), `X-Amz-Signature` left out.
 */
export function canonicalQuery(parameters: QueryParameters): string {
  const serialized = new Map<string, string>()
  for (const name of Object.keys(parameters)) {
    if (name.toLowerCase() === 'x-amz-signature') continue
    const value = parameters[name]
    const encodedName = escapeUri(name)
    if (typeof value === 'string') serialized.set(encodedName, `${encodedName}=${escapeUri(value)}`)
    else if (Array.isArray(value) && value.length > 0) {
      serialized.set(
        encodedName,
        value
          .map((item) => `${encodedName}=${escapeUri(item)}`)
          .sort()
          .join('&'),
      )
    }
  }
  return [...serialized.keys()]
    .sort()
    .map((name) => serialized.get(name))
    .join('&')
}
