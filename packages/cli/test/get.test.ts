import type { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Emulator,
  type EmulatorOptions,
  type GetMediaFaults,
  startEmulator,
} from '@kvs-streams/emulator'
import { createGetMediaParser, type MediaFragmentEvent } from '@kvs-streams/get-media'
import { ffprobeCounts, mkvinfoSummary, run, splitEbmlDocuments } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
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

/** An emulator whose GetMedia connections to each stream get `faults(connectionIndex)`, with `clusters.mkv` put into `streamName`. */
async function faultyEmulator(
  streamName: string,
  faults: (connectionIndex: number) => GetMediaFaults | undefined,
): Promise<{ emulator: Emulator; env: Record<string, string>; fragmentNumbers: string[] }> {
  const faulty = await startEmulator({ port: 0, faults: { getMedia: (_name, index) => faults(index) } })
  onTestFinished(() => faulty.close())
  const faultyEnv = emulatorEnv(faulty.url)
  const put = await kvs(['put', streamName, clustersMkv, '--create'], { env: faultyEnv })
  expect(put.code).toBe(0)
  const fragmentNumbers = faulty.storage.listFragments(streamName).map((fragment) => fragment.fragmentNumber)
  expect(fragmentNumbers).toHaveLength(8)
  return { emulator: faulty, env: faultyEnv, fragmentNumbers }
}

/** An emulator with its own `options` and `clusters.mkv` put into `streamName`. */
async function archiveEmulator(
  streamName: string,
  options: EmulatorOptions,
): Promise<{ emulator: Emulator; env: Record<string, string> }> {
  const own = await startEmulator({ port: 0, ...options })
  onTestFinished(() => own.close())
  const ownEnv = emulatorEnv(own.url)
  const put = await kvs(['put', streamName, clustersMkv, '--create'], { env: ownEnv })
  expect(put.code).toBe(0)
  return { emulator: own, env: ownEnv }
}

/** The GetMedia fragments of an output file; throws if it ends inside one (a cut cluster). */
function fragmentsOf(file: string): MediaFragmentEvent[] {
  const parser = createGetMediaParser({ mode: 'raw' })
  const events = [...parser.push(readFileSync(file)), ...parser.end()]
  return events.filter((event): event is MediaFragmentEvent => event.type === 'fragment')
}

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

  it('writes one merged MKV by default: one EBML document, every cluster and frame, a known duration, Cues', async () => {
    const out = join(dir, 'merged.mkv')
    const result = await kvs(['get', 'archive', '--start', 'earliest', '--until', '8', '-o', out], { env })
    expect(result.code).toBe(0)
    const bytes = readFileSync(out)
    expect(splitEbmlDocuments(bytes)).toHaveLength(1)
    const info = await mkvinfoSummary(out)
    expect(info.segments).toBe(1)
    expect(info.resyncs).toBe(0)
    expect(info.clusters).toBe(8)
    expect(info.simpleBlocks).toBe(444)
    const identified = JSON.parse((await run('mkvmerge', ['-J', out])).stdout) as {
      container: { properties: { duration?: number } }
      errors: string[]
    }
    expect(identified.errors).toEqual([])
    // clusters.mkv holds 15.0 s of video: mkvmerge keeps all of it, not the first fragment's.
    expect(identified.container.properties.duration).toBeGreaterThan(14_900_000_000)
    const cues = await run('mkvinfo', ['--ui-language', 'en_US', '-a', out])
    expect(cues.stdout.split('\n').filter((line) => /\+ Cue point$/.test(line))).toHaveLength(8)
    expect((await ffprobeCounts(out)).packetsPerStream).toEqual([444])
    const gst = await run('gst-launch-1.0', [
      '-q',
      'filesrc',
      `location=${out}`,
      '!',
      'matroskademux',
      '!',
      'fakesink',
    ])
    expect({ code: gst.code, stderr: gst.stderr }).toEqual({ code: 0, stderr: '' })
  })

  it('writes the service’s bytes with --raw: one MKV document per fragment', async () => {
    const out = join(dir, 'raw.mkv')
    const result = await kvs(['get', 'archive', '--start', 'earliest', '--until', '8', '-o', out, '--raw'], {
      env,
    })
    expect(result.code).toBe(0)
    expect(splitEbmlDocuments(readFileSync(out))).toHaveLength(8)
    expect(fragmentsOf(out).every((fragment) => fragment.complete)).toBe(true)
    expect((await ffprobeCounts(out)).packetsPerStream).toEqual([444])
  })

  it('writes one merged MKV to stdout too (no patches: unknown sizes), every frame readable', async () => {
    const result = await kvs(['get', 'archive', '--start', 'earliest', '--until', '8', '-o', '-'], { env })
    expect(result.code).toBe(0)
    expect(splitEbmlDocuments(result.stdoutBytes)).toHaveLength(1)
    const out = join(dir, 'stdout.mkv')
    writeFileSync(out, result.stdoutBytes)
    expect((await mkvinfoSummary(out)).clusters).toBe(8)
    expect((await ffprobeCounts(out)).packetsPerStream).toEqual([444])
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

  it('writes to stdout and stops when the service ends the caught-up response once an --until time has passed', {
    timeout: 60_000,
  }, async () => {
    // Much shorter than kvs get's own 3 s wait after --until: the end of the response is what stops it.
    const { env: quickEnv } = await archiveEmulator('quick', { getMediaIdleTimeoutMs: 200 })
    const result = await kvs(['get', 'quick', '--start', 'earliest', '--until', 'now', '--json'], {
      env: quickEnv,
      timeoutMs: 40_000,
    })
    expect(result.code).toBe(0)
    expect(result.stdoutBytes.byteLength).toBeGreaterThan(1_196_000)
    const events = jsonLines(result.stderr)
    expect(events.filter((event) => event.type === 'fragment')).toHaveLength(8)
    expect(events.filter((event) => event.type === 'notice')).toEqual([])
    expect(events.at(-1)).toMatchObject({ type: 'summary', fragments: 8, stoppedBy: 'until' })
  })

  it('writes to stdout and stops once an --until time has passed and a response kept open stays quiet', {
    timeout: 60_000,
  }, async () => {
    // A service that keeps the caught-up response open: kvs get's own wait after --until ends it.
    const { env: openEnv } = await archiveEmulator('open', { getMediaIdleTimeoutMs: 60_000 })
    const result = await kvs(['get', 'open', '--start', 'earliest', '--until', 'now'], {
      env: openEnv,
      timeoutMs: 40_000,
    })
    expect(result.code).toBe(0)
    expect(result.stdoutBytes.byteLength).toBeGreaterThan(1_196_000)
    expect(result.stderr).toMatch(/^wrote 8 fragments, .* to stdout \(no fragment for a while\)$/m)
  })

  it('follows a stream across caught-up ends of the response silently, writing each fragment once', {
    timeout: 60_000,
  }, async () => {
    const finished: unknown[] = []
    const { emulator: live, env: liveEnv } = await archiveEmulator('paused', {
      getMediaIdleTimeoutMs: 200,
      logger: {
        info(message, fields) {
          if (message === 'GetMedia connection finished') finished.push(fields?.reason)
        },
      },
    })
    const out = join(dir, 'paused.mkv')
    let child: ReturnType<typeof spawn> | undefined
    const running = kvs(['get', 'paused', '--start', 'earliest', '--until', '16', '-o', out, '--raw'], {
      env: liveEnv,
      timeoutMs: 30_000,
      onSpawn: (spawned) => {
        child = spawned
      },
    })
    let seen = ''
    child!.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
    })
    // Every stored fragment written, then (the producer pausing) two responses ended caught up.
    await expect
      .poll(() => (seen.match(/^fragment /gm) ?? []).length >= 8 && finished.length >= 2, { timeout: 20_000 })
      .toBe(true)
    const put = await kvs(['put', 'paused', clustersMkv], { env: liveEnv })
    expect(put.code).toBe(0)
    const result = await running
    expect(result.code).toBe(0)
    expect(finished.slice(0, 2)).toEqual(['caught-up', 'caught-up'])
    expect(result.stderr).not.toMatch(/GetMedia connection ended|warning/)
    expect(result.stderr).toMatch(/^wrote 16 fragments, .* \(reached --until\)$/m)
    const stored = live.storage.listFragments('paused').map((fragment) => fragment.fragmentNumber)
    expect(stored).toHaveLength(16)
    expect(fragmentsOf(out).map((fragment) => [fragment.fragmentNumber, fragment.complete])).toEqual(
      stored.map((number) => [number, true]),
    )
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

  it('keeps reconnecting while GetMedia connections fail, then writes every fragment exactly once', async () => {
    // Cut inside the third fragment, then five connections in a row die before a byte (5 used to end kvs get).
    const { env: faultyEnv, fragmentNumbers } = await faultyEmulator('flaky', (index) =>
      index === 0 ? { dropInFragment: 3 } : index <= 5 ? { dropAfterBytes: 0 } : undefined,
    )
    const out = join(dir, 'flaky.mkv')
    const result = await kvs(['get', 'flaky', '--start', 'earliest', '--until', '8', '-o', out, '--raw'], {
      env: faultyEnv,
    })
    expect(result.code).toBe(0)
    expect(result.stderr.match(/^GetMedia connection ended \(/gm)).toHaveLength(6)
    expect(result.stderr).toMatch(/^wrote 8 fragments, .* \(reached --until\)$/m)
    expect(fragmentsOf(out).map((fragment) => [fragment.fragmentNumber, fragment.complete])).toEqual(
      fragmentNumbers.map((number) => [number, true]),
    )
    expect((await ffprobeCounts(out)).packetsPerStream).toEqual([444])
  })

  it('gives up after --retry-for with status 75, a file of whole fragments, and the --start to resume with', async () => {
    let dead = true
    // Two whole fragments, a cut inside the third, then a GetMedia endpoint that drops every connection.
    const { env: faultyEnv, fragmentNumbers } = await faultyEmulator('dying', (index) =>
      index === 0 ? { dropInFragment: 3 } : dead ? { dropAfterBytes: 0 } : undefined,
    )
    const out = join(dir, 'dying.mkv')
    const result = await kvs(
      ['get', 'dying', '--start', 'earliest', '-o', out, '--raw', '--retry-for', '1s'],
      {
        env: faultyEnv,
      },
    )
    expect(result.code).toBe(75)
    const lines = result.stderr.trim().split('\n')
    expect(lines.filter((line) => line.startsWith('fragment '))).toHaveLength(2)
    const wrote = lines.findIndex((line) => line.startsWith('wrote '))
    expect(lines[wrote]).toMatch(
      /^wrote 2 fragments, [\d.]+ kB to .*dying\.mkv \(gave up after retrying for 1\.\d s, \d+ failed connections\)$/,
    )
    expect(lines[wrote + 1]).toBe(`resume with: kvs get dying --start ${fragmentNumbers[1]}`)
    expect(lines[wrote + 2]).toMatch(
      /^kvs: error: Gave up reconnecting to GetMedia after retrying for 1\.\d s \(\d+ failed connections\)\. Last error: The connection failed \(region us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\): Connection failed: other side closed$/,
    )
    expect(lines.slice(wrote + 3)).toEqual([
      '  What was written ends on a whole fragment: go on with the "resume with" command above.',
      '  --retry-for sets how long kvs get keeps reconnecting (default 60s).',
    ])
    // The file holds the two whole fragments, nothing of the third.
    const written = fragmentsOf(out)
    expect(written.map((fragment) => [fragment.fragmentNumber, fragment.complete])).toEqual([
      [fragmentNumbers[0], true],
      [fragmentNumbers[1], true],
    ])
    const frames = written.reduce((sum, fragment) => sum + fragment.frameCount, 0)
    expect((await ffprobeCounts(out)).packetsPerStream).toEqual([frames])
    // Resumed as printed once the endpoint is back, the rest follows: every fragment once across both files.
    dead = false
    const rest = join(dir, 'dying-rest.mkv')
    const resumed = await kvs(
      ['get', 'dying', '--start', fragmentNumbers[1]!, '--until', '6', '-o', rest, '--raw'],
      {
        env: faultyEnv,
      },
    )
    expect(resumed.code).toBe(0)
    expect([...written, ...fragmentsOf(rest)].map((fragment) => fragment.fragmentNumber)).toEqual(
      fragmentNumbers,
    )
  })

  it('reports giving up in the --json summary and on an endpoint that never delivered, resumes from the start', async () => {
    const { env: faultyEnv } = await faultyEmulator('never', () => ({ dropAfterBytes: 0 }))
    const result = await kvs(
      ['get', 'never', '--start', 'earliest', '-o', join(dir, 'never.mkv'), '--retry-for', '500ms', '--json'],
      { env: faultyEnv },
    )
    expect(result.code).toBe(75)
    const summary = jsonLines(result.stderr).find((event) => event.type === 'summary')
    expect(summary).toMatchObject({
      fragments: 0,
      stoppedBy: 'gave-up',
      resumeCommand: 'kvs get never --start earliest',
    })
    expect(summary!.retriedForMs).toBeGreaterThanOrEqual(500)
    expect(summary!.failedConnections).toBeGreaterThanOrEqual(2)
    expect(summary!.lastError).toMatch(/^KvsConnectionError: /)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({
      type: 'error',
      name: 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED',
      exitCode: 75,
    })
  })

  it('rejects a --retry-for that is not a duration', async () => {
    const result = await kvs(['get', 'archive', '--retry-for', 'soon', '-o', join(dir, 'x.mkv')], { env })
    expect(result.code).toBe(252)
    expect(result.stderr).toContain('--retry-for must be a duration such as 30s or 10m, got "soon"')
  })

  it('says how to create a stream that does not exist', async () => {
    const result = await kvs(['get', 'nothing-here', '-o', join(dir, 'x.mkv')], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain('kvs: error: Stream "nothing-here" was not found')
  })
})
