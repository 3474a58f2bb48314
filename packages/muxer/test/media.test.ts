// The muxer's output read by tools nobody here wrote: ffprobe and mkvinfo read it without an error, and
// ffmpeg decodes it to the same frames as the raw input (framemd5, frame by frame), at the right times.
import type { ChunkerFragmentEvent, HeaderEvent } from '@kvs-streams/chunker'
import { ffprobeCounts, hasTool, mkvinfoSummary, run } from '@kvs-streams/test-utils'
import { afterAll, expect, describe as group, it } from 'vitest'
import { createAnnexBMuxer, type MuxerEvent } from '../src/index.ts'
import { annexbFixture, chunk, mkvBytes, tempFolder, VIDEO_FIXTURES, views } from './helpers.ts'

const folder = tempFolder()
afterAll(() => folder.cleanup())

for (const tool of ['ffmpeg', 'ffprobe', 'mkvinfo']) {
  if (!hasTool(tool)) throw new Error(`${tool} is not installed: run scripts/setup.sh`)
}

/** The MD5 of each decoded frame of one stream of `file`, in output order (`ffmpeg -f framemd5`). */
async function framemd5(file: string, stream: 'v' | 'a', inputOptions: string[] = []): Promise<string[]> {
  const args = ['-v', 'error', ...inputOptions, '-i', file, '-map', `0:${stream}`, '-f', 'framemd5', '-']
  const result = await run('ffmpeg', args, { timeoutMs: 60_000 })
  if (result.code !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(',').pop()!.trim())
}

/** Presentation times (ms) of the decoded video frames, in output order. */
async function decodedTimes(file: string): Promise<number[]> {
  const args = [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_frames',
    '-show_entries',
    'frame=best_effort_timestamp_time',
    '-of',
    'json',
    file,
  ]
  const result = await run('ffprobe', args)
  const parsed = JSON.parse(result.stdout) as { frames: { best_effort_timestamp_time: string }[] }
  return parsed.frames.map((frame) => Math.round(Number(frame.best_effort_timestamp_time) * 1000))
}

/** Muxes a video fixture (and an audio one), reading each input as `nextInput` asks, in 4 KiB chunks. */
function mux(videoFile: string, codec: 'h264' | 'h265', audioFile?: string): MuxerEvent[] {
  const muxer = createAnnexBMuxer({ codec, audio: audioFile !== undefined })
  const video = views(annexbFixture(videoFile), 4096)
  const audio = audioFile === undefined ? [] : views(annexbFixture(audioFile), 4096)
  const events: MuxerEvent[] = []
  let v = 0
  let a = 0
  while (v < video.length || a < audio.length) {
    if (a < audio.length && (v >= video.length || muxer.nextInput === 'audio')) {
      events.push(...muxer.pushAudio(audio[a++]!))
      if (a === audio.length) events.push(...muxer.endAudio())
    } else events.push(...muxer.push(video[v++]!))
  }
  events.push(...muxer.end())
  return events
}

const ffprobeClean = async (file: string) => {
  const result = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_packets', '-of', 'json', file])
  expect(result.code).toBe(0)
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout) as {
    streams: {
      codec_name: string
      width?: number
      height?: number
      sample_rate?: string
      channels?: number
    }[]
  }
}

group('muxer output read by ffprobe, mkvinfo and ffmpeg', () => {
  for (const fixture of VIDEO_FIXTURES) {
    it(`${fixture.file} → MKV: read without errors, every frame decoded the same, times on the 40 ms grid`, async () => {
      const raw = folder.path(fixture.file, annexbFixture(fixture.file))
      const events = mux(fixture.file, fixture.codec)
      const mkv = folder.path(`${fixture.file}.mkv`, mkvBytes(events))

      expect(chunk(mkvBytes(events)).filter((event) => event.type === 'violation')).toEqual([])
      const [probe, info, expected, decoded, times] = await Promise.all([
        ffprobeClean(mkv),
        mkvinfoSummary(mkv),
        framemd5(raw, 'v'),
        framemd5(mkv, 'v'),
        decodedTimes(mkv),
      ])
      expect(probe.streams).toMatchObject([
        {
          codec_name: fixture.codec === 'h264' ? 'h264' : 'hevc',
          width: fixture.width,
          height: fixture.height,
        },
      ])
      const codecId = fixture.codec === 'h264' ? 'V_MPEG4/ISO/AVC' : 'V_MPEGH/ISO/HEVC'
      expect(info.tracks).toEqual([{ number: 1, codecId, type: 'video' }])
      expect(info.perTrack[1]).toMatchObject({ simpleBlocks: fixture.frames, keyBlocks: fixture.keys })
      expect(info.clusterTimecodes).toEqual([0, 2000])
      for (const cluster of info.clusterDetails)
        expect(cluster.blocks[0]).toMatchObject({ track: 1, key: true })

      expect(expected).toHaveLength(fixture.frames)
      expect(decoded).toEqual(expected)
      // Decoded in output order, each frame with its own time: B-frames got their presentation times.
      expect(times).toEqual(expected.map((_, i) => i * 40))
    })
  }

  for (const [videoFile, codec, audioFile, audioFrames] of [
    ['ffmpeg-h264-high-bframes.h264', 'h264', 'ffmpeg-aac.adts', 189],
    ['gst-x265.h265', 'h265', 'gst-voaac.adts', 188],
  ] as const) {
    it(`${videoFile} + ${audioFile} → MKV: both tracks in every fragment, decoded the same`, async () => {
      const events = mux(videoFile, codec, audioFile)
      const bytes = mkvBytes(events)
      const mkv = folder.path(`${videoFile}+audio.mkv`, bytes)
      const chunked = chunk(bytes)
      expect(chunked.filter((event) => event.type === 'violation')).toEqual([])
      const fragments = events.filter((event) => event.type === 'fragment') as ChunkerFragmentEvent[]
      for (const fragment of fragments) expect(fragment.tracks).toEqual([1, 2])

      const rawVideo = folder.path(videoFile, annexbFixture(videoFile))
      const rawAudio = folder.path(audioFile, annexbFixture(audioFile))
      const [, counts, info, videoOut, videoIn, audioOut, audioIn] = await Promise.all([
        ffprobeClean(mkv),
        ffprobeCounts(mkv),
        mkvinfoSummary(mkv),
        framemd5(mkv, 'v'),
        framemd5(rawVideo, 'v'),
        framemd5(mkv, 'a'),
        framemd5(rawAudio, 'a'),
      ])
      expect(counts.streams.map((stream) => stream.codecType)).toEqual(['video', 'audio'])
      expect(counts.packetsPerStream).toEqual([100, audioFrames])
      expect(info.tracks.map((track) => track.codecId)).toEqual([
        codec === 'h264' ? 'V_MPEG4/ISO/AVC' : 'V_MPEGH/ISO/HEVC',
        'A_AAC',
      ])
      for (const cluster of info.clusterDetails)
        expect(cluster.blocks[0]).toMatchObject({ track: 1, key: true })
      expect(videoOut).toEqual(videoIn)
      expect(audioOut).toEqual(audioIn)
    })
  }

  it('gives the same MKV bytes whatever chunks the inputs come in', () => {
    const whole = mkvBytes(mux('ffmpeg-h264-high-bframes.h264', 'h264', 'ffmpeg-aac.adts'))
    const muxer = createAnnexBMuxer({ audio: true })
    const events: MuxerEvent[] = []
    for (const piece of views(annexbFixture('ffmpeg-aac.adts'), 777)) events.push(...muxer.pushAudio(piece))
    for (const piece of views(annexbFixture('ffmpeg-h264-high-bframes.h264'), 1013))
      events.push(...muxer.push(piece))
    events.push(...muxer.end())
    expect(Buffer.from(mkvBytes(events)).equals(Buffer.from(whole))).toBe(true)
  })
})

group('Annex-B muxer with an audio input that sends nothing', () => {
  it('goes on without an audio track after maxInterleaveDelayMs of video, dropping the audio that comes later', () => {
    const muxer = createAnnexBMuxer({ audio: true, maxInterleaveDelayMs: 1000 })
    const events = [...muxer.push(annexbFixture('ffmpeg-h264-baseline.h264'))]
    events.push(...muxer.pushAudio(annexbFixture('ffmpeg-aac.adts')), ...muxer.end())
    expect(muxer.nextInput).toBe('video')
    const header = events[0] as HeaderEvent
    expect(header.tracks.map((track) => track.codecId)).toEqual(['V_MPEG4/ISO/AVC'])
    expect(muxer.droppedFrames).toBe(189)
    expect(chunk(mkvBytes(events)).filter((event) => event.type === 'violation')).toEqual([])
  })
})
