import { invalidOption, numberOption } from '@kvs-streams/core'

// Option checks shared by the undici transport and the fetch-based one (`./web`): no Node or undici imports.

/** The endpoint option as a URL; throws the option `TypeError` unless it is an http(s) URL. */
export function resolveEndpoint(endpoint: unknown): URL {
  const url =
    endpoint instanceof URL
      ? endpoint
      : typeof endpoint === 'string' && URL.canParse(endpoint)
        ? new URL(endpoint)
        : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw invalidOption(
      'endpoint',
      'an http(s) URL such as "https://s-1234abcd.kinesisvideo.us-west-2.amazonaws.com"',
      endpoint,
    )
  }
  return url
}

/** The URL of an operation on an endpoint: `https://host` + `/putMedia` (a path on the endpoint is kept). */
export function operationUrl(endpoint: URL, operation: string): URL {
  const url = new URL(endpoint.href)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${operation}`
  url.search = ''
  url.hash = ''
  return url
}

/** A timeout option: a finite number of milliseconds >= 0, or the default when absent. */
export function milliseconds(name: string, value: unknown, fallback: number): number {
  return nonNegative(name, value, fallback, 'milliseconds')
}

/** A finite number of `unit` >= 0, or the default when absent. */
export function nonNegative(name: string, value: unknown, fallback: number, unit: string): number {
  if (value === undefined) return fallback
  return numberOption(name, value, `a finite number of ${unit} >= 0`, { min: 0 })
}

/** Exactly one of `streamName` and `streamArn`, as the request header or JSON member it becomes. */
export function resolveStreamTarget(options: {
  streamName?: unknown
  streamArn?: unknown
}): { name: string; value: string } | { arn: string; value: string } {
  const { streamName, streamArn } = options
  if (streamName !== undefined && streamArn !== undefined) {
    throw invalidOption('streamName', 'absent when streamArn is given (pass exactly one)', streamName)
  }
  if (streamArn !== undefined) {
    if (typeof streamArn !== 'string' || streamArn === '') {
      throw invalidOption('streamArn', 'a non-empty stream ARN', streamArn)
    }
    return { arn: streamArn, value: streamArn }
  }
  if (typeof streamName !== 'string' || streamName === '') {
    throw invalidOption('streamName', 'a non-empty stream name (or pass streamArn)', streamName)
  }
  return { name: streamName, value: streamName }
}
