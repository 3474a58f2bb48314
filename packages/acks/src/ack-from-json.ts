import { ACK_EVENT_TYPES, type Ack, type AckEventType } from './ack.ts'
import { AckServiceError, AckSyntaxError } from './errors.ts'
import type { AckDecoderEvent } from './events.ts'

const eventTypes = new Set<string>(ACK_EVENT_TYPES)
const knownKeys = new Set(['EventType', 'FragmentTimecode', 'FragmentNumber', 'ErrorCode', 'ErrorId'])
const invalid = Symbol('invalid')
const integerText = /^-?\d+$/

/**
 * Turns the text of one complete top-level JSON object from the body into an event. This is the general
 * path (any key order, whitespace, escapes, unknown keys, non-ack objects); `readCanonicalAck` handles the
 * service's own compact form without it.
 *
 * @param offset absolute byte offset of the object's `{`, for errors
 * @throws AckSyntaxError when the text is not valid JSON
 */
export function eventFromObjectText(text: string, offset: number): AckDecoderEvent {
  let value = parseObject(text, offset)
  // JSON.parse would round a bare 47-digit FragmentNumber; parse again with its digits quoted.
  if (typeof value.FragmentNumber === 'number') value = parseObject(quoteBareFragmentNumbers(text), offset)
  return eventFromObject(value, offset)
}

function parseObject(text: string, offset: number): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new AckSyntaxError('Object in the acknowledgement stream is not valid JSON', offset, {
      cause: error,
    })
  }
  // The scanner only hands over text from `{` to its matching `}`, so anything else parsed is a bug guard.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AckSyntaxError('Expected a JSON object', offset)
  }
  return value as Record<string, unknown>
}

function eventFromObject(value: Record<string, unknown>, offset: number): AckDecoderEvent {
  const eventType = value.EventType
  if (eventType === undefined) return serviceErrorEvent(value, offset, undefined)
  if (typeof eventType !== 'string' || !eventTypes.has(eventType)) {
    return serviceErrorEvent(value, offset, `unknown EventType ${JSON.stringify(eventType)}`)
  }
  const fragmentTimecode = toNumber(value.FragmentTimecode)
  if (fragmentTimecode === invalid)
    return serviceErrorEvent(value, offset, 'FragmentTimecode is not a number')
  const fragmentNumber = toDigits(value.FragmentNumber)
  if (fragmentNumber === invalid) return serviceErrorEvent(value, offset, 'FragmentNumber is not a string')
  const errorId = toNumber(value.ErrorId)
  if (errorId === invalid) return serviceErrorEvent(value, offset, 'ErrorId is not a number')
  const errorCode = value.ErrorCode
  if (errorCode !== undefined && errorCode !== null && typeof errorCode !== 'string') {
    return serviceErrorEvent(value, offset, 'ErrorCode is not a string')
  }

  const ack: Ack = { eventType: eventType as AckEventType }
  if (fragmentNumber !== undefined) ack.fragmentNumber = fragmentNumber
  if (fragmentTimecode !== undefined) ack.fragmentTimecode = fragmentTimecode
  if (errorId !== undefined) ack.errorId = errorId
  if (typeof errorCode === 'string') ack.errorCode = errorCode
  let extra: Record<string, unknown> | undefined
  for (const key in value) {
    if (knownKeys.has(key)) continue
    extra ??= {}
    setOwn(extra, key, value[key])
  }
  if (extra !== undefined) ack.extra = extra
  return { type: 'ack', ack }
}

/** Finite numbers as sent; integer strings too (PIC accepts quoted numbers); `null` counts as absent. */
function toNumber(value: unknown): number | undefined | typeof invalid {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? value : invalid
  if (typeof value === 'string' && integerText.test(value)) return Number(value)
  return invalid
}

function toDigits(value: unknown): string | undefined | typeof invalid {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  return invalid
}

/** `extra.__proto__ = v` would replace the prototype instead of keeping the key. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string') return value
  return undefined
}

function serviceErrorEvent(
  value: Record<string, unknown>,
  offset: number,
  malformed: string | undefined,
): AckDecoderEvent {
  const output = isRecord(value.Output) ? value.Output : undefined
  const serviceMessage = firstString(value.message, value.Message, output?.Message, output?.message)
  const errorType = firstString(value.__type, output?.__type)
  let message: string
  if (malformed !== undefined) {
    message = `Malformed acknowledgement: ${malformed}`
  } else if (serviceMessage !== undefined || errorType !== undefined) {
    message = [errorType, serviceMessage].filter((part) => part !== undefined).join(': ')
  } else {
    message = 'Object in the acknowledgement stream is not an acknowledgement: it has no EventType'
  }
  return {
    type: 'service-error',
    error: new AckServiceError(message, { offset, raw: value, serviceMessage, errorType }),
  }
}

const quote = 0x22
const backslash = 0x5c

/**
 * Wraps every bare-number value of a top-level `FragmentNumber` key in quotes, leaving everything else
 * (nested objects, strings that merely contain the name) untouched, so `JSON.parse` keeps all its digits.
 */
export function quoteBareFragmentNumbers(text: string): string {
  const parts: string[] = []
  let copiedUpTo = 0
  let depth = 0
  const length = text.length
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index)
    if (code === quote) {
      const start = index
      index++
      while (index < length) {
        const inner = text.charCodeAt(index)
        if (inner === backslash) index += 2
        else if (inner === quote) break
        else index++
      }
      if (depth !== 1) continue
      let cursor = skipWhitespace(text, index + 1)
      if (text.charCodeAt(cursor) !== 0x3a /* : */) continue
      cursor = skipWhitespace(text, cursor + 1)
      if (!isNumberStart(text.charCodeAt(cursor)) || !isFragmentNumberKey(text.slice(start, index + 1)))
        continue
      let end = cursor
      while (end < length && isNumberPart(text.charCodeAt(end))) end++
      parts.push(text.slice(copiedUpTo, cursor), '"', text.slice(cursor, end), '"')
      copiedUpTo = end
      index = end - 1
    } else if (code === 0x7b || code === 0x5b) {
      depth++
    } else if (code === 0x7d || code === 0x5d) {
      depth--
    }
  }
  if (copiedUpTo === 0) return text
  parts.push(text.slice(copiedUpTo))
  return parts.join('')
}

function isFragmentNumberKey(quoted: string): boolean {
  if (quoted === '"FragmentNumber"') return true
  if (!quoted.includes('\\')) return false
  try {
    return JSON.parse(quoted) === 'FragmentNumber'
  } catch {
    return false
  }
}

function skipWhitespace(text: string, index: number): number {
  let cursor = index
  for (;;) {
    const code = text.charCodeAt(cursor)
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return cursor
    cursor++
  }
}

function isNumberStart(code: number): boolean {
  return code === 0x2d || (code >= 0x30 && code <= 0x39)
}

function isNumberPart(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2b ||
    code === 0x2e ||
    code === 0x65 ||
    code === 0x45
  )
}
