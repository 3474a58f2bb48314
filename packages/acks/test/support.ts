import fc from 'fast-check'
import { expect } from 'vitest'
import { type Ack, type AckDecoderEvent, type AckDecoderOptions, createAckDecoder } from '../src/index.ts'

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** An event or error reduced to what the tests compare (errors are compared by code, offset and message). */
export type Outcome = { events: unknown[]; error?: { code: unknown; offset: unknown } }

function normalizeEvent(event: AckDecoderEvent): unknown {
  if (event.type === 'ack') return event
  const { error } = event
  return {
    type: 'service-error',
    code: error.code,
    message: error.message,
    offset: error.offset,
    serviceMessage: error.serviceMessage,
    errorType: error.errorType,
    raw: error.raw,
  }
}

/**
 * Feeds `chunks` to a fresh decoder, then `end()`, collecting every event until the first thrown error.
 * Because the decoder defers an error until the events before it are delivered, the outcome must not
 * depend on how the body was cut into chunks.
 */
export function decodeChunks(chunks: Iterable<Uint8Array>, options?: AckDecoderOptions): Outcome {
  const decoder = createAckDecoder(options)
  const events: unknown[] = []
  try {
    for (const chunk of chunks) for (const event of decoder.push(chunk)) events.push(normalizeEvent(event))
    for (const event of decoder.end()) events.push(normalizeEvent(event))
  } catch (error) {
    const { code, offset } = error as { code?: unknown; offset?: unknown }
    return { events, error: { code, offset } }
  }
  return { events }
}

/** Every way the suite cuts a body: whole, at every offset into two, one byte at a time, with empty reads. */
export function* partitions(bytes: Uint8Array): Generator<{ name: string; chunks: Uint8Array[] }> {
  yield { name: 'whole', chunks: [bytes] }
  for (let offset = 1; offset < bytes.length; offset++) {
    yield { name: `split at ${offset}`, chunks: [bytes.subarray(0, offset), bytes.subarray(offset)] }
  }
  yield {
    name: 'one byte at a time',
    chunks: Array.from(bytes, (_, index) => bytes.subarray(index, index + 1)),
  }
  yield { name: 'with empty reads', chunks: [new Uint8Array(0), bytes, new Uint8Array(0)] }
}

/** Asserts that every partition of `bytes` gives `expected`, and returns it. */
export function expectEveryPartition(
  bytes: Uint8Array,
  expected: Outcome,
  options?: AckDecoderOptions,
): void {
  for (const { name, chunks } of partitions(bytes)) {
    expect(decodeChunks(chunks, options), name).toEqual(expected)
  }
}

/** Copies chunks so a test can check the decoder does not keep views of the caller's buffers. */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const sorted = [...new Set(cuts.map((cut) => Math.min(Math.max(cut, 0), bytes.length)))].sort(
    (a, b) => a - b,
  )
  const chunks: Uint8Array[] = []
  let previous = 0
  for (const cut of sorted) {
    chunks.push(bytes.slice(previous, cut))
    previous = cut
  }
  chunks.push(bytes.slice(previous))
  return chunks
}

const wireKeys = new Set(['EventType', 'FragmentTimecode', 'FragmentNumber', 'ErrorCode', 'ErrorId'])

/** Any ack the decoder can produce, including values that force the general (JSON.parse) path. */
export const ackArbitrary: fc.Arbitrary<Ack> = fc
  .record(
    {
      eventType: fc.constantFrom('BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE' as const),
      fragmentTimecode: fc.oneof(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0)),
      ),
      fragmentNumber: fc.oneof(fc.stringMatching(/^\d{0,60}$/), fc.string({ unit: 'binary' })),
      errorId: fc.integer({ min: 4000, max: 7000 }),
      errorCode: fc.string({ unit: 'grapheme' }),
      extra: fc.dictionary(
        fc.string().filter((key) => !wireKeys.has(key)),
        // JSON itself cannot carry -0, which jsonValue() may nest.
        fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
        { minKeys: 1, maxKeys: 3 },
      ),
    },
    { requiredKeys: ['eventType'] },
  )
  .map((value) => value as Ack)
