import { KvsHttpError } from './errors.ts'

/** Most bytes of an error response body kept for the error (the rest is read and dropped). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024

type Headers = Record<string, string | string[] | undefined>

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** `ResourceNotFoundException:https://…` → `ResourceNotFoundException`; `com.amazon.coral.service#X` → `X`. */
function exceptionName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined
  let name = raw.split(':')[0]!.trim()
  const hash = name.lastIndexOf('#')
  if (hash >= 0) name = name.slice(hash + 1)
  return /^[A-Za-z][A-Za-z0-9_.]*$/.test(name) ? name : undefined
}

interface ErrorBody {
  type?: string | undefined
  message?: string | undefined
}

function readErrorBody(text: string): ErrorBody {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return {}
  }
  if (typeof json !== 'object' || json === null) return {}
  let record = json as Record<string, unknown>
  // The Coral envelope seen once from PutMedia: {"Output":{"__type":"…#SerializationException","Message":null}}
  if (typeof record.Output === 'object' && record.Output !== null)
    record = record.Output as Record<string, unknown>
  const message = record.Message ?? record.message
  return {
    type: exceptionName(record.__type) ?? exceptionName(record.code) ?? exceptionName(record.Code),
    message: typeof message === 'string' ? message : undefined,
  }
}

/**
 * Builds the typed error for a non-2xx response, from its status, headers (lower-case names) and body: the
 * exception name from `x-amzn-ErrorType` (text before `:`) or the body's `__type`/`code`, the message from the
 * body's `Message`/`message`, the request id from `x-amzn-RequestId`.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/CommonErrors.html
 */
export function createHttpError(
  status: number,
  headers: Headers,
  body: Uint8Array,
  options: { cause?: unknown } = {},
): KvsHttpError {
  const text = new TextDecoder().decode(body)
  const parsed = readErrorBody(text)
  const errorType =
    exceptionName(header(headers, 'x-amzn-errortype')) ??
    exceptionName(header(headers, 'x-amz-errortype')) ??
    parsed.type
  const requestId = header(headers, 'x-amzn-requestid') ?? header(headers, 'x-amz-requestid')
  const excerpt = text.trim().slice(0, 200)
  const message = parsed.message ?? (excerpt === '' ? `HTTP ${status}` : `HTTP ${status}: ${excerpt}`)
  return new KvsHttpError(message, { status, errorType, requestId, body: text, cause: options.cause })
}
