import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '@kvs-streams/test-utils'
import { afterAll } from 'vitest'

let directory: string | undefined

// Registered when a test file imports this module, so the folder goes once the file's tests are over.
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
  directory = undefined
})

/** A temporary folder for this test file, removed after its tests. */
export async function workDir(): Promise<string> {
  directory ??= await mkdtemp(join(tmpdir(), 'kvs-fmp4-'))
  return directory
}

/**
 * Encodes a test clip with ffmpeg into `name` (Matroska unless the name says otherwise) and returns its
 * bytes. `video` and `audio` are ffmpeg output options for each stream; the picture is testsrc2 at 25 fps.
 * Fails, never skips, when ffmpeg is missing.
 */
export async function encode(
  name: string,
  options: { seconds: number; size?: string; video: string[]; audio?: string[] },
): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(await workDir(), name)
  const args = [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
    ...[
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${options.size ?? '320x240'}:rate=25:duration=${options.seconds}`,
    ],
    ...(options.audio
      ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${options.seconds}`]
      : []),
    ...['-map', '0:v', ...(options.audio ? ['-map', '1:a'] : [])],
    ...options.video,
    ...(options.audio ?? []),
    '-threads',
    '1',
    path,
  ]
  const result = await run('ffmpeg', args, { timeoutMs: 120_000 })
  if (result.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${result.stderr}`)
  return { path, bytes: new Uint8Array(await readFile(path)) }
}

/** Writes bytes to a file of the work folder and returns its path. */
export async function writeTemp(name: string, parts: readonly Uint8Array[]): Promise<string> {
  const path = join(await workDir(), name)
  await writeFile(path, parts)
  return path
}

/** One packet as ffprobe reads it. */
export interface ProbedPacket {
  stream: number
  /** Presentation and decode times in microseconds (rounded), `undefined` when ffprobe says N/A. */
  ptsUs: number | undefined
  dtsUs: number | undefined
  size: number
  key: boolean
}

/** Every packet of a file, in file order, as `ffprobe -show_packets` reports it. */
export async function probePackets(path: string): Promise<ProbedPacket[]> {
  const args = [
    '-v',
    'error',
    '-show_entries',
    'packet=stream_index,pts_time,dts_time,size,flags',
    '-of',
    'json',
    path,
  ]
  const result = await run('ffprobe', args)
  if (result.code !== 0) throw new Error(`ffprobe ${args.join(' ')} failed: ${result.stderr}`)
  const packets = (
    JSON.parse(result.stdout) as {
      packets: { stream_index: number; pts_time?: string; dts_time?: string; size: string; flags: string }[]
    }
  ).packets
  const us = (time: string | undefined) => (time === undefined ? undefined : Math.round(Number(time) * 1e6))
  return packets.map((packet) => ({
    stream: packet.stream_index,
    ptsUs: us(packet.pts_time),
    dtsUs: us(packet.dts_time),
    size: Number(packet.size),
    key: packet.flags.startsWith('K'),
  }))
}

/** Format-level and stream-level facts ffprobe reports. */
export async function probeFormat(path: string): Promise<{
  durationS: number
  streams: { codec: string; packets: number; width?: number; height?: number }[]
}> {
  const args = ['-v', 'error', '-count_packets', '-show_format', '-show_streams', '-of', 'json', path]
  const result = await run('ffprobe', args)
  if (result.code !== 0) throw new Error(`ffprobe ${args.join(' ')} failed: ${result.stderr}`)
  const parsed = JSON.parse(result.stdout) as {
    format: { duration: string }
    streams: { codec_name: string; nb_read_packets: string; width?: number; height?: number }[]
  }
  return {
    durationS: Number(parsed.format.duration),
    streams: parsed.streams.map((stream) => ({
      codec: stream.codec_name,
      packets: Number(stream.nb_read_packets),
      ...(stream.width === undefined ? {} : { width: stream.width, height: stream.height }),
    })),
  }
}
