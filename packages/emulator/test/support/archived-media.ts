import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media'
import { createGetMediaParser, type FrameEvent } from '@kvs-streams/get-media'
import { run } from '@kvs-streams/test-utils'
import { putMedia } from '@kvs-streams/transport'
import { afterAll } from 'vitest'
import type { Emulator } from '../../src/index.ts'
import { signerFor } from './client.ts'

let directory: string | undefined
afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
  directory = undefined
})

/** A temporary folder for the test file, removed after its tests. */
export async function workDir(): Promise<string> {
  directory ??= await mkdtemp(join(tmpdir(), 'kvs-archived-media-'))
  return directory
}

/**
 * An H.264 + AAC Matroska file as KVS producers send it: x264 without B-frames, a key frame every second
 * (25 frames at 25 fps; ffmpeg starts a Cluster at each), stereo AAC at 48 kHz. `seconds` long.
 */
export async function encodeAv(
  name: string,
  seconds: number,
  options: { audio?: boolean; size?: string } = {},
): Promise<Uint8Array> {
  const path = join(await workDir(), name)
  const audio = options.audio ?? true
  const args = [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${options.size ?? '320x240'}:rate=25:duration=${seconds}`],
    ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`] : []),
    ...['-map', '0:v', ...(audio ? ['-map', '1:a'] : [])],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-bf',
      '0',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
    ],
    ...['-pix_fmt', 'yuv420p', ...(audio ? ['-c:a', 'aac', '-b:a', '64k', '-ac', '2'] : [])],
    ...['-threads', '1', '-f', 'matroska', path],
  ]
  const result = await run('ffmpeg', args, { timeoutMs: 120_000 })
  if (result.code !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`)
  return new Uint8Array(await readFile(path))
}

/** Frames of an MKV body per track, as the GetMedia parser reads them (the Matroska side of comparisons). */
export function framesOf(bytes: Uint8Array): Map<number, FrameEvent[]> {
  const frames = new Map<number, FrameEvent[]>()
  const parser = createGetMediaParser()
  for (const event of [...parser.push(bytes), ...parser.end()]) {
    if (event.type !== 'frame') continue
    frames.set(event.track, [...(frames.get(event.track) ?? []), event])
  }
  return frames
}

/** PutMedia of a whole MKV body with the transport (RELATIVE timecodes from `producerStartMs`); every ack checked. */
export async function putBody(
  emulator: Emulator,
  streamName: string,
  body: Uint8Array,
  producerStartMs: number,
): Promise<void> {
  const acks: Buffer[] = []
  const chunks: Uint8Array[] = []
  for (let offset = 0; offset < body.length; offset += 64 * 1024)
    chunks.push(body.subarray(offset, offset + 64 * 1024))
  await pipeline(
    Readable.from(chunks),
    putMedia({
      endpoint: emulator.url,
      streamName,
      signer: signerFor(emulator),
      producerStartTimestamp: producerStartMs,
    }),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        acks.push(chunk)
        callback()
      },
    }),
  )
  const text = Buffer.concat(acks).toString('utf8')
  if (text.includes('"ERROR"')) throw new Error(`PutMedia failed: ${text}`)
}

/** The AWS SDK's archived-media client for the emulator (no retries: errors surface as they are). */
export function archivedMediaClient(emulator: Emulator): KinesisVideoArchivedMediaClient {
  return new KinesisVideoArchivedMediaClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...emulator.credentials[0]! },
    maxAttempts: 1,
  })
}

/** GETs a session resource; returns status, content type and body. */
export async function fetchResource(
  url: string,
): Promise<{ status: number; type: string | null; text: string; bytes: Uint8Array; json: unknown }> {
  const response = await fetch(url)
  const bytes = new Uint8Array(await response.arrayBuffer())
  const text = Buffer.from(bytes).toString('utf8')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, type: response.headers.get('content-type'), text, bytes, json }
}

/** Packets per stream (in ffprobe's stream order) of a file or URL, counted from `ffprobe -show_entries packet`. */
export async function probeCounts(
  input: string,
  extra: string[] = [],
): Promise<{ codecs: string[]; packets: number[]; durationS: number }> {
  const args = [
    ...['-v', 'error', ...extra, '-show_format', '-show_streams'],
    ...['-show_entries', 'packet=stream_index', '-of', 'json', input],
  ]
  const result = await run('ffprobe', args, { timeoutMs: 120_000 })
  if (result.code !== 0) throw new Error(`ffprobe ${args.join(' ')} failed: ${result.stderr}`)
  const parsed = JSON.parse(result.stdout) as {
    format: { duration?: string }
    streams: { index: number; codec_name: string }[]
    packets: { stream_index: number }[]
  }
  return {
    codecs: parsed.streams.map((stream) => stream.codec_name),
    packets: parsed.streams.map(
      (stream) => (parsed.packets ?? []).filter((packet) => packet.stream_index === stream.index).length,
    ),
    durationS: Number(parsed.format.duration ?? Number.NaN),
  }
}

/** Writes bytes to a file of the work folder. */
export async function writeTemp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(await workDir(), name)
  await writeFile(path, bytes)
  return path
}
