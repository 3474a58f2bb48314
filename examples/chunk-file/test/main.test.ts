import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { chunkFile, defaultFile } from '../src/main.ts'

const fixture = (path: string) => fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url))

async function output(file: string): Promise<{ lines: string[]; failure: unknown }> {
  const lines: string[] = []
  const failure = await chunkFile(file, (line) => lines.push(line))
  return { lines, failure }
}

describe('the chunk-file example', () => {
  it('prints the header, one row per fragment of clusters.mkv and a one-line summary', async () => {
    const { lines, failure } = await output(defaultFile)
    expect(failure).toBeUndefined()
    expect(lines[0]).toBe('clusters.mkv: 1,196,094 bytes')
    expect(lines[1]).toBe('  header: 471 bytes, TimecodeScale 1000000 ns')
    expect(lines[2]).toBe('  track 1: video, V_MPEG4/ISO/AVC')
    const rows = lines.filter((line) => /^ {2}\d /.test(line))
    expect(rows).toHaveLength(8)
    expect(rows[7]).toMatch(/^ {2}7 +13997 +13997\.0–15018\.3 +1021\.3 +102,889 +yes +1 +31$/)
    expect(lines.at(-1)).toBe('clusters.mkv: 8 fragments, 1,195,238 bytes, 444 blocks: ready for PutMedia')
  })

  it('lists violations with their ErrorIds', async () => {
    const { lines } = await output(fixture('generated/ffmpeg-h264-aac.mkv'))
    expect(lines.filter((line) => line.includes('timecode-not-increasing'))).toHaveLength(3)
    expect(lines.find((line) => line.startsWith('  fragment 1 '))).toMatch(
      /timecode-not-increasing +4004 +fragment 1/,
    )
    expect(lines.at(-1)).toBe('ffmpeg-h264-aac.mkv: 4 fragments, 198,861 bytes, 289 blocks: 3 violation(s)')
  })

  it('prints the fragments before a truncation, then the error, and resolves with it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'chunk-file-example-'))
    try {
      const file = join(directory, 'truncated.mkv')
      await writeFile(file, (await readFile(defaultFile)).subarray(0, 300_000))
      const { lines, failure } = await output(file)
      expect(failure).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
      expect(lines.filter((line) => /^ {2}\d /.test(line))).toHaveLength(1)
      expect(lines.at(-1)).toMatch(
        /^truncated\.mkv: 1 fragment, 149,082 bytes, 59 blocks: stopped by ERR_KVS_EBML_TRUNCATED/,
      )
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('prints the header of a file without Clusters', async () => {
    const { lines, failure } = await output(fixture('kvs-getmedia/empty-mkv-with-tags.mkv'))
    expect(failure).toBeUndefined()
    expect(lines[1]).toBe('  header: 559 bytes, TimecodeScale 1000000 ns')
    expect(lines.at(-1)).toBe('empty-mkv-with-tags.mkv: 0 fragments, 0 bytes, 0 blocks: ready for PutMedia')
  })

  it('is quoted verbatim in the chunker README', async () => {
    const readme = await readFile(new URL('../../../packages/chunker/README.md', import.meta.url), 'utf8')
    const main = await readFile(new URL('../src/main.ts', import.meta.url), 'utf8')
    expect(readme).toContain(`\`\`\`ts\n${main}\`\`\``)
  })
})
