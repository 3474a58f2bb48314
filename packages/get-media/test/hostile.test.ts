import { EbmlError } from '@kvs-streams/ebml'
import { readFixture, splitAt } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createGetMediaParser, GetMediaParseError, type GetMediaParserMode } from '../src/index.ts'
import { elementHeader } from './build.ts'
import { expectedCaptures } from './expected-captures.ts'
import { join, summarize } from './helpers.ts'

const mixed = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
const rendererFirst = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv').subarray(
  0,
  150_022,
)

const maxFrameBytes = 64 * 1024
const maxBufferedFragmentBytes = 256 * 1024

/**
 * Feeds `bytes` in chunks of `chunkSize`; returns the error thrown, checking after every push that the parser
 * holds no more than its limits allow. Anything thrown that is not one of the two typed errors fails.
 */
function feed(bytes: Uint8Array, chunkSize: number, mode: GetMediaParserMode): unknown {
  const parser = createGetMediaParser({ mode, maxFrameBytes, maxBufferedFragmentBytes })
  const bound = (mode === 'raw' ? maxBufferedFragmentBytes : maxFrameBytes) + 2 * chunkSize + 16
  try {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      parser.push(bytes.subarray(offset, offset + chunkSize))
      if (parser.bufferedBytes > bound) throw new Error(`holds ${parser.bufferedBytes} bytes, over ${bound}`)
    }
    parser.end()
  } catch (error) {
    if (EbmlError.is(error) || GetMediaParseError.is(error)) return error
    throw error
  }
  return undefined
}

describe('hostile input', () => {
  test.each([
    ['test_mixed_tags.mkv', mixed, 400],
    ['the first renderer document', rendererFirst, 60],
  ] as const)(
    '%s with random bytes changed gives events or a typed error, in bounded memory',
    (_name, bytes, runs) => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
          fc.integer({ min: 1, max: 8192 }),
          fc.constantFrom<GetMediaParserMode>('frames', 'raw'),
          (changes, chunkSize, mode) => {
            const copy = bytes.slice()
            for (const [at, value] of changes) copy[at] = value
            feed(copy, chunkSize, mode)
          },
        ),
        { numRuns: runs },
      )
    },
  )

  test('element headers with absurd sizes inserted anywhere give events or a typed error, in bounded memory', () => {
    const ids = [0xa3, 0xa1, 0x1f43b675, 0x18538067, 0x1254c367, 0x4487, 0x63a2, 0xec, 0xe7, 0x1a45dfa3]
    fc.assert(
      fc.property(
        fc.nat(mixed.length),
        fc.constantFrom(...ids),
        fc.oneof(fc.constant(2 ** 31), fc.constant(2 ** 53 - 1), fc.nat(2 ** 24), fc.constant(2 ** 56 - 1)),
        fc.integer({ min: 1, max: 8192 }),
        fc.constantFrom<GetMediaParserMode>('frames', 'raw'),
        (at, id, size, chunkSize, mode) => {
          const [before, after] = splitAt(mixed, [at])
          feed(join([before!, elementHeader(id, size), after!]), chunkSize, mode)
        },
      ),
      { numRuns: 300 },
    )
  })

  test('truncation at any offset gives clean events or a truncation error from end(), and only whole fragments complete', () => {
    const lengths = expectedCaptures['test_mixed_tags.mkv']!.map((fragment) => fragment.byteLength)
    // Every offset of the first two documents, then every 7th offset of the rest.
    for (let cut = 0; cut <= mixed.length; cut += cut < lengths[0]! + lengths[1]! ? 1 : 7) {
      const parser = createGetMediaParser()
      const events = parser.push(mixed.subarray(0, cut))
      try {
        const trailing = parser.end()
        events.push(...trailing)
        // end() returns the last fragment even when the input was cut short: the error comes next.
        if (trailing.length > 0) events.push(...parser.end())
      } catch (error) {
        expect(
          EbmlError.is(error) && error.code === 'ERR_KVS_EBML_TRUNCATED',
          `cut at ${cut}: ${error}`,
        ).toBe(true)
      }
      let whole = 0
      for (let end = 0, i = 0; i < lengths.length && (end += lengths[i]!) <= cut; i++) whole++
      const fragments = summarize(events)
      expect(
        fragments.filter((fragment) => fragment.complete),
        `cut at ${cut}`,
      ).toHaveLength(whole)
      expect(fragments.slice(whole).every((fragment) => !fragment.complete)).toBe(true)
    }
  })

  test('a truncated last fragment is still delivered before the truncation error', () => {
    const cut = 150_022 - 5000 // inside the last frames of the first renderer document
    const parser = createGetMediaParser()
    const events = parser.push(rendererFirst.subarray(0, cut))
    // end() returns the incomplete fragment; the truncation error comes from the next call.
    expect(parser.end()).toMatchObject([
      { type: 'fragment-end', complete: false, byteLength: cut, fragmentNumber: expect.any(String) },
    ])
    let error: unknown
    try {
      parser.end()
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ name: 'EbmlError', code: 'ERR_KVS_EBML_TRUNCATED' })
    expect(() => parser.push(new Uint8Array(1))).toThrow(error as Error)
    expect(events.filter((event) => event.type === 'frame').length).toBeGreaterThan(50)
  })
})
