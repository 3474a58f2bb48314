import type { IncomingMessage, ServerResponse } from 'node:http'

/** Response headers a page may read: what the transport and the AWS SDKs take from KVS responses. */
const EXPOSED_HEADERS = 'x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, content-type, content-length'

/** How long a browser may cache a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE_S = 600

/**
 * CORS for pages on another origin (the `cors` option): every response allows any origin and exposes the
 * AWS headers; a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here, `204` with
 * the requested headers allowed (SigV4's `authorization`, `x-amz-*`, `x-amzn-*`), before routing and
 * signature checks (a preflight carries no signature). Requests are signed and carry no cookies, so no
 * credentials mode is allowed. Returns true when it answered the request.
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function handleCors(request: IncomingMessage, response: ServerResponse): boolean {
  response.setHeader('access-control-allow-origin', '*')
  response.setHeader('access-control-expose-headers', EXPOSED_HEADERS)
  const method = request.headers['access-control-request-method']
  if (request.method !== 'OPTIONS' || typeof method !== 'string') return false
  const requested = request.headers['access-control-request-headers']
  response.writeHead(204, {
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    ...(typeof requested === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z\-, ]*$/.test(requested)
      ? { 'access-control-allow-headers': requested }
      : {}),
    // Chromium's Private Network Access: a public page may reach this emulator on the loopback address.
    ...(request.headers['access-control-request-private-network'] === 'true'
      ? { 'access-control-allow-private-network': 'true' }
      : {}),
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    'content-length': '0',
  })
  response.end()
  return true
}
