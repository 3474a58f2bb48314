import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ChunkerEvent, createClusterChunker } from '@kvs-streams/chunker'
import { readFixture } from '@kvs-streams/test-utils'
import {
  type AdtsEvent,
  type AnnexBEvent,
  type AnnexBMuxerOptions,
  type AnnexBParserOptions,
  createAdtsParser,
  createAnnexBMuxer,
  createAnnexBParser,
  type MuxerEvent,
} from '../src/index.ts'

/** The Annex-B fixtures: file name, codec, and what ffprobe reads in them. */
export const VIDEO_FIXTURES = [
  {
    file: 'ffmpeg-h264-baseline.h264',
    codec: 'h264',
    width: 320,
    height: 240,
    frames: 100,
    keys: 4,
    reorder: 0,
  },
  {
    file: 'ffmpeg-h264-high-bframes.h264',
    codec: 'h264',
    width: 320,
    height: 180,
    frames: 100,
    keys: 4,
    reorder: 2,
  },
  { file: 'gst-x264.h264', codec: 'h264', width: 320, height: 240, frames: 100, keys: 4, reorder: 2 },
  { file: 'gst-openh264.h264', codec: 'h264', width: 320, height: 240, frames: 100, keys: 4, reorder: 0 },
  { file: 'ffmpeg-h265.h265', codec: 'h265', width: 320, height: 180, frames: 100, keys: 4, reorder: 2 },
  { file: 'gst-x265.h265', codec: 'h265', width: 320, height: 240, frames: 100, keys: 4, reorder: 2 },
] as const

export const AUDIO_FIXTURES = [
  { file: 'ffmpeg-aac.adts', sampleRate: 48000, channels: 2, frames: 189 },
  { file: 'gst-voaac.adts', sampleRate: 44100, channels: 1, frames: 188 },
] as const

export function annexbFixture(file: string): Uint8Array {
  return readFixture('annexb', file)
}

/** Everything a run of a core gave: the events delivered (also those carried by the error) and the error. */
export interface Run<E> {
  events: E[]
  error: unknown
}

interface Core<E> {
  push(chunk: Uint8Array): E[]
  end(): E[]
}

/**
 * Pushes `chunks` in order, then ends (calling `end()` again when it returned events, as the adapters do, to
 * get an error it held back); stops at the first error, with every event returned before it.
 */
export function runCore<E>(core: Core<E>, chunks: Iterable<Uint8Array>): Run<E> {
  const events: E[] = []
  try {
    for (const chunk of chunks) events.push(...core.push(chunk))
    const trailing = core.end()
    events.push(...trailing)
    if (trailing.length > 0) events.push(...core.end())
  } catch (error) {
    return { events, error }
  }
  return { events, error: undefined }
}

export function parseAll(chunks: Iterable<Uint8Array>, options: AnnexBParserOptions = {}): Run<AnnexBEvent> {
  return runCore(createAnnexBParser(options), chunks)
}

export function parseAdtsAll(chunks: Iterable<Uint8Array>): Run<AdtsEvent> {
  return runCore(createAdtsParser(), chunks)
}

export function muxAll(chunks: Iterable<Uint8Array>, options: AnnexBMuxerOptions = {}): Run<MuxerEvent> {
  return runCore(createAnnexBMuxer(options), chunks)
}

/** Bytes as a short hash, for comparing frames and fragments as strings. */
export function hash(parts: Uint8Array | readonly Uint8Array[]): string {
  const digest = createHash('sha256')
  for (const part of parts instanceof Uint8Array ? [parts] : parts) digest.update(part)
  return digest.digest('hex').slice(0, 16)
}

/** Events as comparable plain values: bytes replaced by their hash. */
export function describe<E extends { type: string }>(run: Run<E>): unknown[] {
  const described: unknown[] = run.events.map((event) => {
    const copy: Record<string, unknown> = { ...event }
    for (const key of ['data', 'parts', 'codecPrivate', 'bytes']) {
      if (key in copy) copy[key] = hash(copy[key] as Uint8Array[])
    }
    return copy
  })
  if (run.error !== undefined) {
    const error = run.error as { code?: string; message?: string }
    described.push({ error: error.code ?? error.message })
  }
  return described
}

/** The MKV bytes of muxer events, joined. */
export function mkvBytes(events: readonly MuxerEvent[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const event of events) {
    if (event.type === 'header') parts.push(event.bytes)
    else parts.push(...event.parts)
  }
  return Buffer.concat(parts)
}

/** The chunker's events for `bytes`, violations emitted rather than thrown. */
export function chunk(bytes: Uint8Array): ChunkerEvent[] {
  const chunker = createClusterChunker({ onViolation: 'emit' })
  return [...chunker.push(bytes), ...chunker.end()]
}

/** Views of `bytes`, `size` bytes each. */
export function views(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size))
  return out
}

/** A temporary folder for files given to ffmpeg, removed by `cleanup()`. */
export function tempFolder(): { path(name: string, bytes?: Uint8Array): string; cleanup(): void } {
  const folder = mkdtempSync(join(tmpdir(), 'kvs-muxer-'))
  return {
    path(name, bytes) {
      const file = join(folder, name)
      if (bytes !== undefined) writeFileSync(file, bytes)
      return file
    },
    cleanup() {
      rmSync(folder, { recursive: true, force: true })
    },
  }
}

/** The NAL units of an Annex-B stream (start codes and trailing zeros removed), split with Buffer.indexOf. */
export function splitNalUnits(bytes: Uint8Array): Uint8Array[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const code = Buffer.from([0, 0, 1])
  const starts: number[] = []
  for (let at = buffer.indexOf(code); at >= 0; at = buffer.indexOf(code, at + 3)) starts.push(at + 3)
  return starts.map((start, i) => {
    let end = i + 1 < starts.length ? starts[i + 1]! - 3 : bytes.length
    while (end > start && bytes[end - 1] === 0) end--
    return bytes.subarray(start, end)
  })
}

/** Joins NAL units into an Annex-B stream with the given start code. */
export function joinNalUnits(
  nals: readonly Uint8Array[],
  startCode: readonly number[] = [0, 0, 0, 1],
): Uint8Array {
  const parts: Uint8Array[] = []
  for (const nal of nals) parts.push(Uint8Array.from(startCode), nal)
  return Buffer.concat(parts)
}
