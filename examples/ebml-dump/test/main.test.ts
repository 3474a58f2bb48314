import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'
import { dump } from '../src/main.ts'

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/kvs-getmedia/${name}`, import.meta.url))

async function lines(name: string): Promise<string[]> {
  const out: string[] = []
  await dump(fixture(name), (line) => out.push(line))
  return out
}

test('the example prints the element tree with ids, offsets, sizes and leaf values', async () => {
  const tree = await lines('test_tags_empty_cluster.mkv')
  expect(tree.slice(0, 15)).toEqual([
    'EBML (0x1a45dfa3) @0 size 36',
    '  EBMLVersion (0x4286) @5 size 1: 1',
    '  EBMLReadVersion (0x42f7) @9 size 1: 1',
    '  EBMLMaxIDLength (0x42f2) @13 size 1: 4',
    '  EBMLMaxSizeLength (0x42f3) @17 size 1: 8',
    '  DocType (0x4282) @21 size 9: "matroska"',
    '  DocTypeVersion (0x4287) @33 size 1: 2',
    '  DocTypeReadVersion (0x4285) @37 size 1: 2',
    'Segment (0x18538067) @41 size unknown',
    '  Tags (0x1254c367) @46 size 64',
    '    Tag (0x7373) @58 size 54',
    '      SimpleTag (0x67c8) @68 size 44',
    '        TagName (0x45a3) @78 size 9: "testTag_0"',
    '        TagString (0x4487) @97 size 15: "testTag_0_Value"',
    '  Tags (0x1254c367) @122 size 64',
  ])
  expect(tree).toHaveLength(34)
  expect(tree.at(-1)).toBe('        TagString (0x4487) @401 size 15: "testTag_4_Value"')
})

test('the example shows unknown-size Clusters and SimpleBlock headers of concatenated GetMedia documents', async () => {
  const tree = await lines('test_mixed_tags.mkv')
  expect(tree.filter((line) => line.startsWith('EBML '))).toHaveLength(10)
  expect(
    tree.filter((line) => line.startsWith('  Cluster (0x1f43b675) @') && line.endsWith('size unknown')),
  ).toHaveLength(10)
  expect(tree).toContain('    SimpleBlock (0xa3) @939 size 104: track 1, timecode 0, key frame')
  expect(tree).toContain('      CodecID (0x86) @597 size 32: "V_MS/VFW/FOURCC"')
})

test("the package README quotes the example's describe() and dump() as they are", () => {
  const main = readFileSync(new URL('../src/main.ts', import.meta.url), 'utf8')
  const readme = readFileSync(new URL('../../../packages/ebml/README.md', import.meta.url), 'utf8')
  const quoted = main.slice(main.indexOf('/** One line per element'), main.indexOf('\nif (process.argv'))
  expect(quoted).toContain('export async function dump')
  expect(readme).toContain(quoted.trim())
})
