import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binPath, emulatorEnv, ensureBuilt, ffmpeg, fixture, jsonLines, kvs } from './support.ts'

let emulator: Emulator
let env: Record<string, string>
let dir = ''
const clustersMkv = fixture('kvs-getmedia/clusters.mkv')

beforeAll(async () => {
  await ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'kvs-cli-put-messages-'))
  const mp4 = join(dir, 'in.mp4')
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', mp4],
  ])
  ffmpeg(['-i', mp4, '-c', 'copy', join(dir, 'in.mov')])
  ffmpeg(['-i', mp4, '-c', 'copy', '-f', 'mpegts', join(dir, 'in.ts')])
  writeFileSync(join(dir, 'empty.mkv'), '')
  mkdirSync(join(dir, 'videos'))
  emulator = await startEmulator({
    port: 0,
    // The first PutMedia connection to "faulty" answers its third fragment with ERROR 4004.
    faults: (streamName, connectionIndex) =>
      streamName === 'faulty' && connectionIndex === 0
        ? { errorAfterFragments: { count: 2, errorId: 4004 } }
        : undefined,
  })
  env = emulatorEnv(emulator.url)
  for (const name of ['messages', 'faulty']) await kvs(['streams', 'create', name], { env })
}, 60_000)
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
  return emulator?.close()
})

const FOREIGN = [
  ['in.mp4', 'an MP4 file', ''],
  ['in.mov', 'a QuickTime (MOV) file', ''],
  ['in.ts', 'an MPEG transport stream (TS)', ''],
] as const

describe('kvs put messages that name the fix', () => {
  it.each(FOREIGN)(
    'names %s given as a file as %s, with the ffmpeg remux command (exit 1)',
    async (name, what, options) => {
      const file = join(dir, name)
      const result = await kvs(['put', 'messages', file], { env })
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        [
          `kvs: error: The input is ${what}, not Matroska (MKV): kvs put sends Matroska, nothing was sent.`,
          '  Remux it into Matroska without re-encoding and pipe that in:',
          `    ffmpeg ${options}-i ${file} -c copy -f matroska - | kvs put messages -`,
          '',
        ].join('\n'),
      )
    },
  )

  it.each(FOREIGN)('names %s piped into stdin as %s (exit 1)', async (name, what, options) => {
    const result = await kvs(['put', 'messages', '-', '--json'], {
      env,
      input: readFileSync(join(dir, name)),
    })
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n').slice(0, 3)).toEqual([
      `kvs: error: The input is ${what}, not Matroska (MKV): kvs put sends Matroska, nothing was sent.`,
      '  Remux it into Matroska without re-encoding and pipe that in:',
      `    ffmpeg ${options}-i in.${name.split('.')[1]} -c copy -f matroska - | kvs put messages -`,
    ])
    const events = jsonLines(result.stdout)
    expect(events.filter((event) => event.type === 'state' && event.state === 'streaming')).toEqual([])
    expect(events.at(-1)).toMatchObject({ type: 'error', name: 'ERR_KVS_CLI_INPUT', exitCode: 1 })
  })

  it('says that nothing arrived on an empty stdin and exits 1', async () => {
    const result = await kvs(['put', 'messages', '-'], { env, input: new Uint8Array(0) })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      [
        'kvs: error: Nothing arrived on stdin: the input was empty, so nothing was sent.',
        '  Check the command that writes into the pipe (its errors are printed above), e.g.',
        '    ffmpeg -i input.mp4 -c copy -f matroska - | kvs put messages -',
        '',
      ].join('\n'),
    )
    expect(jsonLines(result.stdout).filter((event) => event.type === 'summary')).toEqual([])
  })

  it('says an empty file is empty and exits 1', async () => {
    const file = join(dir, 'empty.mkv')
    const result = await kvs(['put', 'messages', file], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`kvs: error: ${file} is empty: nothing was sent.\n`)
  })

  it('says a directory is a directory, before connecting (exit 252)', async () => {
    const videos = join(dir, 'videos')
    const result = await kvs(['put', 'messages', videos], { env: emulatorEnv('http://127.0.0.1:1') })
    expect(result.code).toBe(252)
    expect(result.stderr).toBe(
      [
        `kvs: error: ${videos} is a directory: kvs put sends one MKV file`,
        `  Give one file (kvs put messages ${videos}/video.mkv), or - to read stdin.`,
        '  Usage: kvs put <stream> [file|-] [options]',
        '',
      ].join('\n'),
    )
  })

  it("prints a wrong secret's hint without the service's canonical request, which --debug shows (exit 254)", async () => {
    const wrong = emulatorEnv(emulator.url, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' })
    const result = await kvs(['put', 'messages', clustersMkv], { env: wrong })
    expect(result.code).toBe(254)
    const lines = result.stderr.split('\n')
    expect(lines.slice(0, 3)).toEqual([
      'kvs: error: The request signature does not match: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      '  The secret access key does not belong to the access key id: check AWS_SECRET_ACCESS_KEY or the',
      "  profile's aws_secret_access_key. A system clock more than 5 minutes off also breaks signatures.",
    ])
    expect(lines[3]).toMatch(/^ {2}Request id: \S+$/)
    expect(lines.slice(4)).toEqual([''])
    const debug = await kvs(['put', 'messages', clustersMkv, '--debug'], { env: wrong })
    expect(debug.code).toBe(254)
    expect(debug.stderr).toContain('The Canonical String for this request should have been')
  })

  it('prints only the summary JSON line with -q when stdout is piped', async () => {
    const result = await kvs(['put', 'messages', clustersMkv, '-q'], { env })
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const lines = result.stdout.split('\n')
    expect(lines).toHaveLength(2)
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'summary', ok: true, fragments: 8, persisted: 8 })
  })

  it('says which fragment an input cut short ends in and that the ones before it were stored (exit 1)', async () => {
    const cut = readFileSync(clustersMkv).subarray(0, 500_000)
    const result = await kvs(['put', 'messages', '-', '--json'], { env, input: cut })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      [
        'kvs: error: The input ends in the middle of fragment 3 (at byte 500000): that fragment was not sent; the 3 fragments before it were stored.',
        '  Was the input cut short (a file still being written, a copy or download that stopped)? input ended 52268 bytes before the end of element 0xa3.',
        '',
      ].join('\n'),
    )
    const events = jsonLines(result.stdout)
    expect(events.filter((event) => event.type === 'fragment-acknowledged')).toHaveLength(3)
    expect(events.at(-2)).toMatchObject({ type: 'summary', fragments: 3, persisted: 3 })
  })

  it('says nothing was sent when the input ends inside its header (exit 1)', async () => {
    const cut = readFileSync(clustersMkv).subarray(0, 100)
    const result = await kvs(['put', 'messages', '-'], { env, input: cut })
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n')[0]).toBe(
      'kvs: error: The input ends before its first fragment is complete (at byte 100): nothing was sent.',
    )
  })

  it('relays kvs get output into another stream: every fragment stored, no ERROR 4009', async () => {
    const relayed = join(dir, 'relayed.mkv')
    expect((await kvs(['put', 'relay-source', clustersMkv, '--create', '-q'], { env })).code).toBe(0)
    const got = await kvs(['get', 'relay-source', '--start', 'earliest', '--until', '8', '-o', relayed], {
      env,
    })
    expect(got.code).toBe(0)
    expect(readFileSync(relayed).includes('AWS_KINESISVIDEO_FRAGMENT_NUMBER')).toBe(true)
    const result = await kvs(['put', 'relay-target', relayed, '--create', '--json'], { env })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(events.filter((event) => event.type === 'ack' && event.eventType === 'ERROR')).toEqual([])
    expect(events.at(-1)).toMatchObject({ type: 'summary', ok: true, fragments: 8, persisted: 8, skipped: 0 })
  })

  it('names the service tags as the cause of ERROR 4009 when they are kept (exit 1)', async () => {
    const relayed = join(dir, 'relayed-2.mkv')
    expect((await kvs(['put', 'relay-source-2', clustersMkv, '--create', '-q'], { env })).code).toBe(0)
    const got = await kvs(['get', 'relay-source-2', '--start', 'earliest', '--until', '1', '-o', relayed], {
      env,
    })
    expect(got.code).toBe(0)
    const result = await kvs(['put', 'relay-target-2', relayed, '--create', '-q', '--keep-service-tags'], {
      env,
      timeoutMs: 60_000,
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      [
        'kvs: error: 1 of 1 fragments were not stored (ERROR 4009 FRAGMENT_METADATA_LIMIT_REACHED): Fragment metadata limit reached (count, name or value length)',
        '  Not stored: fragment 0 (timecode 0).',
        '  Over 10 metadata tags in a fragment, a tag name over 128 or a value over 256 bytes, or a name starting with',
        "  AWS, which is reserved: the output of GetMedia (kvs get) carries the service's AWS_KINESISVIDEO_* tags, which",
        '  kvs put drops unless --keep-service-tags is given. Otherwise drop or shorten the MKV Tags.',
        '',
      ].join('\n'),
    )
  }, 90_000)

  it('counts the bytes kvs get wrote when the reader closes stdout after 1000 bytes (head -c 1000)', async () => {
    expect((await kvs(['put', 'head-source', clustersMkv, '--create', '-q'], { env })).code).toBe(0)
    const child = spawn(
      process.execPath,
      [binPath, 'get', 'head-source', '--start', 'earliest', '--until', '8', '--json', '--raw'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let received = 0
    child.stdout.on('data', (chunk: Buffer) => {
      received += chunk.byteLength
      // What head -c 1000 does: read 1000 bytes, then close the pipe.
      if (received >= 1000) child.stdout.destroy()
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    const summary = jsonLines(stderr).at(-1)!
    expect(summary).toMatchObject({ type: 'summary', stoppedBy: 'interrupted' })
    const bytes = summary.bytes as number
    expect(bytes).toBeGreaterThanOrEqual(1000)
    // How much the pipe took before the reader left depends on timing; the count must match it exactly: the
    // fragments (GetMedia documents, as --raw writes them, sizes from this run's own fragment lines: the
    // service's tags make them differ by a few bytes from run to run) that end within the bytes written.
    const ends: number[] = []
    let end = 0
    for (const line of jsonLines(stderr)) {
      if (line.type !== 'fragment') continue
      end += line.bytes as number
      ends.push(end)
    }
    expect(ends.length).toBeGreaterThanOrEqual(summary.fragments as number)
    expect(summary.fragments).toBe(ends.filter((at) => at <= bytes).length)
  })

  it('gives the ffmpeg flags that fix ERROR 4004 (exit 1)', async () => {
    const result = await kvs(['put', 'faulty', clustersMkv, '-q'], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      [
        'kvs: error: 1 of 8 fragments were not stored (ERROR 4004 FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS): Fragment timecode is lower than the previous one (out of order within a PutMedia session)',
        '  Not stored: fragment 2 (timecode 3999).',
        "  A fragment starts before the previous fragment's last frame: B-frames (stored ahead of their display time),",
        '  or audio written ahead of the key frame that starts a cluster. Re-encode the video without B-frames, with a',
        '  key frame every 2 s that each cluster starts on (here at 25 fps):',
        '    ffmpeg -i <input> -c:v libx264 -bf 0 -g 50 -keyint_min 50 -c:a copy -f matroska -cluster_time_limit 2000 -',
        '  Timestamps that jump back (a restarted source) need a new kvs put; concatenated files, one kvs put each.',
        '',
      ].join('\n'),
    )
  })
})
