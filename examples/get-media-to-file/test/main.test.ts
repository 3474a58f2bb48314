import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGetMediaParser } from '@kvs-streams/get-media'
import { ffprobeCounts, perDocument, run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { main, parseOptions } from '../src/main.ts'

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'kvs-get-media-to-file-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

const FRAGMENT_LINE = /^fragment \d{47} producer=\d+\.\d{3} behind=\d+ ms bytes=\d+$/

describe('get-media-to-file', () => {
  test('puts clusters.mkv into the emulator, reads its 8 fragments back and writes an MKV ffmpeg decodes', async () => {
    const out = join(directory, 'out.mkv')
    const lines: string[] = []
    const result = await main(parseOptions(['--out', out]), (line) => lines.push(line))
    expect(lines[0]).toMatch(
      /^put .*clusters\.mkv into get-media-to-file at http:\/\/127\.0\.0\.1:\d+: 8 fragments persisted$/,
    )
    const fragmentLines = lines.filter((line) => line.startsWith('fragment '))
    expect(fragmentLines).toHaveLength(8)
    for (const line of fragmentLines) expect(line).toMatch(FRAGMENT_LINE)
    expect(lines.at(-1)).toBe(`wrote 8 fragments, ${result.bytes} bytes to ${out}`)

    const bytes = new Uint8Array(await readFile(out))
    expect(bytes.length).toBe(result.bytes)
    const fragments = createGetMediaParser({ mode: 'raw' })
      .push(bytes)
      .filter((event) => event.type === 'fragment')
    expect(fragments.map((fragment) => fragment.complete)).toEqual(Array(8).fill(true))
    // ffmpeg decodes every frame of the concatenated documents (it resyncs at each EBML header)…
    const ffmpeg = await run('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:v', '-f', 'null', '-'])
    expect(ffmpeg.code).toBe(0)
    const probe = await run('ffprobe', [
      '-v',
      'quiet',
      '-count_frames',
      '-select_streams',
      'v',
      '-show_entries',
      'stream=nb_read_frames',
      '-of',
      'csv=p=0',
      out,
    ])
    expect(Number(probe.stdout.trim())).toBe(
      fragments.reduce((sum, fragment) => sum + fragment.frameCount, 0),
    )
    // …and each document alone is a valid MKV file.
    const documents = await perDocument(out, ffprobeCounts)
    expect(documents.map((document) => document.packetsPerStream)).toEqual(
      fragments.map((fragment) => [fragment.frameCount]),
    )
  })

  test('with --follow keeps reading until the signal aborts, then closes the file', async () => {
    const out = join(directory, 'follow.mkv')
    const controller = new AbortController()
    const lines: string[] = []
    const result = await main(
      parseOptions(['--out', out, '--follow']),
      (line) => {
        lines.push(line)
        if (lines.filter((entry) => entry.startsWith('fragment ')).length === 8) {
          setTimeout(() => controller.abort(), 50)
        }
      },
      controller.signal,
    )
    expect(result.fragments).toBe(8)
    expect((await readFile(out)).length).toBe(result.bytes)
  })

  test('rejects inconsistent options', () => {
    expect(() => parseOptions(['--stream', 'only-a-stream'])).toThrow('--stream and --region go together')
    expect(() => parseOptions(['--fragments', '0'])).toThrow(TypeError)
    expect(parseOptions(['--stream', 's', '--region', 'us-west-2', '--start', 'NOW'])).toMatchObject({
      stream: 's',
      region: 'us-west-2',
      start: 'NOW',
      follow: false,
      fragments: 8,
    })
  })
})
