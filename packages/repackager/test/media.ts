import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasTool, run } from '@kvs-streams/test-utils'

/** A scratch folder for generated media, removed by `remove()`. */
export function scratch(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-repackager-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

function need(tool: string): void {
  if (!hasTool(tool)) throw new Error(`${tool} is not installed (scripts/setup.sh installs it)`)
}

async function tool(command: string, args: string[]): Promise<Uint8Array> {
  need(command)
  const result = await run(command, args, { timeoutMs: 120_000 })
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
  return result.stdoutBytes
}

const ffmpegInputs = [
  ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
  ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine'],
]

/** How each test input is made. Each writes `<name>.mkv` into the folder. */
export const recipes = {
  /**
   * The command: ffmpeg's default Matroska muxer (seekable file) with audio and B-frames. Every
   * Cluster after the first opens with audio before the key frame.
   */
  'ffmpeg-file': async (dir: string) => {
    const file = join(dir, 'ffmpeg-file.mkv')
    await tool('ffmpeg', [
      ...ffmpegInputs,
      ...['-t', '10', '-c:v', 'libx264', '-bf', '2', '-g', '50', '-c:a', 'aac', '-f', 'matroska', file],
    ])
    return file
  },
  /**
   * The same to a pipe (`ffmpeg ... -f matroska - | kvs put`), with x264's open GOPs: unknown-size Segment,
   * a Cluster every second whether or not a key frame is there, leading B-frames after each key frame.
   */
  'ffmpeg-pipe-open-gop': async (dir: string) => {
    const file = join(dir, 'ffmpeg-pipe-open-gop.mkv')
    const bytes = await tool('ffmpeg', [
      ...ffmpegInputs,
      ...['-t', '6', '-c:v', 'libx264', '-bf', '2', '-g', '50', '-x264-params', 'open-gop=1'],
      ...['-c:a', 'aac', '-f', 'matroska', '-'],
    ])
    writeFileSync(file, bytes)
    return file
  },
  /** An MP4 remuxed to Matroska on a pipe, as in `ffmpeg -i cam.mp4 -c copy -f matroska - | kvs put cam -`. */
  'ffmpeg-mp4-remux': async (dir: string) => {
    const mp4 = join(dir, 'cam.mp4')
    await tool('ffmpeg', [
      ...ffmpegInputs,
      ...['-t', '6', '-c:v', 'libx264', '-bf', '2', '-g', '50', '-c:a', 'aac', mp4],
    ])
    const file = join(dir, 'ffmpeg-mp4-remux.mkv')
    writeFileSync(
      file,
      await tool('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-i',
        mp4,
        '-c',
        'copy',
        '-f',
        'matroska',
        '-',
      ]),
    )
    return file
  },
  /**
   * GStreamer's live muxer (`matroskamux streamable=true`) with low-latency H.264 and 64 kHz AAC, whose
   * frames fall on the key frames' times: each Cluster ends with the audio frame at the same time as the
   * next Cluster's key frame (ErrorId 4004 at fragment 2).
   */
  'gst-streamable-aligned': async (dir: string) => {
    const file = join(dir, 'gst-streamable-aligned.mkv')
    await tool('gst-launch-1.0', [
      ...['-q', '-e', 'audiotestsrc', 'num-buffers=630', '!', 'audio/x-raw,rate=64000,channels=1'],
      ...['!', 'voaacenc', '!', 'aacparse', '!', 'matroskamux', 'name=m', 'streamable=true'],
      ...['!', 'filesink', `location=${file}`],
      ...['videotestsrc', 'num-buffers=250', '!', 'video/x-raw,width=320,height=240,framerate=25/1'],
      ...['!', 'x264enc', 'key-int-max=50', 'tune=zerolatency', '!', 'h264parse', '!', 'm.'],
    ])
    return file
  },
  /** The GStreamer pipeline with B-frames: audio shown before each key frame is muxed after it. */
  'gst-streamable-bframes': async (dir: string) => {
    const file = join(dir, 'gst-streamable-bframes.mkv')
    await tool('gst-launch-1.0', [
      ...[
        '-q',
        '-e',
        'videotestsrc',
        'num-buffers=250',
        '!',
        'video/x-raw,width=320,height=240,framerate=25/1',
      ],
      ...['!', 'x264enc', 'key-int-max=50', 'bframes=2', '!', 'h264parse'],
      ...['!', 'matroskamux', 'name=m', 'streamable=true', '!', 'filesink', `location=${file}`],
      ...['audiotestsrc', 'num-buffers=430', '!', 'voaacenc', '!', 'aacparse', '!', 'm.'],
    ])
    return file
  },
} satisfies Record<string, (dir: string) => Promise<string>>

export type RecipeName = keyof typeof recipes

/** One packet as ffprobe reads it. */
export interface Packet {
  stream: number
  pts: string
  dts: string
  duration: string
  size: string
  flags: string
  hash: string
}

/**
 * Packets per stream of `file` (or of bytes written to `file` first), read by ffprobe: time stamps, size,
 * flags and a SHA-256 of the data, in file order per stream.
 */
export async function ffprobePackets(file: string, bytes?: Uint8Array): Promise<Record<number, Packet[]>> {
  if (bytes !== undefined) writeFileSync(file, bytes)
  const csv = new TextDecoder().decode(
    await tool('ffprobe', [
      ...['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts,duration,size,flags,data_hash'],
      ...['-show_data_hash', 'sha256', '-of', 'csv=p=0', file],
    ]),
  )
  const byStream: Record<number, Packet[]> = {}
  for (const line of csv.trim().split('\n')) {
    const [stream, pts, dts, duration, size, flags, hash] = line.split(',') as string[]
    ;(byStream[Number(stream)] ??= []).push({
      stream: Number(stream),
      pts: pts!,
      dts: dts!,
      duration: duration!,
      size: size!,
      flags: flags!,
      hash: hash!,
    })
  }
  return byStream
}

/** mkvinfo's exit status and complaints on `file`: a second, independent Matroska reader. */
export async function mkvinfoProblems(file: string): Promise<string[]> {
  need('mkvinfo')
  const result = await run('mkvinfo', ['-v', file], { timeoutMs: 60_000 })
  const problems = result.stdout.split('\n').filter((line) => /error|warning/i.test(line))
  if (result.code !== 0) problems.push(`exit code ${result.code}: ${result.stderr}`)
  return problems
}

export function read(file: string): Uint8Array {
  const buffer = readFileSync(file)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
