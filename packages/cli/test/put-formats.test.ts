import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '@kvs-streams/emulator'
import { readStream } from '@kvs-streams/get-media'
import { detectFormat } from '@kvs-streams/muxer'
import { ffprobeCounts } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorEnv, ensureBuilt, ffmpeg, jsonLines, kvs } from './support.ts'

// `kvs put` takes what people have: raw H.264/H.265 from cameras and encoders, ADTS AAC, and the Matroska
// ffmpeg and GStreamer write by default (repackaged so KVS takes every fragment), with fragment metadata.

let emulator: Emulator
let env: Record<string, string>
let dir = ''

const VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-t', '6']
const AUDIO = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '6']
const file = (name: string) => join(dir, name)

beforeAll(async () => {
  await ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'kvs-cli-put-formats-'))
  // High profile with B-frames, a key frame every second.
  ffmpeg([
    ...VIDEO,
    '-c:v',
    'libx264',
    '-profile:v',
    'high',
    '-bf',
    '2',
    '-g',
    '25',
    '-f',
    'h264',
    file('in.h264'),
  ])
  ffmpeg([
    ...VIDEO,
    '-c:v',
    'libx265',
    '-x265-params',
    'log-level=none:keyint=25:min-keyint=25:scenecut=0:open-gop=0',
    '-f',
    'hevc',
    file('in.h265'),
  ])
  ffmpeg([...AUDIO, '-c:a', 'aac', '-f', 'adts', file('in.aac')])
  // A camera recording with audio and B-frames, as an MP4.
  ffmpeg([...VIDEO, ...AUDIO, '-c:v', 'libx264', '-bf', '2', '-g', '25', '-c:a', 'aac', file('cam.mp4')])
  // ffmpeg's default Matroska of it (a pipe, so clusters cut by size, audio ahead of each key frame).
  const remux = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', file('cam.mp4'), '-c', 'copy', '-f', 'matroska', '-'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  if (remux.status !== 0) throw new Error(`ffmpeg remux failed: ${remux.stderr}`)
  remuxed = remux.stdout
  emulator = await startEmulator({ port: 0 })
  env = emulatorEnv(emulator.url)
  for (const name of ['raw-h264', 'raw-h265', 'raw-aac', 'remuxed', 'as-is', 'tagged'])
    await kvs(['streams', 'create', name], { env })
}, 120_000)
let remuxed: Buffer = Buffer.alloc(0)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
  return emulator?.close()
})

/** Reads `streamName` back with GetMedia: per fragment, its frame count and producer metadata. */
async function readBack(streamName: string) {
  const fragments: { frames: number; metadata: { name: string; value: string }[] }[] = []
  for await (const event of readStream({
    streamName,
    startSelector: { StartSelectorType: 'EARLIEST' },
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...DEFAULT_CREDENTIALS },
    follow: false,
  })) {
    if (event.type === 'fragment-end') fragments.push({ frames: event.frameCount, metadata: event.metadata })
  }
  return fragments
}

/** `kvs get` of the whole stream into an MKV file, and ffprobe's packet counts of it. */
async function probeStored(streamName: string) {
  const out = file(`${streamName}.mkv`)
  const result = await kvs(['get', streamName, '--start', 'earliest', '--until', 'now', '-o', out], { env })
  expect(result.code).toBe(0)
  return ffprobeCounts(out)
}

/** ffprobe's packet count of the raw input. */
async function probeInput(name: string, format: string) {
  const counts = spawnSync(
    'ffprobe',
    ['-v', 'error', '-f', format, '-count_packets', '-show_streams', '-of', 'json', file(name)],
    { encoding: 'utf8' },
  )
  const streams = (JSON.parse(counts.stdout) as { streams: { nb_read_packets: string }[] }).streams
  return Number(streams[0]!.nb_read_packets)
}

describe('kvs put of raw streams', () => {
  it('tells the formats from their first bytes', () => {
    expect(detectFormat(readFileSync(file('in.h264')).subarray(0, 16))).toBe('h264')
    expect(detectFormat(readFileSync(file('in.h265')).subarray(0, 16))).toBe('h265')
    expect(detectFormat(readFileSync(file('in.aac')).subarray(0, 16))).toBe('aac')
    expect(detectFormat(remuxed.subarray(0, 16))).toBe('mkv')
    expect(detectFormat(readFileSync(file('cam.mp4')).subarray(0, 16))).toBeUndefined()
  })

  it.each([
    ['in.h264', 'raw-h264', 'h264', 'h264'],
    ['in.h265', 'raw-h265', 'hevc', 'hevc'],
  ])(
    'stores %s piped in with no flags: every frame, every fragment starting on a key frame',
    async (name, stream, format, codec) => {
      const result = await kvs(['put', stream, '-', '--json'], { env, input: readFileSync(file(name)) })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const summary = jsonLines(result.stdout).at(-1)
      // 6 s at a key frame every second, 2 s fragments.
      expect(summary).toMatchObject({ type: 'summary', ok: true, fragments: 3, persisted: 3, skipped: 0 })
      const stored = await probeStored(stream)
      expect(stored.streams.map((item) => item.codec)).toEqual([codec])
      expect(stored.packetsPerStream).toEqual([await probeInput(name, format)])
      expect((await readBack(stream)).map((fragment) => fragment.frames)).toEqual([50, 50, 50])
    },
  )

  it('stores raw AAC (ADTS) given as a file', async () => {
    const result = await kvs(['put', 'raw-aac', file('in.aac'), '--json'], { env })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({ type: 'summary', ok: true, skipped: 0 })
    const stored = await probeStored('raw-aac')
    expect(stored.streams.map((item) => item.codec)).toEqual(['aac'])
    expect(stored.packetsPerStream).toEqual([await probeInput('in.aac', 'aac')])
  })

  it('takes --format and --fps, and refuses bad values before connecting', async () => {
    const wrong = await kvs(['put', 'raw-h264', '-', '--format', 'mp4'], { env, input: '' })
    expect(wrong.code).toBe(252)
    expect(wrong.stderr).toMatch(/--format must be one of mkv, h264, h265, aac, got "mp4"/)
    const fps = await kvs(['put', 'raw-h264', '-', '--fps', 'fast'], { env, input: '' })
    expect(fps.code).toBe(252)
    expect(fps.stderr).toMatch(/--fps must be a number of frames per second/)
    const mkvFps = await kvs(['put', 'raw-h264', '-', '--format', 'mkv', '--fps', '25'], { env, input: '' })
    expect(mkvFps.code).toBe(252)
    expect(mkvFps.stderr).toMatch(/--fps goes with raw video/)
  })
})

describe('kvs put of ffmpeg default Matroska (audio ahead of key frames, B-frames)', () => {
  it('refuses it as it is (--no-repackage): KVS would answer 4004', async () => {
    const result = await kvs(['put', 'as-is', '-', '--json', '--no-repackage'], { env, input: remuxed })
    expect(result.code).not.toBe(0)
    const summary = jsonLines(result.stdout).find((event) => event.type === 'summary')
    expect(summary).toMatchObject({ ok: false })
    expect(summary?.skipped).toBeGreaterThan(0)
  })

  it('repackages it by default, says so once, and stores every packet', async () => {
    const result = await kvs(['put', 'remuxed', '-', '--json'], { env, input: remuxed })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    const said = events.filter((event) => event.type === 'repackaging')
    expect(said).toHaveLength(1)
    expect(said[0]?.change).toMatch(/^fragment \d+: \d+ frames? moved to the fragment they belong to/)
    const repackaged = events.find((event) => event.type === 'repackaged')
    expect(repackaged?.summary).toMatch(/^repackaged \d+ of \d+ fragments: moved \d+ frames/)
    expect(events.at(-1)).toMatchObject({ type: 'summary', ok: true, skipped: 0 })
    expect(events.filter((event) => event.type === 'fragment-skipped')).toEqual([])
    const stored = await probeStored('remuxed')
    const input = await ffprobeCounts(file('cam.mp4'))
    expect(stored.streams.map((item) => item.codec)).toEqual(['h264', 'aac'])
    expect(stored.packetsPerStream).toEqual(input.packetsPerStream)
  })
})

describe('kvs put --tag', () => {
  it('puts the tags on every fragment, and they come back with GetMedia', async () => {
    const result = await kvs(
      ['put', 'tagged', file('in.h264'), '--tag', 'camera=front-door', '--tag', 'site=lab 2', '--json'],
      { env },
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const fragments = await readBack('tagged')
    expect(fragments).toHaveLength(3)
    for (const fragment of fragments) {
      expect(fragment.metadata).toEqual([
        { name: 'camera', value: 'front-door' },
        { name: 'site', value: 'lab 2' },
      ])
    }
  })

  it('refuses tags the service would refuse (4009), before sending anything', async () => {
    const reserved = await kvs(['put', 'tagged', file('in.h264'), '--tag', 'AWS_X=1'], { env })
    expect(reserved.code).toBe(252)
    expect(reserved.stderr).toMatch(/--tag AWS_X: /)
    const long = await kvs(['put', 'tagged', file('in.h264'), '--tag', `n=${'v'.repeat(257)}`], { env })
    expect(long.code).toBe(252)
    expect(long.stderr).toMatch(/--tag n: .*256/)
    const bare = await kvs(['put', 'tagged', file('in.h264'), '--tag', 'novalue'], { env })
    expect(bare.code).toBe(252)
    expect(bare.stderr).toMatch(/--tag must be NAME=VALUE, got "novalue"/)
    const eleven = Array.from({ length: 11 }, (_, index) => ['--tag', `t${index}=x`]).flat()
    const many = await kvs(['put', 'tagged', file('in.h264'), ...eleven], { env })
    expect(many.code).toBe(252)
    expect(many.stderr).toMatch(/at most 10 --tag options/)
    // Nothing more than the first put's 3 fragments was stored.
    expect(await readBack('tagged')).toHaveLength(3)
  })
})
