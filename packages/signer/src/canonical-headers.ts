import { ALWAYS_UNSIGNABLE_HEADERS } from './constants.ts'

/**
 * The canonical form of a header value, as `@smithy/signature-v4` computes it: CR and LF become spaces, runs of
 * spaces and tabs collapse to one space, and the leading and trailing space is removed. Several values of one
 * header (as `node:http`'s `headersDistinct` gives them) are canonicalised one by one and joined with `,`.
 */
export function canonicalHeaderValue(value: string | readonly string[]): string {
  if (typeof value !== 'string') return value.map(canonicalHeaderValue).join(',')
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '')
}

/**
 * Whether the signer signs a header (lower-case `name`): everything except what `@smithy/signature-v4` never
 * signs (`authorization`, `user-agent`, hop-by-hop headers, `proxy-*`, `sec-*`, …) and the caller's `unsignable`
 * names.
 */
export function isSignableHeader(name: string, unsignable?: ReadonlySet<string>): boolean {
  return !(
    ALWAYS_UNSIGNABLE_HEADERS.has(name) ||
    unsignable?.has(name) ||
    name.startsWith('proxy-') ||
    name.startsWith('sec-')
  )
}

/** The sorted lower-case names of the headers the signer signs, from headers with lower-case names. */
export function selectSignedHeaders(
  headers: Readonly<Record<string, string>>,
  unsignable?: ReadonlySet<string>,
): string[] {
  return Object.keys(headers)
    .filter((name) => isSignableHeader(name, unsignable))
    .sort()
}
