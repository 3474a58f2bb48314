import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { run } from '@kvs-streams/test-utils'
import { putMedia } from '@kvs-streams/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorEnv, ensureBuilt, jsonLines, kvs } from './support.ts'

let emulator: Emulator
let env: Record<string, string>
let dir: string
/** Frames of the 6 s file per ffprobe stream index (0 video, 1 audio). */
let frames: number[]
/** The file's producer start: its fragments start at START + 0, 1, … 5 s. */
const START = Date.now() - 60_000
const iso = (ms: number) => new Date(ms).toISOString()
const range = ['--start', iso(START - 1000), '--end', iso(START + 10_000), '--timestamp-type', 'producer']

async function put(streamName: string, body: Uint8Array, retentionHours = 24): Promise<void> {
  const created = await kvs(['streams', 'create', streamName, '--retention-hours', String(retentionHours)], {
    env,
  })
  expect(created.code).toBe(0)
  const signer = createKvsSigner({ region: emulator.region, credentials: emulator.credentials[0]! })
  const acks: Buffer[] = []
  await pipeline(
    Readable.from([body]),
    putMedia({ endpoint: emulator.url, streamName, signer, producerStartTimestamp: START }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        acks.push(chunk)
        callback()
      },
    }),
  )
  expect(Buffer.concat(acks).toString()).not.toContain('"ERROR"')
}

/** Packets per stream index, from ffprobe -show_entries packet (optionally one stream kind: v or a). */
async function packets(input: string, select?: 'v' | 'a'): Promise<number[]> {
  const result = await run('ffprobe', [
    ...['-v', 'error', ...(select === undefined ? [] : ['-select_streams', select])],
    ...['-show_entries', 'packet=stream_index', '-of', 'csv=p=0', input],
  ])
  expect(result.code).toBe(0)
  const counts: number[] = []
  for (const line of result.stdout.trim().split('\n')) counts[Number(line)] = (counts[Number(line)] ?? 0) + 1
  return counts
}

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({ port: 0 })
  env = emulatorEnv(emulator.url)
  dir = mkdtempSync(join(tmpdir(), 'kvs-cli-playback-'))
  const source = join(dir, 'source.mkv')
  const encoded = await run('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=6'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6'],
    ...['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-threads', '1', '-f', 'matroska', source],
  ])
  expect(encoded.code).toBe(0)
  frames = await packets(source)
  await put('cam', new Uint8Array(readFileSync(source)))
  await put('no-archive', new Uint8Array(readFileSync(source)), 0)
}, 120_000)
afterAll(async () => {
  await emulator?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe('kvs play', () => {
  it('prints an ON_DEMAND HLS URL for a range that ffprobe plays with every frame', async () => {
    const result = await kvs(['play', 'cam', ...range], { env })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const url = result.stdout.trim()
    expect(url).toMatch(
      new RegExp(`^${emulator.url}/hls/v1/getHLSMasterPlaylist\\.m3u8\\?SessionToken=\\S+~$`),
    )
    // ffprobe lists the audio rendition first: compare as a multiset of counts.
    expect((await packets(url)).sort()).toEqual([...frames].sort())
  })

  it('prints a LIVE URL without --start, and a DASH session with --dash (--json)', async () => {
    const live = await kvs(['play', 'cam'], { env })
    expect(live.code).toBe(0)
    const playlist = await fetch(
      live.stdout.trim().replace('getHLSMasterPlaylist', 'getHLSMediaPlaylist') + '&TrackNumber=1',
    )
    const text = await playlist.text()
    expect(text).not.toContain('#EXT-X-ENDLIST')
    expect(text.split('\n').filter((line) => line.startsWith('getMP4MediaFragment.mp4'))).toHaveLength(5)
    const dash = await kvs(['play', 'cam', '--dash', ...range, '--json'], { env })
    expect(dash.code).toBe(0)
    const [session] = jsonLines(dash.stdout)
    expect(session).toMatchObject({ type: 'session', protocol: 'dash', mode: 'ON_DEMAND' })
    expect(await packets(session!.url as string, 'v')).toEqual([frames[0]])
  })

  it('--open hands the URL to the platform opener', async () => {
    const bin = join(dir, 'bin')
    const opened = join(dir, 'opened.txt')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`)
    chmodSync(join(bin, 'xdg-open'), 0o755)
    const result = await kvs(['play', 'cam', ...range, '--open'], {
      env: { ...env, PATH: `${bin}:${env.PATH}` },
    })
    expect(result.code).toBe(0)
    for (let i = 0; i < 100 && !readdirSync(dir).includes('opened.txt'); i++)
      await new Promise((r) => setTimeout(r, 50))
    expect(readFileSync(opened, 'utf8')).toBe(result.stdout.trim())
  })

  it("explains the service's refusals and bad arguments", async () => {
    const unknown = await kvs(['play', 'nope'], { env })
    expect(unknown.code).toBe(254)
    expect(unknown.stderr).toContain('Stream "nope" was not found')
    const archive = await kvs(['play', 'no-archive', ...range], { env })
    expect(archive.code).toBe(254)
    expect(archive.stderr).toContain('NoDataRetentionException')
    const bad = await kvs(['play', 'cam', '--start', 'yesterday'], { env })
    expect(bad.code).toBe(252)
    expect(bad.stderr).toContain('--start must be now, an ISO 8601 time')
    const live = await kvs(['play', 'cam', '--mode', 'live', '--start', '-5m'], { env })
    expect(live.code).toBe(252)
  })
})

describe('kvs clip', () => {
  it('writes the MP4 clip of a range to -o, which ffprobe reads with every frame', async () => {
    const out = join(dir, 'clip.mp4')
    const result = await kvs(['clip', 'cam', ...range, '-o', out], { env })
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/clip\.mp4: .* MP4 clip of cam\n$/)
    expect(await packets(out)).toEqual(frames)
  })

  it('needs --start and --end', async () => {
    const result = await kvs(['clip', 'cam', '--start', '-1m', '-o', join(dir, 'x.mp4')], { env })
    expect(result.code).toBe(252)
    expect(result.stderr).toContain('kvs clip needs --start and --end')
  })
})

describe('kvs images', () => {
  it('writes one image per interval to the folder, scaled as asked', async () => {
    const out = join(dir, 'frames')
    const result = await kvs(
      [
        'images',
        'cam',
        ...['--start', iso(START + 500), '--end', iso(START + 5500), '--timestamp-type', 'producer'],
        ...['--every', '3s', '--format', 'png', '--height', '120', '-o', out],
      ],
      { env },
    )
    expect(result.code).toBe(0)
    expect(result.stderr.trim().split('\n').at(-1)).toBe(`2 images in ${out}`)
    const files = readdirSync(out).sort()
    expect(files).toEqual([
      `cam-${iso(START + 500).replace(/:/g, '-')}.png`,
      `cam-${iso(START + 3500).replace(/:/g, '-')}.png`,
    ])
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      join(out, files[0]!),
    ])
    expect(probe.stdout.trim()).toBe('png,160,120')
  })

  it('reports times without media and the interval the service refuses', async () => {
    const out = join(dir, 'early')
    const early = await kvs(
      [
        'images',
        'cam',
        '--start',
        iso(START - 6000),
        '--end',
        iso(START + 1000),
        '--timestamp-type',
        'producer',
        '-o',
        out,
        '--json',
      ],
      { env },
    )
    expect(early.code).toBe(0)
    const lines = jsonLines(early.stderr)
    expect(lines.filter((line) => line.error === 'NO_MEDIA')).toHaveLength(2)
    expect(lines.at(-1)).toMatchObject({ type: 'summary', images: 1, noMedia: 2, mediaError: 0 })
    const fast = await kvs(['images', 'cam', '--start', '-1m', '--end', 'now', '--every', '1s', '-o', out], {
      env,
    })
    expect(fast.code).toBe(254)
    expect(fast.stderr).toContain('SamplingInterval must be between 3000 and 20000')
  })
})
