/** Decoded query parameters; a name that occurs more than once maps to all its values in order. */
export type QueryParameters = Record<string, string | string[]>

/**
 * Splits a raw query string (with or without the leading `?`) into decoded parameters, the way both the signer
 * (from a URL's `search`) and `verifyRequest` (from the request target) read it, so that both sides build the same
 * canonical query. `+` is kept as a literal plus (SigV4 does not treat it as a space); a malformed `%` escape is
 * kept verbatim; a name without `=` has the empty value.
 */
export function parseQuery(search: string): QueryParameters {
  const parameters: QueryParameters = Object.create(null)
  const query = search.startsWith('?') ? search.slice(1) : search
  if (query === '') return parameters
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = decode(equals === -1 ? pair : pair.slice(0, equals))
    const value = equals === -1 ? '' : decode(pair.slice(equals + 1))
    const previous = parameters[name]
    if (previous === undefined) parameters[name] = value
    else if (typeof previous === 'string') parameters[name] = [previous, value]
    else previous.push(value)
  }
  return parameters
}

function decode(component: string): string {
  if (!component.includes('%')) return component
  try {
    return decodeURIComponent(component)
  } catch {
    return component
  }
}
