import { createGetMediaParser, type FrameEvent } from '@kvs-streams/get-media/parser'
import { fixturePath, readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  buildTrackRun,
  createFmp4Segmenter,
  type Fmp4Event,
  type Fmp4SegmenterOptions,
  mp4TrackOf,
  readMkvFragments,
  type TrackRun,
  writeMp4File,
} from '../src/index.ts'
import { find, findAll, readBoxes } from './support/boxes.ts'
import { encode, type ProbedPacket, probeFormat, probePackets, writeTemp } from './support/media.ts'

/** The init segment and every media segment, as one fMP4 file's parts. */
function fmp4Parts(bytes: Uint8Array, options?: Fmp4SegmenterOptions): Uint8Array[] {
  const segmenter = createFmp4Segmenter(options)
  const parts: Uint8Array[] = []
  for (const event of [...segmenter.push(bytes), ...segmenter.end()] as Fmp4Event[]) {
    if (event.type === 'init-segment') parts.push(event.data)
    else if (event.type === 'media-segment') parts.push(...event.parts)
  }
  return parts
}

/** Packets of one stream in decode order, as (pts, size, key). */
function streamPackets(packets: readonly ProbedPacket[], stream: number) {
  return packets
    .filter((packet) => packet.stream === stream)
    .map(({ ptsUs, size, key }) => ({ ptsUs, size, key }))
}

describe('round trip through ffprobe -show_packets: the fMP4 has the MKV blocks', () => {
  it('H.264 + AAC without B-frames (what KVS producers send): same timestamps, sizes and key frames', async () => {
    const { path, bytes } = await encode('kvs-like.mkv', {
      seconds: 3,
      video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25', '-pix_fmt', 'yuv420p'],
      audio: ['-c:a', 'aac', '-b:a', '64k'],
    })
    const mp4 = await writeTemp('kvs-like.mp4', fmp4Parts(bytes))
    const [before, after] = [await probePackets(path), await probePackets(mp4)]
    // The MKV's first timestamp is the origin: 0 here too (ffmpeg starts its files at 0).
    for (const stream of [0, 1]) {
      const expected = streamPackets(before, stream)
      expect(expected.length).toBeGreaterThan(70)
      expect(streamPackets(after, stream)).toEqual(expected)
    }
    expect(streamPackets(after, 0).filter((packet) => packet.key)).toHaveLength(3)
  })

  it('H.265 without B-frames: same timestamps, sizes and key frames', async () => {
    const { path, bytes } = await encode('hevc-round-trip.mkv', {
      seconds: 2,
      video: [
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-x265-params',
        'log-level=error:bframes=0:keyint=25',
        '-pix_fmt',
        'yuv420p',
      ],
    })
    const mp4 = await writeTemp('hevc-round-trip.mp4', fmp4Parts(bytes))
    expect(streamPackets(await probePackets(mp4), 0)).toEqual(streamPackets(await probePackets(path), 0))
    expect((await probeFormat(mp4)).streams).toEqual([
      { codec: 'hevc', packets: 50, width: 320, height: 240 },
    ])
  })

  it('H.264 with B-frames: same sizes and order, presentation times offset only by the reordering delay ffmpeg adds', async () => {
    const mkv = readFixture('generated', 'ffmpeg-h264-aac.mkv')
    const parts = fmp4Parts(mkv)
    const mp4 = await writeTemp('b-frames.mp4', parts)
    const [before, after] = [
      await probePackets(fixturePath('generated', 'ffmpeg-h264-aac.mkv')),
      await probePackets(mp4),
    ]
    // ffmpeg's mov demuxer shows negative composition offsets shifted up by the largest one (its dts_shift).
    const shift = largestNegativeOffsetUs(parts)
    expect(shift).toBeGreaterThan(0)
    const video = streamPackets(after, 0)
    expect(video.map((packet) => packet.size)).toEqual(streamPackets(before, 0).map((packet) => packet.size))
    expect(video.map((packet) => packet.ptsUs! - shift)).toEqual(
      streamPackets(before, 0).map((packet) => packet.ptsUs),
    )
    expect(streamPackets(after, 1)).toEqual(streamPackets(before, 1))
  })

  it('laced AAC (mkvmerge BlockGroups, up to 8 frames a block): one sample per frame, same sizes', async () => {
    const mkv = readFixture('generated', 'mkvmerge-blockgroups.mkv')
    const mp4 = await writeTemp('laced.mp4', fmp4Parts(mkv, { tracks: [2] }))
    const before = await probePackets(fixturePath('generated', 'mkvmerge-blockgroups.mkv'))
    const after = streamPackets(await probePackets(mp4), 0)
    const expected = streamPackets(before, 1)
    expect(after.map((packet) => packet.size)).toEqual(expected.map((packet) => packet.size))
    // Laced frames have no timestamps of their own: the first of each block has the block's, the next ones
    // follow it by one AAC frame (1024 samples) each. (ffprobe's MKV reading rounds each step to the ms.)
    const blocks = createGetMediaParser()
      .push(mkv)
      .filter((event): event is FrameEvent => event.type === 'frame' && event.track === 2)
    const times = blocks.flatMap((block) =>
      Array.from({ length: block.lacing === 'none' ? 1 : block.data[0]! + 1 }, (_, k) =>
        Math.round(block.timestampMs * 1000 + (k * 1024 * 1e6) / 48_000),
      ),
    )
    expect(after.map((packet) => packet.ptsUs)).toEqual(times)
  })
})

describe('writeMp4File: one MP4 file for several fragments (GetClip)', () => {
  it('is read by ffprobe with every frame, the fragments duration and a moov before the mdat', async () => {
    const { path: source, bytes } = await encode('clip-source.mkv', {
      seconds: 4,
      video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25', '-pix_fmt', 'yuv420p'],
      audio: ['-c:a', 'aac', '-b:a', '64k'],
    })
    const clusters = readMkvFragments([bytes])
    const tracks = clusters[0]!.tracks.map(mp4TrackOf)
    const frames = new Map(
      tracks.map((track) => [track.id, clusters.flatMap((cluster) => cluster.frames.get(track.id)!)]),
    )
    const origin = 0
    // Cut the one document into 1 s pieces, as KVS fragments would be, and drop the third second: a gap.
    const runs: TrackRun[][] = []
    for (const [from, to] of [
      [0, 1000],
      [1000, 2000],
      [3000, Number.POSITIVE_INFINITY],
    ] as const) {
      runs.push(
        tracks.map((track) =>
          buildTrackRun(
            track,
            frames.get(track.id)!.filter((frame) => frame.timestampMs >= from && frame.timestampMs < to),
            { timeOriginMs: origin },
          ),
        ),
      )
    }
    const file = writeMp4File(tracks, runs)
    const path = await writeTemp('clip.mp4', file.parts)
    const boxes = readBoxes(joinHead(file.parts, file.byteLength))
    expect(boxes.map((box) => box.type)).toEqual(['ftyp', 'moov', 'mdat'])
    expect(find(boxes, 'moov/trak/mdia/minf/stbl/stss')).toBeDefined()
    const format = await probeFormat(path)
    expect(format.streams.map((stream) => [stream.codec, stream.packets])).toEqual([
      ['h264', 75],
      ['aac', runs.reduce((sum, fragmentRuns) => sum + fragmentRuns[1]!.samples.length, 0)],
    ])
    // 0–2 s and 3–4 s: the gap stays in the timeline, so the file lasts 4 s.
    expect(format.durationS).toBeCloseTo(4, 1)
    // Every kept frame at its MKV time (ffmpeg starts the video 21 ms after the audio's first frame: an
    // empty edit keeps that), with its size and key-frame flag.
    const packets = await probePackets(path)
    const kept = (packet: ProbedPacket) => packet.ptsUs! < 2_000_000 || packet.ptsUs! >= 3_000_000
    const original = await probePackets(source)
    for (const stream of [0, 1]) {
      expect(streamPackets(packets, stream)).toEqual(streamPackets(original.filter(kept), stream))
    }
    expect(streamPackets(packets, 0).filter((packet) => packet.key)).toHaveLength(3)
  })
})

/** The parts joined (the whole file), for the box reader. */
function joinHead(parts: readonly Uint8Array[], length?: number): Uint8Array {
  const out = new Uint8Array(length ?? parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** The largest negative composition offset of the video trun boxes, in microseconds. */
function largestNegativeOffsetUs(parts: readonly Uint8Array[]): number {
  const boxes = readBoxes(joinHead(parts))
  let largest = 0
  for (const traf of findAll(boxes, 'moof/traf')) {
    const trun = find(traf.children, 'trun')
    const view = new DataView(trun.payload.buffer, trun.payload.byteOffset, trun.payload.byteLength)
    const flags = view.getUint32(0) & 0xffffff
    if (!(flags & 0x800)) continue
    const count = view.getUint32(4)
    for (let i = 0; i < count; i++) largest = Math.max(largest, -view.getInt32(12 + i * 16 + 12))
  }
  return Math.round((largest / 90_000) * 1e6)
}
