import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '@kvs-streams/test-utils'
import { describe, expect, it, onTestFinished } from 'vitest'
import { defaultInput, mkvToFmp4 } from '../src/main.ts'

describe('the mkv-to-fmp4 example', () => {
  it('writes a fragmented MP4 of the capture that ffprobe reads with every frame', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvs-example-fmp4-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const output = join(dir, 'clusters.mp4')
    const lines: string[] = []
    expect(await mkvToFmp4(defaultInput, output, (line) => lines.push(line))).toBe(8)
    expect(lines[0]).toBe('clusters.mkv: video/mp4; codecs="avc1.640028"')
    expect(lines.at(-1)).toBe('clusters.mp4: 8 media segments')
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_name,nb_read_packets',
      '-of',
      'csv=p=0',
      output,
    ])
    // clusters.mkv holds 444 H.264 frames (fixtures/SOURCES.md; the chunk-file example counts the same blocks).
    expect(probe.stdout.trim()).toBe('h264,444')
  })
})
