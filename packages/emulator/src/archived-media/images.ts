import { spawn } from 'node:child_process'
import { type Mp4Frame, readMkvFragment } from '@kvs-streams/fmp4'
import type { EmulatorContext } from '../context.ts'
import { invalidArgument, ServiceError } from '../errors.ts'
import type { JsonObject } from '../http/router.ts'
import { optionalInteger, optionalString } from '../http/validate.ts'
import type { FragmentInfo, StreamRecord } from '../storage/types.ts'
import { clockOffset, readStored } from './media.ts'
import { optionalEnum, startOf, timestampMs } from './selection.ts'
import type { SelectorType } from './session-token.ts'

/** Longest base64 `ImageContent` the model allows. */
const MAX_IMAGE_CONTENT = 6_291_456
/** How long one ffmpeg run may take before the images it owes are reported as MEDIA_ERROR. */
const FFMPEG_TIMEOUT_MS = 30_000

/** One entry of `Images`. */
interface ImageEntry {
  TimeStamp: number
  Error?: 'NO_MEDIA' | 'MEDIA_ERROR'
  ImageContent?: string
}

/** What a GetImages request asks for, validated. */
interface ImagesRequest {
  selector: SelectorType
  startMs: number
  endMs: number
  intervalMs: number
  format: 'JPEG' | 'PNG'
  quality: number
  width: number | undefined
  height: number | undefined
  maxResults: number
  /** Index of the first sample of this page. */
  from: number
}

/** The `NextToken` of GetImages: which stream, which request, where the next page starts. */
function encodeToken(stream: StreamRecord, request: ImagesRequest, from: number): string {
  const key = [request.selector, request.startMs, request.endMs, request.intervalMs].join(',')
  return Buffer.from(JSON.stringify({ a: stream.streamARN, k: key, f: from })).toString('base64')
}

function parseRequest(stream: StreamRecord, input: JsonObject): ImagesRequest {
  const selector = optionalEnum(input, 'ImageSelectorType', [
    'PRODUCER_TIMESTAMP',
    'SERVER_TIMESTAMP',
  ] as const)
  if (selector === undefined) throw invalidArgument('ImageSelectorType is required.')
  const startMs = timestampMs(input.StartTimestamp, 'StartTimestamp')
  const endMs = timestampMs(input.EndTimestamp, 'EndTimestamp')
  if (startMs === undefined) throw invalidArgument('StartTimestamp is required.')
  if (endMs === undefined) throw invalidArgument('EndTimestamp is required.')
  if (endMs < startMs) throw invalidArgument('EndTimestamp must not be earlier than StartTimestamp.')
  const intervalMs = optionalInteger(input, 'SamplingInterval', { min: 3000, max: 20_000 })
  if (intervalMs === undefined) throw invalidArgument('SamplingInterval is required.')
  const format = optionalEnum(input, 'Format', ['JPEG', 'PNG'] as const)
  if (format === undefined) throw invalidArgument('Format is required.')
  let quality = 80
  const config = input.FormatConfig
  if (config !== undefined && config !== null) {
    if (typeof config !== 'object' || Array.isArray(config)) {
      throw new ServiceError('SerializationException', 400, 'FormatConfig must be a map.')
    }
    const entries = Object.entries(config as JsonObject)
    if (entries.length !== 1 || entries[0]![0] !== 'JPEGQuality') {
      throw invalidArgument('FormatConfig must have exactly one entry, JPEGQuality.')
    }
    const value = entries[0]![1]
    quality = typeof value === 'string' && /^[0-9]{1,3}$/.test(value) ? Number(value) : Number.NaN
    if (!(quality >= 1 && quality <= 100)) {
      throw invalidArgument(
        `FormatConfig JPEGQuality must be a whole number from 1 to 100, got ${JSON.stringify(value)}.`,
      )
    }
  }
  const width = optionalInteger(input, 'WidthPixels', { min: 1, max: 3840 })
  const height = optionalInteger(input, 'HeightPixels', { min: 1, max: 2160 })
  if (width !== undefined && height === undefined) {
    throw invalidArgument('WidthPixels needs HeightPixels (HeightPixels alone keeps the aspect ratio).')
  }
  const maxResults = optionalInteger(input, 'MaxResults', { min: 1, max: 100 }) ?? 100
  const request: ImagesRequest = {
    selector,
    startMs,
    endMs,
    intervalMs,
    format,
    quality,
    width,
    height,
    maxResults,
    from: 0,
  }
  const nextToken = optionalString(input, 'NextToken', {
    pattern: /^[a-zA-Z0-9+/]+={0,2}$/,
    minLength: 1,
    maxLength: 4096,
  })
  if (nextToken !== undefined) {
    let token: { a?: unknown; k?: unknown; f?: unknown } | undefined
    try {
      token = JSON.parse(Buffer.from(nextToken, 'base64').toString('utf8'))
    } catch {
      token = undefined
    }
    const key = [selector, startMs, endMs, intervalMs].join(',')
    if (token?.a !== stream.streamARN || token.k !== key || !Number.isSafeInteger(token.f)) {
      throw invalidArgument('NextToken is not valid for this stream and request.')
    }
    request.from = token.f as number
  }
  return request
}

/**
 * GetImages: one image per `SamplingInterval` from `StartTimestamp` to `EndTimestamp` (the image at the
 * start when the range is shorter than the interval), `MaxResults` per page with a `NextToken`. Each image is
 * the first frame at or after its timestamp in the fragment that covers it, decoded by ffmpeg (one run per
 * fragment), scaled to `WidthPixels`×`HeightPixels` (or `HeightPixels` with the aspect ratio kept), as JPEG
 * (`JPEGQuality`, default 80) or PNG. A timestamp no fragment covers gets `NO_MEDIA`; a fragment without
 * video or that ffmpeg cannot decode, `MEDIA_ERROR`. Without ffmpeg on the emulator's PATH the request
 * fails with `InternalFailure` saying so: decoding needs a video decoder, which the emulator does not embed.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetImages.html
 */
export async function getImages(
  context: EmulatorContext,
  stream: StreamRecord,
  input: JsonObject,
): Promise<{ Images: ImageEntry[]; NextToken?: string }> {
  const request = parseRequest(stream, input)
  const total = Math.floor((request.endMs - request.startMs) / request.intervalMs) + 1
  const times: number[] = []
  for (let i = request.from; i < total && times.length < request.maxResults; i++) {
    times.push(request.startMs + i * request.intervalMs)
  }
  const fragments = context.storage
    .listFragments(stream.streamName)
    .slice()
    .sort((a, b) => startOf(a, request.selector) - startOf(b, request.selector) || a.sequence - b.sequence)
  const images: ImageEntry[] = times.map((t) => ({ TimeStamp: t / 1000 }))
  // Which fragment covers each sample time: the newest-starting one that starts at or before it and lasts past it.
  const byFragment = new Map<FragmentInfo, number[]>()
  times.forEach((t, i) => {
    let covering: FragmentInfo | undefined
    for (const fragment of fragments) {
      const start = startOf(fragment, request.selector)
      if (start > t) break
      if (t < start + Math.max(fragment.durationMs, 1)) covering = fragment
    }
    if (covering === undefined) images[i]!.Error = 'NO_MEDIA'
    else byFragment.set(covering, [...(byFragment.get(covering) ?? []), i])
  })
  for (const [fragment, indexes] of byFragment) {
    const results = await fragmentImages(
      context,
      stream,
      fragment,
      indexes.map((i) => times[i]!),
      request,
    )
    indexes.forEach((imageIndex, j) => {
      const content = results[j]
      if (content === undefined || content.length === 0) images[imageIndex]!.Error = 'MEDIA_ERROR'
      else {
        const base64 = Buffer.from(content).toString('base64')
        if (base64.length > MAX_IMAGE_CONTENT) images[imageIndex]!.Error = 'MEDIA_ERROR'
        else images[imageIndex]!.ImageContent = base64
      }
    })
  }
  const next = request.from + times.length
  return { Images: images, ...(next < total ? { NextToken: encodeToken(stream, request, next) } : {}) }
}

/**
 * Decodes, from one fragment, the first video frame at or after each time (selector clock): picks the frames
 * by their presentation index and has one ffmpeg run write them, in order, as an image stream. Returns one
 * image (or `undefined` for MEDIA_ERROR) per time.
 */
async function fragmentImages(
  context: EmulatorContext,
  stream: StreamRecord,
  fragment: FragmentInfo,
  times: readonly number[],
  request: ImagesRequest,
): Promise<(Uint8Array | undefined)[]> {
  const failed = times.map(() => undefined)
  const stored = await readStored(context, stream.streamName, fragment)
  let video: Mp4Frame[] | undefined
  let videoTrack: number | undefined
  try {
    const read = readMkvFragment([stored.header, ...stored.cluster])
    const entry = read.tracks.find((track) => track.type === 1)
    videoTrack = entry?.number
    video = entry === undefined ? undefined : read.frames.get(entry.number)
  } catch {
    return failed
  }
  if (video === undefined || video.length === 0 || videoTrack === undefined) return failed
  const offset = clockOffset(fragment, request.selector)
  const presentation = video.map((frame) => frame.timestampMs + offset).sort((a, b) => a - b)
  const picks = times.map((t) => {
    const index = presentation.findIndex((time) => time >= t)
    return index === -1 ? presentation.length - 1 : index
  })
  const unique = [...new Set(picks)].sort((a, b) => a - b)
  const scale = request.height === undefined ? [] : [`scale=${request.width ?? -2}:${request.height}`]
  const filter = [`select='${unique.map((n) => `eq(n\\,${n})`).join('+')}'`, ...scale].join(',')
  const codec =
    request.format === 'PNG'
      ? ['-c:v', 'png', '-f', 'image2pipe']
      : [
          '-c:v',
          'mjpeg',
          '-q:v',
          String(Math.round(31 - ((request.quality - 1) * 29) / 99)),
          '-f',
          'image2pipe',
        ]
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'matroska', '-i', 'pipe:0'],
    ...['-map', `0:v:0`, '-vf', filter, '-fps_mode', 'passthrough', '-frames:v', String(unique.length)],
    ...codec,
    'pipe:1',
  ]
  const output = await runFfmpeg(args, [stored.header, ...stored.cluster])
  if (output === undefined) return failed
  const decoded = request.format === 'PNG' ? splitPngs(output) : splitJpegs(output)
  if (decoded.length !== unique.length) return failed
  return picks.map((pick) => decoded[unique.indexOf(pick)])
}

/** Runs ffmpeg with `input` on stdin; resolves with stdout, or `undefined` when it fails. */
function runFfmpeg(args: readonly string[], input: readonly Uint8Array[]): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), FFMPEG_TIMEOUT_MS)
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString()
    })
    child.stdin.on('error', () => {})
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (error.code === 'ENOENT') {
        reject(
          new ServiceError(
            'InternalFailure',
            500,
            "GetImages needs ffmpeg to decode video, and ffmpeg is not on the emulator's PATH: install it (apt-get install ffmpeg, brew install ffmpeg, choco install ffmpeg) and retry.",
            { cause: error },
          ),
        )
      } else reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve(code === 0 ? Buffer.concat(chunks) : undefined)
    })
    for (const part of input) child.stdin.write(part)
    child.stdin.end()
  })
}

/** The PNG files of a concatenation (each from its signature to its IEND chunk). */
function splitPngs(bytes: Uint8Array): Uint8Array[] {
  const images: Uint8Array[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let start = 0
  let at = 8
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    at += 12 + length
    if (type === 'IEND') {
      images.push(bytes.subarray(start, at))
      start = at
      at += 8
    }
  }
  return images
}

/**
 * The JPEG files of an MJPEG stream: from SOI, marker segments by their lengths up to SOS, then the
 * entropy-coded data up to EOI (in which a 0xFF byte is always followed by 0x00 or a restart marker).
 */
function splitJpegs(bytes: Uint8Array): Uint8Array[] {
  const images: Uint8Array[] = []
  let at = 0
  while (at + 4 <= bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xd8) {
    const start = at
    at += 2
    let end: number | undefined
    while (end === undefined && at + 4 <= bytes.length) {
      if (bytes[at] !== 0xff) return images
      const marker = bytes[at + 1]!
      const length = (bytes[at + 2]! << 8) | bytes[at + 3]!
      at += 2 + length
      if (marker !== 0xda) continue
      for (; at + 1 < bytes.length; at++) {
        const next = bytes[at + 1]!
        if (bytes[at] === 0xff && next !== 0 && (next < 0xd0 || next > 0xd7)) break
      }
      if (bytes[at + 1] === 0xd9) end = at + 2
      else if (at + 1 >= bytes.length) return images
    }
    if (end === undefined) return images
    images.push(bytes.subarray(start, end))
    at = end
  }
  return images
}
