import {
  GetHLSStreamingSessionURLCommand,
  type GetHLSStreamingSessionURLCommandInput,
  type KinesisVideoArchivedMediaClient,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.ts'
import { archivedMediaClient, encodeAv, fetchResource, framesOf, putBody } from './support/archived-media.ts'
import { createStream } from './support/client.ts'

let emulator: Emulator
let client: KinesisVideoArchivedMediaClient
/** Added to the real time by the emulator's clock: the tests move time forward. */
let clockOffset = 0
let fourSeconds: Uint8Array
let threeSeconds: Uint8Array
const START = Date.now() - 120_000

beforeAll(async () => {
  emulator = await startEmulator({ clock: () => Date.now() + clockOffset })
  client = archivedMediaClient(emulator)
  fourSeconds = await encodeAv('four.mkv', 4)
  threeSeconds = await encodeAv('three.mkv', 3)
})
afterAll(() => emulator.close())

async function session(
  input: Omit<GetHLSStreamingSessionURLCommandInput, 'StreamName'> & { StreamName: string },
) {
  const output = await client.send(new GetHLSStreamingSessionURLCommand(input))
  return output.HLSStreamingSessionURL!
}

/** The media playlist of a track, as lines. */
async function mediaPlaylist(url: string, track = 1): Promise<string[]> {
  const response = await fetchResource(
    new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=${track}`, url).href,
  )
  expect(response.status).toBe(200)
  return response.text.trim().split('\n')
}

const value = (lines: readonly string[], tag: string) =>
  lines.find((line) => line.startsWith(`${tag}:`))?.slice(tag.length + 1)
const segments = (lines: readonly string[]) =>
  lines.filter((line) => line.startsWith('getMP4MediaFragment.mp4?'))

describe('LIVE sessions', () => {
  it('slide a window of the newest fragments, counting MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE on', async () => {
    await createStream(emulator, 'live')
    await putBody(emulator, 'live', fourSeconds, START)
    const url = await session({ StreamName: 'live', MaxMediaPlaylistFragmentResults: 3 })
    let lines = await mediaPlaylist(url)
    expect(lines).not.toContain('#EXT-X-ENDLIST')
    expect(value(lines, '#EXT-X-PLAYLIST-TYPE')).toBeUndefined()
    expect(segments(lines)).toHaveLength(3)
    expect(value(lines, '#EXT-X-MEDIA-SEQUENCE')).toBe('1')
    // SERVER_TIMESTAMP (the default) → ALWAYS: a discontinuity between every two fragments.
    expect(value(lines, '#EXT-X-DISCONTINUITY-SEQUENCE')).toBe('0')
    expect(lines.filter((line) => line === '#EXT-X-DISCONTINUITY')).toHaveLength(2)
    const first = segments(lines)
    await putBody(emulator, 'live', threeSeconds, START + 4000)
    lines = await mediaPlaylist(url)
    // The session began with the second fragment (oldest of its first window): 6 fragments since, 3 shown.
    expect(value(lines, '#EXT-X-MEDIA-SEQUENCE')).toBe('4')
    expect(value(lines, '#EXT-X-DISCONTINUITY-SEQUENCE')).toBe('3')
    expect(segments(lines)).toHaveLength(3)
    expect(segments(lines)).not.toContain(first[2])
    for (const segment of segments(lines)) {
      const media = await fetchResource(new URL(segment, url).href)
      expect(media.status).toBe(200)
      expect(media.type).toBe('video/mp4')
      expect(Buffer.from(media.bytes.subarray(4, 8)).toString()).toBe('moof')
    }
  })

  it('answer ResourceNotFoundException without a fragment in the last 30 seconds', async () => {
    await createStream(emulator, 'stale')
    await putBody(emulator, 'stale', threeSeconds, START)
    clockOffset = 31_000
    try {
      await expect(session({ StreamName: 'stale' })).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      })
    } finally {
      clockOffset = 0
    }
  })
})

describe('ON_DEMAND discontinuity modes with producer timestamps', () => {
  beforeAll(async () => {
    await createStream(emulator, 'gap')
    await putBody(emulator, 'gap', fourSeconds, START)
    // Six seconds after the first file ends: a gap of 6 s between fragments 4 and 5.
    await putBody(emulator, 'gap', threeSeconds, START + 10_000)
  })
  const range = { StartTimestamp: new Date(START - 1000), EndTimestamp: new Date(START + 20_000) }

  it('ON_DISCONTINUITY marks only the gap; NEVER (the producer default) marks nothing', async () => {
    const marked = await mediaPlaylist(
      await session({
        StreamName: 'gap',
        PlaybackMode: 'ON_DEMAND',
        HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
        DiscontinuityMode: 'ON_DISCONTINUITY',
      }),
    )
    expect(segments(marked)).toHaveLength(7)
    const at = marked.indexOf('#EXT-X-DISCONTINUITY')
    expect(marked.filter((line) => line === '#EXT-X-DISCONTINUITY')).toHaveLength(1)
    // Right before the fifth segment's EXTINF.
    expect(marked.slice(0, at).filter((line) => line.startsWith('getMP4MediaFragment'))).toHaveLength(4)
    const never = await mediaPlaylist(
      await session({
        StreamName: 'gap',
        PlaybackMode: 'ON_DEMAND',
        HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      }),
    )
    expect(never).not.toContain('#EXT-X-DISCONTINUITY')
  })

  it('the media segments carry the producer timestamps: a 6 s jump in tfdt across the gap', async () => {
    const url = await session({
      StreamName: 'gap',
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
    })
    const tfdts: number[] = []
    for (const segment of segments(await mediaPlaylist(url))) {
      tfdts.push(tfdtOf((await fetchResource(new URL(segment, url).href)).bytes))
    }
    // Decode times are epoch-based, in 90 kHz ticks: each segment starts at its first video frame's producer
    // time (ffmpeg starts the video one AAC priming delay after the Cluster's timecode).
    const videoStart = framesOf(fourSeconds).get(1)![0]!.timestampMs
    expect(tfdts.map((tfdt) => tfdt / 90 - START - videoStart)).toEqual([
      0, 1000, 2000, 3000, 10_000, 11_000, 12_000,
    ])
  })
})

describe('LIVE_REPLAY', () => {
  it('adds fragments as their durations elapse from the session start, and ends once past EndTimestamp', async () => {
    await createStream(emulator, 'replay')
    await putBody(emulator, 'replay', fourSeconds, START)
    const url = await session({
      StreamName: 'replay',
      PlaybackMode: 'LIVE_REPLAY',
      HLSFragmentSelector: {
        FragmentSelectorType: 'PRODUCER_TIMESTAMP',
        TimestampRange: { StartTimestamp: new Date(START), EndTimestamp: new Date(START + 3500) },
      },
    })
    try {
      expect(segments(await mediaPlaylist(url))).toHaveLength(1)
      clockOffset = 1500
      let lines = await mediaPlaylist(url)
      expect(segments(lines)).toHaveLength(2)
      expect(lines).not.toContain('#EXT-X-ENDLIST')
      // Every fragment of the range is in, and the end (a producer time) is well past: the playlist ends.
      clockOffset = 40_000
      lines = await mediaPlaylist(url)
      expect(segments(lines)).toHaveLength(4)
      expect(lines.at(-1)).toBe('#EXT-X-ENDLIST')
    } finally {
      clockOffset = 0
    }
  })
})

/** `tfdt.baseMediaDecodeTime` of a one-traf media segment. */
function tfdtOf(segment: Uint8Array): number {
  const at = Buffer.from(segment).indexOf('tfdt')
  const view = new DataView(segment.buffer, segment.byteOffset + at + 4)
  return view.getUint8(0) === 1 ? view.getUint32(4) * 2 ** 32 + view.getUint32(8) : view.getUint32(4)
}
