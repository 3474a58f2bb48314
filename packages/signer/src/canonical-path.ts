import { escapeUri } from './escape-uri.ts'

/**
 * The CanonicalURI of a SigV4 canonical request, computed as `@smithy/signature-v4` does.
 *
 * With `normalize` (every AWS service except S3, and the default): empty and `.` segments are removed, `..`
 * removes the previous segment, a trailing slash is kept, and the result is URI-encoded once more. The path is
 * taken as it travels on the wire, so `/a%20b` becomes `/a%2520b` (AWS's "double encoding").
 * Without `normalize` (S3 style) the path is used verbatim and must already be URI-encoded.
 */
export function canonicalPath(path: string, normalize = true): string {
  if (!normalize) return path
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const leading = path.startsWith('/') ? '/' : ''
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : ''
  return escapeUri(`${leading}${segments.join('/')}${trailing}`).replace(/%2F/g, '/')
}
