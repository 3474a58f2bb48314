import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { emulatorEnv, ensureBuilt, fixture, jsonLines, kvs } from './support.ts'

let emulator: Emulator
let env: Record<string, string>
const clustersMkv = fixture('kvs-getmedia/clusters.mkv')

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({
    port: 0,
    // The first PutMedia connection to "faulty" answers its third fragment with ERROR 4004.
    faults: (streamName, connectionIndex) =>
      streamName === 'faulty' && connectionIndex === 0
        ? { errorAfterFragments: { count: 2, errorId: 4004 } }
        : undefined,
  })
  env = emulatorEnv(emulator.url)
})
afterAll(() => emulator?.close())

function types(events: Record<string, unknown>[]): string[] {
  return [...new Set(events.map((event) => event.type as string))]
}

describe('kvs put', () => {
  it('puts a file into a stream it creates and prints one JSON object per event', async () => {
    const result = await kvs(
      ['put', 'from-file', clustersMkv, '--create', '--retention-hours', '2', '--json'],
      { env },
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(types(events)).toEqual(
      expect.arrayContaining(['stream-created', 'state', 'ack', 'fragment-acknowledged', 'stats', 'summary']),
    )
    expect(events.filter((event) => event.type === 'ack' && event.eventType === 'PERSISTED')).toHaveLength(8)
    const acknowledged = events.filter((event) => event.type === 'fragment-acknowledged')
    expect(acknowledged.map((event) => event.timecode)).toEqual([
      0, 1999, 3999, 5998, 7998, 9998, 11997, 13997,
    ])
    expect(
      acknowledged.every(
        (event) => event.acknowledgedBy === 'PERSISTED' && /^\d{40,}$/.test(String(event.fragmentNumber)),
      ),
    ).toBe(true)
    expect(events.at(-1)).toMatchObject({
      type: 'summary',
      ok: true,
      fragments: 8,
      persisted: 8,
      skipped: 0,
      bytesRead: 1_196_094,
    })
    const described = await kvs(['streams', 'describe', 'from-file', '--json'], { env })
    expect(jsonLines(described.stdout)[0]).toMatchObject({ StreamInfo: { DataRetentionInHours: 2 } })
  })

  it('reads stdin when the file is -', async () => {
    await kvs(['streams', 'create', 'from-stdin'], { env })
    const result = await kvs(['put', 'from-stdin', '-'], { env, input: readFileSync(clustersMkv) })
    expect(result.code).toBe(0)
    // stdout is not a terminal: JSON lines without --json.
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({
      type: 'summary',
      ok: true,
      fragments: 8,
      persisted: 8,
      bytesRead: 1_196_094,
    })
  })

  it('takes ffmpeg output piped into it live', async () => {
    await kvs(['streams', 'create', 'from-ffmpeg'], { env })
    const result = await kvs(['put', 'from-ffmpeg', '-', '--json'], {
      env,
      timeoutMs: 40_000,
      input: (stdin) => {
        // A 3 s test pattern, a key frame every second, one cluster per key frame, no audio.
        const ffmpeg = spawn(
          'ffmpeg',
          [
            ...[
              '-hide_banner',
              '-loglevel',
              'error',
              '-f',
              'lavfi',
              '-i',
              'testsrc2=size=320x240:rate=25',
              '-t',
              '3',
            ],
            ...[
              '-c:v',
              'libx264',
              '-preset',
              'ultrafast',
              '-pix_fmt',
              'yuv420p',
              '-g',
              '25',
              '-keyint_min',
              '25',
              '-bf',
              '0',
              '-an',
            ],
            ...['-cluster_size_limit', '2M', '-cluster_time_limit', '1000', '-f', 'matroska', '-'],
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        ffmpeg.stdout.pipe(stdin)
      },
    })
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(events.filter((event) => event.type === 'violation')).toEqual([])
    expect(events.filter((event) => event.type === 'fragment-acknowledged')).toHaveLength(3)
    expect(events.at(-1)).toMatchObject({ type: 'summary', ok: true, fragments: 3, persisted: 3 })
  })

  it('reads a FIFO an encoder writes to as a live source: waits for the writer, starts now', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-cli-put-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const fifo = join(dir, 'camera.mkv')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    let child: ReturnType<typeof spawn> | undefined
    const before = Date.now()
    const running = kvs(['put', 'from-fifo', fifo, '--create', '--json'], {
      env,
      onSpawn: (spawned) => {
        child = spawned
      },
    })
    // The writer comes once kvs has started (it printed that it created the stream).
    await new Promise<void>((resolve) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"type":"stream-created"')) resolve()
      })
    })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', clustersMkv, fifo], { stdio: 'ignore' })
    onTestFinished(() => {
      if (writer.exitCode === null) writer.kill('SIGKILL')
    })
    const result = await running
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(events.at(-1)).toMatchObject({
      type: 'summary',
      ok: true,
      fragments: 8,
      persisted: 8,
      bytesRead: 1_196_094,
    })
    // A live source starts now: its first fragment is not dated back as a file's would be (14 s of media).
    const first = Date.parse(
      String(events.find((event) => event.type === 'fragment-acknowledged')!.producerTimestamp),
    )
    expect(first).toBeGreaterThanOrEqual(before)
  })

  it('dates a file so that it ends now: a 90 s clip sent in a moment has no producer timestamp in the future', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-cli-put-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const clip = join(dir, 'long.mkv')
    const ffmpeg = spawnSync('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120:rate=10',
        '-t',
        '90',
      ],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '20',
        '-keyint_min',
        '20',
        '-bf',
        '0',
        '-an',
        '-f',
        'matroska',
        clip,
      ],
    ])
    expect(ffmpeg.status).toBe(0)
    const before = Date.now()
    const result = await kvs(['put', 'long-clip', clip, '--create', '--json'], { env })
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(events.at(-1)).toMatchObject({
      type: 'summary',
      ok: true,
      fragments: 45,
      persisted: 45,
      skipped: 0,
    })
    const first = Date.parse(
      String(events.find((event) => event.type === 'fragment-acknowledged')!.producerTimestamp),
    )
    expect(first).toBeLessThanOrEqual(before - 85_000)
  })

  it('on SIGINT stops reading, delivers what it read and exits 130', async () => {
    await kvs(['streams', 'create', 'interrupted'], { env })
    let child: ReturnType<typeof spawn> | undefined
    const running = kvs(['put', 'interrupted', '-', '--json'], {
      env,
      onSpawn: (spawned) => {
        child = spawned
      },
      // The whole file, but stdin stays open: a live source that goes quiet.
      input: (stdin) => stdin.write(readFileSync(clustersMkv)),
    })
    await new Promise<void>((resolve) => {
      let seen = ''
      child!.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        // The 8th fragment is held by the repackager until the input says it is over (frames of a live
        // source's next Cluster may still belong to it): Ctrl-C sends it.
        if ((seen.match(/"type":"fragment-acknowledged"/g) ?? []).length >= 7) resolve()
      })
    })
    child!.kill('SIGINT')
    const result = await running
    expect(result.code).toBe(130)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({
      type: 'summary',
      ok: true,
      interrupted: true,
      persisted: 8,
    })
  })

  it('explains an ERROR ack with its meaning and advice and exits 1', async () => {
    await kvs(['streams', 'create', 'faulty'], { env })
    const result = await kvs(['put', 'faulty', clustersMkv, '--quiet', '--json'], { env: { ...env } })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'kvs: error: 1 of 8 fragments were not stored (ERROR 4004 FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS): Fragment timecode is lower than the previous one',
    )
    expect(result.stderr).toContain('Not stored: fragment 2 (timecode 3999).')
    expect(result.stderr).toContain('B-frames')
    const json = jsonLines(result.stdout)
    expect(json.find((event) => event.type === 'ack' && event.eventType === 'ERROR')).toMatchObject({
      errorId: 4004,
    })
    expect(json.find((event) => event.type === 'fragment-skipped')).toMatchObject({
      index: 2,
      errorId: 4004,
      reason: 'error-ack',
    })
    expect(json.at(-1)).toMatchObject({ type: 'error', exitCode: 1 })
  })

  it('suggests --create when the stream does not exist (exit 254)', async () => {
    const result = await kvs(['put', 'no-such-stream', clustersMkv], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain('kvs: error: Stream "no-such-stream" was not found')
    expect(result.stderr).toContain('kvs streams create no-such-stream')
    expect(result.stderr).toContain('kvs put no-such-stream --create')
  })

  it('reports a missing input file before connecting (exit 255)', async () => {
    const result = await kvs(['put', 'any', '/no/such/file.mkv'], { env })
    expect(result.code).toBe(255)
    expect(result.stderr).toContain('kvs: error: No such file or directory: /no/such/file.mkv')
  })
})
