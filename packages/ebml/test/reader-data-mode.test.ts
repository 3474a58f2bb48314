import { splitAt, splits } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  createEbmlReader,
  type DataMode,
  type EbmlElement,
  type EbmlEvent,
  ElementId,
  isMasterId,
  levelOf,
  writeElement,
  writeUnknownSizeStart,
} from '../src/index.ts'
import { bytes, concat, end, expectEventsForEveryPartition, hex, leaf, readAll, start } from './helpers.ts'

const { Segment, SimpleBlock, Void } = ElementId

const payload = Uint8Array.from({ length: 40 }, (_, i) => i)
// Segment start (5 bytes) | SimpleBlock a3 a8 + 40 bytes (offset 5, payload at 7) | Void ec 81 00 (offset 47)
const input = concat(
  writeUnknownSizeStart(Segment),
  writeElement(SimpleBlock, payload),
  writeElement(Void, bytes(0)),
)

function blockOf(events: readonly EbmlEvent[]): EbmlElement {
  const found = events.find(
    (event): event is EbmlElement => event.type === 'element' && event.id === SimpleBlock,
  )
  if (found === undefined) throw new Error('no SimpleBlock event')
  return found
}

const headForBlocks = (id: number): DataMode => (id === SimpleBlock ? 'head' : 'data')

describe("dataMode 'data' (the default)", () => {
  it('gives a view into the pushed chunk when the element lies in it', () => {
    const data = blockOf(readAll([input])).data
    expect(data.buffer).toBe(input.buffer)
    expect(data.byteOffset).toBe(input.byteOffset + 7)
    expect(hex(data)).toBe(hex(payload))
  })

  it('gives a copy of the whole payload when the element spans chunks', () => {
    const data = blockOf(readAll(splitAt(input, [20]))).data
    expect(data.buffer).not.toBe(input.buffer)
    expect(hex(data)).toBe(hex(payload))
  })

  it('gives views that see later changes to the chunk, and copies that do not', () => {
    const chunk = input.slice()
    const view = blockOf(readAll([chunk])).data
    const copied = blockOf(readAll(splitAt(chunk, [20]))).data
    chunk[7] = 0xff
    expect(view[0]).toBe(0xff)
    expect(copied[0]).toBe(0)
  })

  it('is the same for every partition', () => {
    expectEventsForEveryPartition(input, [
      start(Segment, 0, 5, undefined, 0),
      leaf(SimpleBlock, 5, 2, hex(payload), 1),
      leaf(Void, 47, 2, '00', 1),
      end(Segment, 0, 50, 0, true),
    ])
  })
})

describe("dataMode 'head'", () => {
  it('gives a view of the whole payload when the element lies in one chunk', () => {
    const block = blockOf(readAll([input], { dataMode: headForBlocks }))
    expect(block.size).toBe(40)
    expect(block.data.buffer).toBe(input.buffer)
    expect(hex(block.data)).toBe(hex(payload))
  })

  it('gives exactly headBytes bytes when the element spans chunks', () => {
    const block = blockOf(readAll(splitAt(input, [20]), { dataMode: headForBlocks }))
    expect(block.size).toBe(40)
    expect(block.data.length).toBe(16)
    expect(hex(block.data)).toBe(hex(payload.subarray(0, 16)))
    const short = blockOf(readAll(splitAt(input, [8, 30]), { dataMode: headForBlocks, headBytes: 4 }))
    expect(hex(short.data)).toBe('00010203')
  })

  it('gives the whole payload of a spanning element shorter than headBytes', () => {
    const small = concat(writeElement(SimpleBlock, payload.subarray(0, 10)))
    const block = blockOf(readAll(splitAt(small, [5]), { dataMode: headForBlocks }))
    expect(hex(block.data)).toBe(hex(payload.subarray(0, 10)))
  })

  it('gives a prefix of the payload, whole or headBytes long, for every partition', () => {
    for (const chunks of splits(input)) {
      const events = readAll(chunks, { dataMode: headForBlocks })
      const block = blockOf(events)
      expect([40, 16]).toContain(block.data.length)
      expect(hex(block.data)).toBe(hex(payload.subarray(0, block.data.length)))
      expect(events.map((event) => event.type)).toEqual([
        'element-start',
        'element',
        'element',
        'element-end',
      ])
    }
  })

  it('is not limited by maxElementBytes', () => {
    expect(blockOf(readAll(splitAt(input, [20]), { dataMode: headForBlocks, maxElementBytes: 8 })).size).toBe(
      40,
    )
  })
})

describe("dataMode 'skip'", () => {
  it('gives empty data and the full size for every partition', () => {
    expectEventsForEveryPartition(
      input,
      [
        start(Segment, 0, 5, undefined, 0),
        leaf(SimpleBlock, 5, 2, '', 1, 40),
        leaf(Void, 47, 2, '00', 1),
        end(Segment, 0, 50, 0, true),
      ],
      { dataMode: (id) => (id === SimpleBlock ? 'skip' : 'data'), maxElementBytes: 8 },
    )
  })
})

describe('the dataMode callback', () => {
  it('is asked about each leaf id once, with that id, and never about masters', () => {
    const asked: number[] = []
    const reader = createEbmlReader({
      dataMode: (id) => {
        asked.push(id)
        return 'data'
      },
    })
    for (const byte of input) reader.push(bytes(byte))
    reader.end()
    expect(asked).toEqual([SimpleBlock, Void])
  })

  it('is not asked again for a leaf id it has answered, and its answer keeps applying', () => {
    const asked: number[] = []
    const reader = createEbmlReader({
      dataMode: (id) => {
        asked.push(id)
        return id === SimpleBlock ? 'skip' : 'data'
      },
    })
    const repeated = concat(
      writeUnknownSizeStart(Segment),
      writeElement(SimpleBlock, payload),
      writeElement(Void, bytes(0)),
      writeElement(SimpleBlock, payload),
      writeElement(Void, bytes(1)),
      writeElement(SimpleBlock, payload),
    )
    const events = [...reader.push(repeated), ...reader.end()]
    expect(asked).toEqual([SimpleBlock, Void])
    const leaves = events.filter((event): event is EbmlElement => event.type === 'element')
    expect(leaves.map((event) => [event.id, event.data.length])).toEqual([
      [SimpleBlock, 0],
      [Void, 1],
      [SimpleBlock, 0],
      [Void, 1],
      [SimpleBlock, 0],
    ])
  })

  it('remembers at most 1024 ids, so hostile input with ever new ids cannot grow it', () => {
    const asked: number[] = []
    const reader = createEbmlReader({
      dataMode: (id) => {
        asked.push(id)
        return 'skip'
      },
    })
    // 1100 distinct 2-byte leaf ids that close nothing (no master, no schema level), then the first again.
    const ids = Array.from({ length: 1200 }, (_, i) => 0x4c00 + i)
      .filter((id) => !isMasterId(id) && levelOf(id) < 0)
      .slice(0, 1100)
    const elements = [...ids, ids[0]!].map((id) => writeElement(id, bytes(0)))
    reader.push(concat(writeUnknownSizeStart(Segment), ...elements))
    expect(asked.length).toBe(1101)
    expect(asked.at(-1)).toBe(ids[0])
  })

  it('rejects an answer other than data, head or skip with a TypeError naming the option, on every later call too', () => {
    const reader = createEbmlReader({ dataMode: () => 'all' as DataMode })
    const expected = new TypeError(
      `dataMode must be a function returning 'data', 'head' or 'skip', got "all"`,
    )
    // The events completed before the failure come back; the error comes from the next call.
    expect(reader.push(input).length).toBeGreaterThan(0)
    // A master next, which needs no dataMode answer: the reader must not read on from mid-element.
    expect(() => reader.push(writeUnknownSizeStart(Segment))).toThrow(expected)
    expect(() => reader.end()).toThrow(expected)
  })

  it('stops at an error the callback throws: later calls throw it again instead of reading on mid-element', () => {
    const failure = new Error('dataMode failed')
    const reader = createEbmlReader({
      dataMode: () => {
        throw failure
      },
    })
    // The events completed before the failure come back; the error comes from the next call.
    expect(reader.push(input).length).toBeGreaterThan(0)
    expect(() => reader.push(writeUnknownSizeStart(Segment))).toThrow(failure)
    expect(() => reader.end()).toThrow(failure)
  })
})
