import type { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { ffprobeCounts } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorEnv, ensureBuilt, fixture, jsonLines, kvs } from './support.ts'

let emulator: Emulator
let env: Record<string, string>
const dir = mkdtempSync(join(tmpdir(), 'kvs-cli-get-'))
const clustersMkv = fixture('kvs-getmedia/clusters.mkv')

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({ port: 0 })
  env = emulatorEnv(emulator.url)
  const put = await kvs(['put', 'archive', clustersMkv, '--create'], { env })
  expect(put.code).toBe(0)
})
afterAll(async () => {
  await emulator?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('kvs get', () => {
  it('writes the stream from the earliest fragment to an MKV file that ffprobe reads', async () => {
    const out = join(dir, 'copy.mkv')
    const result = await kvs(['get', 'archive', '--start', 'earliest', '--until', '8', '-o', out], { env })
    expect(result.code).toBe(0)
    const lines = result.stderr.trim().split('\n')
    expect(lines[0]).toBe(`reading archive from the earliest fragment until 8 fragments into ${out}`)
    expect(
      lines.filter((line) => /^fragment \d{40,} {2}producer \S+Z {2}server \S+Z {2}[\d,]+ B/.test(line)),
    ).toHaveLength(8)
    expect(lines.at(-1)).toMatch(/^wrote 8 fragments, 1\.2\d MB to .*copy\.mkv \(reached --until\)$/)
    const probe = await ffprobeCounts(out)
    expect(probe.streams.map((stream) => stream.codec)).toEqual(['h264'])
    // Every frame of the input (444 blocks in 8 clusters) is read back.
    expect(probe.packetsPerStream).toEqual([444])
    expect(readFileSync(out).byteLength).toBeGreaterThan(1_196_000)
  })

  it('prints one JSON object per fragment with --json and resumes after a fragment number', async () => {
    const first = await kvs(
      ['get', 'archive', '--start', 'earliest', '--until', '3', '-o', join(dir, 'a.mkv'), '--json'],
      { env },
    )
    expect(first.code).toBe(0)
    const events = jsonLines(first.stderr)
    const fragments = events.filter((event) => event.type === 'fragment')
    expect(fragments).toHaveLength(3)
    expect(fragments[0]).toMatchObject({ index: 0, complete: true })
    expect(events.at(-1)).toMatchObject({ type: 'summary', fragments: 3, stoppedBy: 'until' })
    const last = String(fragments[2]!.fragmentNumber)
    const rest = await kvs(
      ['get', 'archive', '--start', last, '--until', '5', '-o', join(dir, 'b.mkv'), '--json'],
      { env },
    )
    const resumed = jsonLines(rest.stderr).filter((event) => event.type === 'fragment')
    expect(resumed).toHaveLength(5)
    expect(BigInt(String(resumed[0]!.fragmentNumber))).toBeGreaterThan(BigInt(last))
  })

  it('writes to stdout and stops once an --until time has passed and the stream is quiet', async () => {
    const result = await kvs(['get', 'archive', '--start', 'earliest', '--until', 'now'], {
      env,
      timeoutMs: 20_000,
    })
    expect(result.code).toBe(0)
    expect(result.stdoutBytes.byteLength).toBeGreaterThan(1_196_000)
    expect(result.stderr).toMatch(/^wrote 8 fragments, .* to stdout \(no fragment for a while\)$/m)
  })

  it('stops cleanly on SIGINT while following live, leaving whole fragments', async () => {
    const out = join(dir, 'live.mkv')
    let child: ReturnType<typeof spawn> | undefined
    const running = kvs(['get', 'archive', '--start', 'earliest', '-o', out], {
      env,
      onSpawn: (spawned) => {
        child = spawned
      },
    })
    // Interrupt once every archived fragment has been written (the 8th fragment line is on stderr).
    await new Promise<void>((resolve) => {
      let seen = ''
      child!.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        if ((seen.match(/^fragment /gm) ?? []).length >= 8) resolve()
      })
    })
    child!.kill('SIGINT')
    const result = await running
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /wrote 8 fragments, .* \(interrupted\)\nresume with: kvs get archive --start \d{40,}\n$/,
    )
    expect((await ffprobeCounts(out)).streams).toHaveLength(1)
  })

  it('says how to create a stream that does not exist', async () => {
    const result = await kvs(['get', 'nothing-here', '-o', join(dir, 'x.mkv')], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain('kvs: error: Stream "nothing-here" was not found')
  })
})
