import { fixturePath, readFixture, run, splitEbmlDocuments } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { type EbmlElementStart, type EbmlEvent, ElementId } from '../src/index.ts'
import { fixtureName, fixtures } from './fixture-facts.ts'
import { readAll } from './helpers.ts'

const { EBML, Segment, Cluster, SimpleBlock, BlockGroup, Tags } = ElementId

interface Level1 {
  name: 'Cluster' | 'Tags'
  offset: number
  /** Payload size, or null for the unknown size. */
  size: number | null
}

/**
 * Level-1 Clusters and Tags with their positions, and block counts, as mkvinfo prints them
 * (`-v` lists every block, `-P` adds "at <position>", `-z` adds sizes). mkvinfo must be installed: a
 * missing tool fails the test. For concatenated GetMedia documents mkvinfo reports each further EBML
 * header as damage (exit status 1, "Resyncing successful") and resyncs to the next level-1 element, so
 * its positions still cover every document.
 */
async function mkvinfo(file: string) {
  const result = await run('mkvinfo', ['--ui-language', 'en_US', '-v', '-P', '-z', file])
  expect([0, 1], result.stderr).toContain(result.code)
  const level1: Level1[] = []
  let simpleBlocks = 0
  let blockGroups = 0
  for (const line of result.stdout.split('\n')) {
    const match = /^\|\+ (Cluster|Tags) at (\d+) size (?:is unknown|\d+ data size (\d+))$/.exec(line)
    if (match !== null) {
      level1.push({
        name: match[1] as Level1['name'],
        offset: Number(match[2]),
        size: match[3] === undefined ? null : Number(match[3]),
      })
    }
    if (/^\| \+ Simple block: /.test(line)) simpleBlocks++
    if (/^\| \+ Block group at /.test(line)) blockGroups++
  }
  return { level1, simpleBlocks, blockGroups }
}

const starts = (events: readonly EbmlEvent[], id: number) =>
  events.filter((event): event is EbmlElementStart => event.type === 'element-start' && event.id === id)

describe.each(fixtures.map((facts) => ({ ...facts, name: fixtureName(facts) })))('$name', (facts) => {
  const bytes = readFixture(...facts.path)
  const events = readAll([bytes])

  it('reads the documents, clusters, blocks and tags the file holds', () => {
    expect(starts(events, EBML)).toHaveLength(facts.documents)
    expect(splitEbmlDocuments(bytes)).toHaveLength(facts.documents)
    const segments = starts(events, Segment)
    expect(segments).toHaveLength(facts.documents)
    expect(segments.every((segment) => (segment.size === undefined) === facts.unknownSizeSegments)).toBe(true)
    const clusters = starts(events, Cluster)
    expect(clusters).toHaveLength(facts.clusters)
    expect(clusters.filter((cluster) => cluster.size === undefined)).toHaveLength(facts.unknownSizeClusters)
    expect(clusters.every((cluster) => cluster.depth === 1)).toBe(true)
    const blocks = events.filter((event) => event.type === 'element' && event.id === SimpleBlock)
    expect(blocks).toHaveLength(facts.simpleBlocks)
    expect(blocks.every((block) => block.depth === 2)).toBe(true)
    expect(starts(events, BlockGroup)).toHaveLength(facts.blockGroups)
    const tags = starts(events, Tags)
    expect(tags).toHaveLength(facts.tags)
    expect(tags.every((tag) => tag.depth === 1)).toBe(true)
  })

  it('balances every element-start with an element-end and ends at the last byte', () => {
    const open: EbmlElementStart[] = []
    for (const event of events) {
      if (event.type === 'element-start') open.push(event)
      else if (event.type === 'element-end') {
        const started = open.pop()
        expect(started).toMatchObject({ id: event.id, offset: event.offset, depth: event.depth })
        expect(event.unknownSize).toBe(started?.size === undefined)
        if (started?.size !== undefined)
          expect(event.end).toBe(event.offset + started.headerSize + started.size)
      } else {
        expect(event.data).toHaveLength(event.size)
      }
    }
    expect(open).toEqual([])
    const last = events.at(-1)
    if (last !== undefined) expect(last.type === 'element-end' ? last.end : undefined).toBe(bytes.length)
  })

  it('finds every Cluster and Tags element, and every block, where mkvinfo finds them', async () => {
    const expected = await mkvinfo(fixturePath(...facts.path))
    const level1 = events
      .filter(
        (event): event is EbmlElementStart =>
          event.type === 'element-start' && event.depth === 1 && (event.id === Cluster || event.id === Tags),
      )
      .map((event) => ({
        name: event.id === Cluster ? 'Cluster' : 'Tags',
        offset: event.offset,
        size: event.size ?? null,
      }))
    expect(level1).toEqual(expected.level1)
    expect(expected.level1.filter((element) => element.name === 'Cluster')).toHaveLength(facts.clusters)
    expect(expected.simpleBlocks).toBe(facts.simpleBlocks)
    expect(expected.blockGroups).toBe(facts.blockGroups)
  })
})
