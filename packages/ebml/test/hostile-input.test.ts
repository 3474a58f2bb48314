import { fcPartition, readFixture, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createEbmlReader,
  EbmlError,
  type EbmlErrorCode,
  type EbmlEvent,
  type EbmlReaderOptions,
  ElementId,
  writeEbmlHeader,
  writeElement,
} from '../src/index.ts'
import { comparable, concat, leaf, start, thrown } from './helpers.ts'

const { Segment, Cluster, Void, SimpleTag } = ElementId
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replaceAll(' ', ''), 'hex'))

/** Pushes `input` in one chunk and returns the EbmlError it raised (failing when there is none). */
/**
 * Pushes `input` in one chunk and returns the error it fails with, and the events the push returned before
 * it (the error then comes from the next call, and every later one).
 */
function pushError(
  input: Uint8Array,
  options?: EbmlReaderOptions,
): { error: EbmlError; events: EbmlEvent[] } {
  const reader = createEbmlReader(options)
  let events: EbmlEvent[] = []
  let error: unknown
  try {
    events = reader.push(input)
  } catch (thrownError) {
    error = thrownError
  }
  if (events.length > 0) error = thrown(() => reader.end())
  expect(EbmlError.is(error), String(error)).toBe(true)
  expect(thrown(() => reader.push(Uint8Array.of(0xec, 0x80)))).toBe(error)
  return { error: error as EbmlError, events }
}

/** Asserts that every partition of `input` fails with `code` at `offset`, from push() or end(). */
function expectFailure(
  input: Uint8Array,
  code: EbmlErrorCode,
  offset: number,
  elementId: number | undefined,
) {
  for (const chunks of splits(input)) {
    const reader = createEbmlReader()
    const error = thrown(() => {
      for (const chunk of chunks) reader.push(chunk)
      reader.end()
    })
    expect(error).toBeInstanceOf(EbmlError)
    expect(error).toMatchObject({ code, offset, elementId })
  }
}

describe('huge declared sizes', () => {
  it('fails a leaf declaring 2^50 bytes with ERR_KVS_EBML_ELEMENT_TOO_LARGE before reading its payload', () => {
    const { error } = pushError(concat(fromHex('ec 01 04 00 00 00 00 00 00'), new Uint8Array(100)))
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_ELEMENT_TOO_LARGE', offset: 0, elementId: Void })
  })

  it('does not allocate a buffer for a leaf larger than maxElementBytes', () => {
    const before = process.memoryUsage().arrayBuffers
    // 64 MiB declared, maxElementBytes 32 MiB by default: the header alone is enough to fail.
    const { error } = pushError(concat(fromHex('ec 01 00 00 00 04 00 00 00'), new Uint8Array(10)))
    expect(error.code).toBe('ERR_KVS_EBML_ELEMENT_TOO_LARGE')
    expect(error.message).toMatch(/67108864 bytes exceeds maxElementBytes 33554432/)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
  })

  it("skips a 2^50-byte leaf in dataMode 'skip' without buffering, then reports it truncated at the end", () => {
    const reader = createEbmlReader({ dataMode: () => 'skip' })
    const before = process.memoryUsage().arrayBuffers
    expect(reader.push(fromHex('ec 01 04 00 00 00 00 00 00'))).toEqual([])
    for (let i = 0; i < 100; i++) expect(reader.push(new Uint8Array(64 * 1024))).toEqual([])
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
    const error = thrown(() => reader.end())
    expect(error).toMatchObject({
      code: 'ERR_KVS_EBML_TRUNCATED',
      offset: 9 + 100 * 64 * 1024,
      elementId: Void,
    })
  })

  it('accepts a master declaring 2^50 bytes, then reports ERR_KVS_EBML_TRUNCATED from end()', () => {
    const reader = createEbmlReader()
    const input = concat(fromHex('18538067 01 04 00 00 00 00 00 00'), fromHex('ec 81 00'))
    expect(comparable(reader.push(input))).toEqual([
      start(Segment, 0, 12, 2 ** 50, 0),
      leaf(Void, 12, 2, '00', 1),
    ])
    const error = thrown(() => reader.end())
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: 15, elementId: Segment })
    expect((error as Error).message).toMatch(
      /ended 1125899906842621 bytes before the end of element 0x18538067/,
    )
  })

  it('fails a size above 2^53 with ERR_KVS_EBML_ELEMENT_TOO_LARGE', () => {
    expectFailure(fromHex('18538067 01 ff ff ff ff ff ff fe'), 'ERR_KVS_EBML_ELEMENT_TOO_LARGE', 0, Segment)
  })
})

describe('elements that do not fit their parent', () => {
  it('fails a child whose payload overruns its parent with ERR_KVS_EBML_OVERRUN', () => {
    // Segment of 3 bytes holding a Void that declares 5.
    expectFailure(fromHex('18538067 83 ec 85 00 00 00 00 00'), 'ERR_KVS_EBML_OVERRUN', 5, Void)
  })

  it("fails a child whose header alone overruns its parent's end", () => {
    expectFailure(fromHex('18538067 81 ec 80'), 'ERR_KVS_EBML_OVERRUN', 5, Void)
  })

  it('fails an overrun inside an unknown-size Cluster against the known-size Segment around it', () => {
    // Segment of 8 bytes: an unknown-size Cluster header (5) and a Void of 4 bytes (2 + 2) do not fit.
    expectFailure(fromHex('18538067 88 1f43b675 ff ec 82 00 00'), 'ERR_KVS_EBML_OVERRUN', 10, Void)
  })
})

describe('nesting', () => {
  const nested = (levels: number): Uint8Array =>
    levels === 0 ? fromHex('ec 80') : writeElement(SimpleTag, nested(levels - 1))

  it('accepts maxDepth nested masters and fails the next one with ERR_KVS_EBML_TOO_DEEP', () => {
    const ok = createEbmlReader({ maxDepth: 3 })
    expect(ok.push(nested(3)).filter((event) => event.type === 'element-start')).toHaveLength(3)
    expect(ok.end()).toEqual([])

    const { error, events } = pushError(nested(4), { maxDepth: 3 })
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TOO_DEEP', elementId: SimpleTag })
    // Each SimpleTag header is 3 bytes (67c8 + a 1-byte size): the fourth starts at byte 9.
    expect(error.offset).toBe(9)
    expect(events.map((event) => event.type)).toEqual(['element-start', 'element-start', 'element-start'])
  })

  it('fails 33 nested masters with the default maxDepth of 32', () => {
    const { error, events } = pushError(nested(40))
    expect(error.code).toBe('ERR_KVS_EBML_TOO_DEEP')
    const starts = events.filter((event) => event.type === 'element-start')
    expect(starts).toHaveLength(32)
    const last = starts.at(-1)!
    expect(error.offset).toBe(last.offset + last.headerSize)
  })
})

describe('invalid variable-size integers', () => {
  it.each([
    ['an id starting with a zero byte', '00 81 00', 0, undefined],
    ['a size starting with a zero byte', 'ec 00 00', 0, Void],
    ['a 5-byte id with the default maxIdLength 4', '08 12 34 56 78 81 00', 0, undefined],
    ['the reserved all-ones 1-byte id', 'ff 80', 0, undefined],
    ['the reserved all-zeros 1-byte id', '80 80', 0, undefined],
    ['the reserved all-ones 2-byte id', '7f ff 80', 0, undefined],
    ['the reserved all-zeros 2-byte id', '40 00 80', 0, undefined],
    ['a zero byte after a complete element', 'ec 81 00 00', 3, undefined],
  ])('fail %s with ERR_KVS_EBML_INVALID_VINT', (_name, input, offset, elementId) => {
    expectFailure(fromHex(input), 'ERR_KVS_EBML_INVALID_VINT', offset, elementId)
  })

  it('fail an id wider than maxIdLength 8 allows (a zero first byte)', () => {
    const { error } = pushError(fromHex('00 01 02 03 04 05 06 07 08 81 00'), { maxIdLength: 8 })
    expect(error.code).toBe('ERR_KVS_EBML_INVALID_VINT')
  })
})

describe('the unknown size on a leaf', () => {
  it.each([
    ['1-byte', 'ec ff'],
    ['8-byte', 'ec 01 ff ff ff ff ff ff ff'],
  ])('fails a %s unknown size on a leaf with ERR_KVS_EBML_INVALID_UNKNOWN_SIZE', (_name, input) => {
    expectFailure(fromHex(input), 'ERR_KVS_EBML_INVALID_UNKNOWN_SIZE', 0, Void)
  })
})

describe('random input', () => {
  /** Reads `chunks`; returns what was thrown, or undefined. */
  function failureOf(chunks: readonly Uint8Array[], options?: EbmlReaderOptions): unknown {
    const reader = createEbmlReader(options)
    try {
      for (const chunk of chunks) reader.push(chunk)
      reader.end()
    } catch (error) {
      return error
    }
    return undefined
  }

  it('throws nothing but EbmlError for random bytes in random chunks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }).chain((input) => fcPartition(input, { maxChunks: 8 })),
        (chunks) => {
          const error = failureOf(chunks, { maxElementBytes: 1024 })
          expect(error === undefined || EbmlError.is(error), String(error)).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('throws nothing but EbmlError for random bytes after a valid EBML header and Segment start', () => {
    const prefix = concat(writeEbmlHeader(), fromHex('18538067 ff 1f43b675 ff'))
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (tail) => {
        const error = failureOf([prefix, tail], { maxIdLength: 8 })
        expect(error === undefined || EbmlError.is(error), String(error)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('throws nothing but EbmlError for a real recording with random bytes overwritten', () => {
    const original = readFixture('kvs-getmedia', 'test_mixed_tags.mkv').subarray(0, 4096)
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (changes) => {
          const input = original.slice()
          for (const [at, value] of changes) input[at] = value
          const error = failureOf([input])
          expect(error === undefined || EbmlError.is(error), String(error)).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('after an error', () => {
  it('returns the events completed before it in that push, then throws it from the next call', () => {
    const reader = createEbmlReader()
    const first: EbmlEvent[] = reader.push(fromHex('18538067 ff ec 81 00'))
    expect(comparable(first)).toEqual([start(Segment, 0, 5, undefined, 0), leaf(Void, 5, 2, '00', 1)])
    const second = reader.push(fromHex('1f43b675 ff ec 80 00 ec 80'))
    expect(comparable(second)).toEqual([start(Cluster, 8, 5, undefined, 1), leaf(Void, 13, 2, '', 2)])
    const error = thrown(() => reader.push(fromHex('ec 80'))) as EbmlError
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 15 })
    expect(thrown(() => reader.push(fromHex('ec 80')))).toBe(error)
    expect(thrown(() => reader.end())).toBe(error)
  })

  it('throws the held error from end() after a push that returned events', () => {
    const reader = createEbmlReader()
    expect(reader.push(fromHex('ec 80 00'))).toHaveLength(1)
    const error = thrown(() => reader.end())
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT', offset: 2 })
    expect(thrown(() => reader.end())).toBe(error)
  })

  it('throws the same error from every later push() and end()', () => {
    const reader = createEbmlReader()
    const error = thrown(() => reader.push(fromHex('00')))
    expect(thrown(() => reader.push(fromHex('ec 80')))).toBe(error)
    expect(thrown(() => reader.end())).toBe(error)
    expect(thrown(() => reader.end())).toBe(error)
  })

  it('throws the same truncation error from every later end() and push()', () => {
    const reader = createEbmlReader()
    reader.push(fromHex('ec 85 00'))
    const error = thrown(() => reader.end())
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: 3, elementId: Void })
    expect(thrown(() => reader.end())).toBe(error)
    expect(thrown(() => reader.push(fromHex('00')))).toBe(error)
  })
})
