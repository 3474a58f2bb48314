import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '@kvs-streams/emulator'
import { readStream } from '@kvs-streams/get-media'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { type FleetSnapshot, formatFleet, worstExitCode } from '../src/commands/put-many.ts'
import { createStyle } from '../src/io.ts'
import { emulatorEnv, ensureBuilt, ffmpeg, jsonLines, kvs, runInProcess } from './support.ts'

// kvs put --many: a fleet of streams from one process, one line of a list each (files, FIFOs fed by ffmpeg),
// against the emulator over real sockets. A failing stream must not stop the others.

let emulator: Emulator
let env: Record<string, string>
let dir = ''
const file = (name: string) => join(dir, name)

/** 6 s of 25 fps video, a key frame every 2 s: 150 frames, three fragments of 50. */
const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-t', '6']
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0']
const EVERY_2S = ['-g', '50', '-keyint_min', '50']

beforeAll(async () => {
  await ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'kvs-cli-put-many-'))
  ffmpeg([...VIDEO, ...H264, ...EVERY_2S, '-f', 'matroska', file('cam.mkv')])
  ffmpeg([...VIDEO, ...H264, ...EVERY_2S, '-f', 'h264', file('cam.h264')])
  writeFileSync(file('notes.txt'), 'this is not video, only a line of text that goes on for a while\n')
  emulator = await startEmulator({
    port: 0,
    // The first PutMedia connection to "rejected" answers its second fragment with ERROR 4004.
    faults: (streamName, connectionIndex) =>
      streamName === 'rejected' && connectionIndex === 0
        ? { errorAfterFragments: { count: 1, errorId: 4004 } }
        : undefined,
  })
  env = emulatorEnv(emulator.url)
}, 120_000)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
  return emulator?.close()
})

/** Reads `streamName` back with GetMedia: per fragment, its frame count and metadata. */
async function readBack(streamName: string) {
  const fragments: { frames: number; metadata: Record<string, string> }[] = []
  for await (const event of readStream({
    streamName,
    startSelector: { StartSelectorType: 'EARLIEST' },
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...DEFAULT_CREDENTIALS },
    follow: false,
  })) {
    if (event.type === 'fragment-end') {
      fragments.push({
        frames: event.frameCount,
        metadata: Object.fromEntries(event.metadata.map((tag) => [tag.name, tag.value])),
      })
    }
  }
  return fragments
}

/** Writes `list` into a list file and returns its path. */
function list(name: string, lines: readonly string[]): string {
  const path = file(name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

/** Makes a FIFO. */
function mkfifo(name: string): string {
  const path = file(name)
  const result = spawnSync('mkfifo', [path], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`mkfifo ${path} failed: ${result.stderr}`)
  return path
}

/** Starts `command args` in the background (an encoder writing into a FIFO); killed when the test ends. */
function background(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

describe('kvs put --many', () => {
  it('puts every stream of a list (MKV and H.264 files, a FIFO) and stores every frame of each', async () => {
    const fifo = mkfifo('relay.mkv')
    const path = list('cameras.txt', [
      '# five cameras',
      'front-door cam.mkv',
      '',
      'back-door\tcam.mkv   # a tab between, a comment after',
      'garage cam.h264',
      `relay ${fifo}`,
      '{"stream":"yard","file":"cam.mkv","tags":{"camera":"yard"}}',
    ])
    // The FIFO's writer: an encoder relaying the recording, opened once kvs reads the FIFO.
    background('sh', ['-c', 'cat "$1" > "$2"', 'sh', file('cam.mkv'), fifo])
    const result = await kvs(['put', '--many', path, '--create', '--tag', 'site=lab', '--json'], {
      env,
      timeoutMs: 60_000,
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    const streams = ['front-door', 'back-door', 'garage', 'relay', 'yard']
    // Every event but the fleet's own names its stream.
    for (const event of events) {
      if (event.type === 'fleet-stats' || event.type === 'summary') continue
      expect(streams).toContain(event.stream)
    }
    expect(
      events
        .filter((event) => event.type === 'stream-created')
        .map((event) => event.stream)
        .sort(),
    ).toEqual([...streams].sort())
    const ends = events.filter((event) => event.type === 'stream-summary')
    expect(ends.map((event) => event.stream).sort()).toEqual([...streams].sort())
    for (const end of ends) {
      expect(end).toMatchObject({ ok: true, interrupted: false, exitCode: 0, fragments: 3, persisted: 3 })
    }
    const summary = events.at(-1)!
    expect(summary).toMatchObject({
      type: 'summary',
      ok: true,
      interrupted: false,
      exitCode: 0,
      streams: { total: 5, done: 5, failed: 0, interrupted: 0 },
      fragments: 15,
      persisted: 15,
      skipped: 0,
    })
    expect((summary.results as Record<string, unknown>[]).map((item) => item.stream)).toEqual(streams)
    for (const stream of streams) {
      const stored = await readBack(stream)
      expect(stored.map((fragment) => fragment.frames)).toEqual([50, 50, 50])
      for (const fragment of stored) {
        expect(fragment.metadata).toEqual(
          stream === 'yard' ? { site: 'lab', camera: 'yard' } : { site: 'lab' },
        )
      }
    }
  }, 90_000)

  it('goes on when lines fail (a missing file, text, a stream that does not exist) and names them', async () => {
    for (const name of ['ok-1', 'ok-2', 'lost', 'text']) await kvs(['streams', 'create', name], { env })
    const path = list('broken.txt', [
      'ok-1 cam.mkv',
      'lost no-such-file.mkv',
      'text notes.txt',
      'nowhere cam.mkv',
      'ok-2 cam.h264',
    ])
    const result = await kvs(['put', '--many', path, '--json'], { env, timeoutMs: 60_000 })
    // The worst status: the missing file (255) over the missing stream (254) over the text (1).
    expect(result.code).toBe(255)
    const summary = jsonLines(result.stdout).at(-1)!
    expect(summary).toMatchObject({
      type: 'summary',
      ok: false,
      exitCode: 255,
      streams: { total: 5, done: 2, failed: 3, interrupted: 0 },
      persisted: 6,
    })
    const results = Object.fromEntries(
      (summary.results as Record<string, unknown>[]).map((item) => [item.stream, item]),
    )
    expect(results['ok-1']).toMatchObject({ ok: true, exitCode: 0, persisted: 3 })
    expect(results['ok-2']).toMatchObject({ ok: true, exitCode: 0, persisted: 3 })
    expect(results.lost).toMatchObject({
      ok: false,
      exitCode: 255,
      fragments: 0,
      error: { message: `No such file or directory: ${file('no-such-file.mkv')}` },
    })
    expect(results.text).toMatchObject({ ok: false, exitCode: 1, fragments: 0 })
    expect(results.nowhere).toMatchObject({
      ok: false,
      exitCode: 254,
      error: { name: 'ResourceNotFoundException' },
    })
    expect(result.stderr).toContain(
      `kvs: error: lost (${path} line 2): No such file or directory: ${file('no-such-file.mkv')}`,
    )
    expect(result.stderr).toContain(
      `kvs: error: text (${path} line 3): The input ends before its first fragment is complete`,
    )
    expect(result.stderr).toContain(`kvs: error: nowhere (${path} line 4): Stream "nowhere" was not found`)
    expect(result.stderr).toContain(
      'or let kvs put --many create the streams of its list that do not exist: add --create',
    )
    expect((await readBack('ok-1')).map((fragment) => fragment.frames)).toEqual([50, 50, 50])
    expect((await readBack('ok-2')).map((fragment) => fragment.frames)).toEqual([50, 50, 50])
    expect(await readBack('lost')).toEqual([])
  }, 90_000)

  it('fails only the stream an ERROR ack rejects (exit 1); -q leaves the summary and the errors', async () => {
    await kvs(['streams', 'create', 'accepted'], { env })
    await kvs(['streams', 'create', 'rejected'], { env })
    const path = list('rejects.txt', ['accepted cam.mkv', 'rejected cam.mkv'])
    // stdout piped without --json: JSON lines, of which -q leaves the summary; the errors go to stderr.
    const result = await kvs(['put', '--many', path, '-q'], { env, timeoutMs: 60_000 })
    expect(result.code).toBe(1)
    const lines = jsonLines(result.stdout)
    expect(lines.map((line) => line.type)).toEqual(['summary'])
    expect(lines[0]).toMatchObject({
      ok: false,
      exitCode: 1,
      streams: { done: 1, failed: 1 },
    })
    expect(result.stderr).toContain(
      `kvs: error: rejected (${path} line 2): 1 of 3 fragments were not stored (ERROR 4004 FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS)`,
    )
    expect(result.stderr).toContain('Not stored: fragment 1 (timecode')
    expect((await readBack('accepted')).map((fragment) => fragment.frames)).toEqual([50, 50, 50])
    expect((await readBack('rejected')).map((fragment) => fragment.frames)).toEqual([50, 50])
  }, 90_000)

  it('on SIGINT stops every live source, stores what was acknowledged and exits 130', async () => {
    const mkvFifo = mkfifo('live-mkv')
    const h264Fifo = mkfifo('live-h264')
    const idleFifo = mkfifo('idle')
    const path = list('live.txt', [`live-mkv ${mkvFifo}`, `live-h264 ${h264Fifo}`, `idle ${idleFifo}`])
    let child: ChildProcess | undefined
    const running = kvs(['put', '--many', path, '--create', '--json'], {
      env,
      timeoutMs: 60_000,
      onSpawn: (spawned) => {
        child = spawned
      },
    })
    // The encoders start after kvs: a FIFO is waited for, not read as empty. "idle" never gets a writer.
    // A key frame every second, one cluster each.
    const live = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', ...H264, '-g', '25']
    const encoders = [
      background('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y', ...live],
        ...['-cluster_size_limit', '2M', '-cluster_time_limit', '1000', '-f', 'matroska', mkvFifo],
      ]),
      background('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...live, '-f', 'h264', h264Fifo]),
    ]
    await new Promise<void>((resolve) => {
      let seen = ''
      child!.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        const acknowledged = (stream: string) =>
          jsonLines(seen.slice(0, seen.lastIndexOf('\n') + 1)).filter(
            (event) => event.type === 'fragment-acknowledged' && event.stream === stream,
          ).length
        if (acknowledged('live-mkv') >= 2 && acknowledged('live-h264') >= 2) resolve()
      })
    })
    child!.kill('SIGINT')
    const result = await running
    expect(result.code).toBe(130)
    for (const encoder of encoders) encoder.kill('SIGKILL')
    const events = jsonLines(result.stdout)
    const stats = events.filter((event) => event.type === 'fleet-stats')
    expect(stats.length).toBeGreaterThan(0)
    expect(stats.at(-1)).toMatchObject({
      streams: { total: 3, failed: 0 },
      bytesSent: expect.any(Number),
      bytesPerSecond: expect.any(Number),
      fragments: { accepted: expect.any(Number), persisted: expect.any(Number) },
      ackLatencyMs: { p50: expect.any(Number), p99: expect.any(Number) },
    })
    const summary = events.at(-1)!
    expect(summary).toMatchObject({
      type: 'summary',
      ok: true,
      interrupted: true,
      exitCode: 130,
      streams: { total: 3, done: 0, failed: 0, interrupted: 3 },
      skipped: 0,
    })
    const results = Object.fromEntries(
      (summary.results as Record<string, unknown>[]).map((item) => [item.stream, item]),
    )
    expect(results.idle).toMatchObject({ ok: true, interrupted: true, exitCode: 130, bytesRead: 0 })
    for (const stream of ['live-mkv', 'live-h264']) {
      const result = results[stream]!
      expect(result).toMatchObject({ ok: true, interrupted: true, exitCode: 130, skipped: 0 })
      // Everything read was sent and acknowledged before kvs exited, and that is what the stream holds.
      expect(result.fragments).toBeGreaterThanOrEqual(2)
      expect(result.persisted).toBe(result.fragments)
      expect(await readBack(stream)).toHaveLength(result.persisted as number)
    }
    expect(await readBack('idle')).toEqual([])
  }, 90_000)

  it.each([
    [['cam-1 a.mkv extra'], 'line 1: expected "<stream> <file|fifo>", got 3 fields: "cam-1 a.mkv extra"'],
    [['# header', 'cam-1'], 'line 2: expected "<stream> <file|fifo>", got 1 field: "cam-1"'],
    [['cam-1 a.mkv', 'cam-1 b.mkv'], 'line 2: stream cam-1 is already on line 1'],
    [['cam-1 -'], 'line 1: stdin (-) cannot be one of many sources'],
    [['bad/name a.mkv'], 'line 1: "bad/name" is not a stream name'],
    [['{"stream":"cam-1","file":"a.mkv","fsp":30}'], 'line 1: unknown field "fsp"'],
    [['{"stream":"cam-1" "file":"a.mkv"}'], 'line 1: not valid JSON'],
    [['{"stream":"cam-1","file":"a.mkv","format":"mp4"}'], 'line 1: "format" must be one of mkv, h264'],
    [['{"stream":"cam-1","file":"a.mkv","tags":{"AWS_X":"1"}}'], 'line 1: tag AWS_X:'],
    [['# nothing', ''], 'lists no sources'],
  ])('refuses the list %j with a usage error naming the line (exit 252)', async (lines, message) => {
    const path = list('bad-list.txt', lines)
    const result = await runInProcess(['put', '--many', path, '--json'], env)
    expect(result.code).toBe(252)
    expect(result.stderr).toContain(`kvs: error: ${path} ${message}`)
    expect(result.stderr).toContain('  Usage: kvs put --many <list> [options]')
    expect(result.stderr).not.toContain('Usage: kvs put <stream>')
    // Nothing was started: the error is the only JSON line.
    expect(jsonLines(result.stdout).map((line) => line.type)).toEqual(['error'])
  })

  it('refuses --fps for a line whose format has timestamps, and too many tags, naming the line (exit 252)', async () => {
    const fps = list('fps.txt', ['cam-1 cam.h264', '{"stream":"cam-2","file":"cam.mkv","format":"mkv"}'])
    const wrongFps = await runInProcess(['put', '--many', fps, '--fps', '30'], env)
    expect(wrongFps.code).toBe(252)
    expect(wrongFps.stderr).toContain(`kvs: error: ${fps} line 2: --fps goes with raw video`)
    const tags = list('tags.txt', [
      `{"stream":"cam-1","file":"cam.mkv","tags":{${Array.from({ length: 8 }, (_, i) => `"t${i}":"x"`).join(',')}}}`,
    ])
    const tooMany = await runInProcess(
      ['put', '--many', tags, '--tag', 'a=1', '--tag', 'b=2', '--tag', 'c=3'],
      env,
    )
    expect(tooMany.code).toBe(252)
    expect(tooMany.stderr).toContain(`kvs: error: ${tags} line 1: 11 tags with --tag's (KVS takes at most 10`)
  })

  it('refuses stream and file arguments next to --many (exit 252)', async () => {
    const path = list('one.txt', ['cam-1 cam.mkv'])
    const result = await runInProcess(['put', 'cam-1', 'cam.mkv', '--many', path], env)
    expect(result.code).toBe(252)
    expect(result.stderr).toContain('kvs put --many takes its streams and files from the list')
  })
})

describe('worstExitCode', () => {
  it('is a failure (the highest status) before an interruption before success', () => {
    expect(worstExitCode([])).toBe(0)
    expect(worstExitCode([0, 0])).toBe(0)
    expect(worstExitCode([0, 130, 0])).toBe(130)
    expect(worstExitCode([130, 1, 0])).toBe(1)
    expect(worstExitCode([1, 254, 130, 252])).toBe(254)
    expect(worstExitCode([255, 254])).toBe(255)
  })
})

describe('the status block of kvs put --many', () => {
  /** 1,000 streams, `reconnecting` of them reconnecting. */
  const snapshot = (reconnecting: number): FleetSnapshot => ({
    streams: {
      total: 1000,
      starting: 2,
      streaming: 990 - reconnecting,
      reconnecting,
      done: 3,
      failed: 5,
      interrupted: 0,
    },
    bytesSent: 123_456_789,
    fragments: {
      accepted: 9000,
      buffered: 12,
      received: 8990,
      persisted: 8988,
      acknowledged: 8988,
      skipped: 0,
    },
    reconnects: 7,
    ackLatencyMs: { count: 9000, p50: 180, p99: 420, max: 900 },
    reconnecting: Array.from({ length: reconnecting }, (_, index) => `camera-${index}`),
    failed: ['camera-990', 'camera-991', 'camera-992', 'camera-993', 'camera-994'],
  })
  const extra = { elapsedMs: 72_000, rate: 410_000, width: 100, style: createStyle(false) }

  it('counts a thousand streams in three lines, the failed ones named', () => {
    expect(formatFleet(snapshot(0), extra)).toEqual([
      '1,000 streams  2 starting · 990 streaming · 3 done · 5 failed  123 MB sent  410 kB/s  01:12',
      '  fragments 12 buffered · 8,990 received · 8,988 persisted   ack latency p50 180 ms · p99 420 ms',
      '  failed: camera-990, camera-991, camera-992, camera-993, camera-994',
    ])
  })

  it('names the streams reconnecting on a third line, cut to the width', () => {
    const lines = formatFleet(snapshot(300), extra)
    expect(lines).toHaveLength(3)
    expect(lines[2]).toMatch(/^ {2}reconnecting: camera-0, camera-1, camera-2, .*…$/)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100)
  })
})
