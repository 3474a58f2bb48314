import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { createEbmlReader, type EbmlElementStart, type EbmlEvent } from '../src/index.ts'
import { fixtureName, fixtures } from './fixture-facts.ts'
import { readAll, thrown } from './helpers.ts'

/**
 * Offsets where the input may stop cleanly: the start of an element (or the end of the input) where every
 * enclosing master has the unknown size, so the end of input is a legal end for all of them.
 */
function legalEnds(events: readonly EbmlEvent[], length: number): Set<number> {
  const masters: { offset: number; end: number; unknown: boolean }[] = []
  const open: EbmlElementStart[] = []
  for (const event of events) {
    if (event.type === 'element-start') open.push(event)
    if (event.type === 'element-end') {
      const started = open.pop()!
      masters.push({ offset: started.offset, end: event.end, unknown: event.unknownSize })
    }
  }
  const candidates = [...new Set(events.filter((event) => event.type !== 'element-end').map((e) => e.offset))]
  candidates.push(length)
  return new Set(
    candidates.filter((at) =>
      masters.every((master) => !(master.offset < at && at < master.end) || master.unknown),
    ),
  )
}

/** `count + 1` integers spread evenly over `0 … length`. */
function spread(length: number, count: number): number[] {
  return Array.from({ length: count + 1 }, (_, i) => Math.round((i * length) / count))
}

describe.each(fixtures.map((facts) => ({ ...facts, name: fixtureName(facts) })))(
  '$name cut short',
  (facts) => {
    const bytes = readFixture(...facts.path)
    const full = readAll([bytes])
    const legal = legalEnds(full, bytes.length)
    const starts = [
      ...new Set(full.filter((event) => event.type !== 'element-end').map((event) => event.offset)),
    ]
    // Cuts at element starts (some of them legal ends), at bytes spread over the file, and just after starts
    // (inside a header).
    const legalList = [...legal]
    const cuts = [
      ...new Set([
        ...spread(legalList.length - 1, 12).map((i) => legalList[i]!),
        ...spread(starts.length - 1, 16).map((i) => starts[i]!),
        ...spread(bytes.length, 24),
        ...spread(starts.length - 1, 8).map((i) => starts[i]! + 1),
      ]),
    ].filter((cut) => cut <= bytes.length)
    const key = (event: EbmlEvent) => `${event.type} ${event.id} @${event.offset}`

    it('ends cleanly only where unknown-size masters may end, and otherwise fails at the number of bytes fed', () => {
      let clean = 0
      for (const cut of cuts) {
        const reader = createEbmlReader()
        const pushed = reader.push(bytes.subarray(0, cut))
        if (legal.has(cut)) {
          const ended = reader.end()
          clean++
          // Every element that started before the cut was read, and every end event closes an element there.
          const expected = full.filter((event) => event.type !== 'element-end' && event.offset < cut).map(key)
          expect(pushed.filter((event) => event.type !== 'element-end').map(key)).toEqual(expected)
          expect(
            ended.every((event) => event.type === 'element-end' && event.unknownSize && event.end === cut),
          ).toBe(true)
          expect(reader.depth).toBe(0)
        } else {
          const error = thrown(() => reader.end())
          expect(error, `cut at ${cut}`).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED', offset: cut })
        }
      }
      // Every file can stop at its start and at its end; with unknown-size Segments, also between documents
      // and between the Segment's level-1 children.
      expect(clean).toBeGreaterThanOrEqual(facts.unknownSizeSegments ? 6 : 2)
    })
  },
)
