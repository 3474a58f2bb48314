import { invalidOption, numberOption } from '@kvs-streams/core'
import { eventFromObjectText } from './ack-from-json.ts'
import { AckObjectTooLargeError, AckSyntaxError, AckTruncatedError } from './errors.ts'
import type { AckDecoderEvent } from './events.ts'
import { numberCacheSize, readCanonicalAck } from './read-canonical-ack.ts'

/** Options of `createAckDecoder` and its adapters. */
export interface AckDecoderOptions {
  /**
   * Largest single JSON object accepted, in bytes from `{` to `}` inclusive. Real acks are ~130 bytes.
   * Default 64 KiB. A bigger object raises `AckObjectTooLargeError` as soon as it passes the limit, so a
   * peer that never closes a brace cannot make the decoder buffer more than this.
   */
  maxObjectBytes?: number
}

/**
 * Synchronous, incremental decoder of a PutMedia response body (the de-chunked bytes). No I/O, no timers.
 *
 * Errors: `push()` never loses events. When a chunk holds complete objects and then bad input, `push()`
 * returns those events and the error is thrown by the next `push()` or `end()` call; when no event precedes
 * the bad input in that chunk it throws at once. After an error every call throws the same error.
 */
export interface AckDecoder {
  /**
   * Feeds the next bytes of the body; returns the events for every object this chunk completed (maybe none).
   * The chunk is not retained: bytes of an unfinished object are copied, so the caller may reuse its buffer.
   *
   * @throws AckSyntaxError for non-whitespace between objects, or an object that is not valid JSON or UTF-8
   * @throws AckObjectTooLargeError when an object passes `maxObjectBytes`
   */
  push(chunk: Uint8Array): AckDecoderEvent[]
  /**
   * Signals the end of the body. Returns the remaining events (always none: objects are emitted as soon as
   * they close) and resets the decoder so it can read another body.
   *
   * @throws AckTruncatedError when the body ended inside an object
   */
  end(): AckDecoderEvent[]
}

const defaultMaxObjectBytes = 64 * 1024

const openBrace = 0x7b
const closeBrace = 0x7d
const quote = 0x22
const backslash = 0x5c

/** Object bytes are decoded strictly: invalid UTF-8 is a syntax error, not a silent U+FFFD. */
const objectDecoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Creates an ack decoder: bytes of the PutMedia response body in, `ack` and `service-error` events out.
 * Objects are found by brace depth (string- and escape-aware), with any JSON whitespace — or nothing —
 * between them; the service's own compact acks take a byte-level fast path, everything else `JSON.parse`.
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function createAckDecoder(options: AckDecoderOptions = {}): AckDecoder {
  const maxObjectBytes = numberOption(
    'maxObjectBytes',
    options.maxObjectBytes ?? defaultMaxObjectBytes,
    'an integer of at least 2',
    { integer: true, min: 2 },
  )

  /** Bytes of the body consumed by earlier `push()` calls: turns chunk indexes into body offsets. */
  let consumed = 0
  /** Brace depth of the open object; 0 between objects. */
  let depth = 0
  /** Inside a JSON string of the open object, where braces do not count. */
  let inString = false
  /** The previous byte was a backslash inside a string, so this byte cannot end it. */
  let escaped = false
  /** Body offset of the open object's `{`, for errors. */
  let objectOffset = 0
  /** Copies of the open object's bytes from earlier chunks, joined once when it closes. */
  let pending: Uint8Array[] = []
  /** Total length of `pending`, checked against `maxObjectBytes`. */
  let pendingBytes = 0
  /** Recent fragment-number strings, reused when the same digits come again (see `readCanonicalAck`). */
  const numberCache: (string | undefined)[] = new Array(numberCacheSize).fill(undefined)
  /** The first error; sticky, so nothing after bad input is ever reported as data. */
  let failure: Error | undefined

  /** Finishes the object that closes at `end` (exclusive) in `chunk`, whose bytes start at `start`. */
  function closeObject(chunk: Uint8Array, start: number, end: number, events: AckDecoderEvent[]): void {
    const size = pendingBytes + end - start
    if (size > maxObjectBytes) throw new AckObjectTooLargeError(objectOffset, maxObjectBytes)
    let bytes: Uint8Array
    if (pending.length === 0) {
      bytes = chunk.subarray(start, end)
    } else {
      bytes = new Uint8Array(size)
      let at = 0
      for (const part of pending) {
        bytes.set(part, at)
        at += part.length
      }
      bytes.set(chunk.subarray(start, end), at)
      pending = []
      pendingBytes = 0
    }
    let text: string
    try {
      text = objectDecoder.decode(bytes)
    } catch (error) {
      throw new AckSyntaxError('Object in the acknowledgement stream is not valid UTF-8', objectOffset, {
        cause: error,
      })
    }
    events.push(eventFromObjectText(text, objectOffset))
  }

  /**
   * Scans the open object from `from`, the object's bytes in this chunk starting at `start`. Returns the
   * index after its closing brace, or -1 when the chunk ended first (its bytes are then kept in `pending`).
   */
  function scanObject(chunk: Uint8Array, start: number, from: number, events: AckDecoderEvent[]): number {
    const length = chunk.length
    // Never look further than the limit allows, even inside one huge chunk.
    const stop = Math.min(length, start + maxObjectBytes - pendingBytes)
    for (let index = from; index < stop; index++) {
      const byte = chunk[index]!
      if (inString) {
        if (escaped) escaped = false
        else if (byte === backslash) escaped = true
        else if (byte === quote) inString = false
      } else if (byte === quote) {
        inString = true
      } else if (byte === openBrace) {
        depth++
      } else if (byte === closeBrace && --depth === 0) {
        closeObject(chunk, start, index + 1, events)
        return index + 1
      }
    }
    if (stop < length) throw new AckObjectTooLargeError(objectOffset, maxObjectBytes)
    pending.push(chunk.slice(start))
    pendingBytes += length - start
    return -1
  }

  function decode(chunk: Uint8Array, events: AckDecoderEvent[]): void {
    const length = chunk.length
    let index = 0
    if (depth > 0) {
      index = scanObject(chunk, 0, 0, events)
      if (index < 0) return
    }
    while (index < length) {
      const byte = chunk[index]!
      if (byte === openBrace) {
        const limit = Math.min(length, index + maxObjectBytes)
        const next = readCanonicalAck(chunk, index, limit, events, numberCache)
        if (next >= 0) {
          index = next
          continue
        }
        depth = 1
        inString = false
        escaped = false
        objectOffset = consumed + index
        index = scanObject(chunk, index, index + 1, events)
        if (index < 0) return
      } else if (byte === 0x0a || byte === 0x20 || byte === 0x0d || byte === 0x09) {
        index++
      } else {
        throw new AckSyntaxError(
          `Unexpected byte 0x${byte.toString(16).padStart(2, '0')} between acknowledgement objects`,
          consumed + index,
        )
      }
    }
  }

  return {
    push(chunk) {
      if (!(chunk instanceof Uint8Array)) throw invalidOption('chunk', 'a Uint8Array', chunk)
      if (failure !== undefined) throw failure
      const events: AckDecoderEvent[] = []
      try {
        decode(chunk, events)
      } catch (error) {
        failure = error as Error
        if (events.length === 0) throw failure
        return events
      }
      consumed += chunk.length
      return events
    },
    end() {
      if (failure !== undefined) throw failure
      if (depth > 0) {
        failure = new AckTruncatedError(objectOffset, pendingBytes)
        pending = []
        throw failure
      }
      consumed = 0
      return []
    },
  }
}
