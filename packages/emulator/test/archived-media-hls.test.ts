import {
  GetDASHStreamingSessionURLCommand,
  GetHLSStreamingSessionURLCommand,
  type KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.ts'
import {
  archivedMediaClient,
  encodeAv,
  fetchResource,
  framesOf,
  probeCounts,
  putBody,
} from './support/archived-media.ts'
import { createStream } from './support/client.ts'

let emulator: Emulator
let client: KinesisVideoArchivedMediaClient
let frames: Map<number, { length: number }>
/** Producer start of the 6 s file: its fragments start at START + 0, 1, … 5 s. */
const START = Date.now() - 60_000
const range = { StartTimestamp: new Date(START - 1000), EndTimestamp: new Date(START + 10_000) }

beforeAll(async () => {
  emulator = await startEmulator()
  client = archivedMediaClient(emulator)
  const body = await encodeAv('av.mkv', 6)
  frames = framesOf(body)
  await createStream(emulator, 'av')
  await putBody(emulator, 'av', body, START)
})
afterAll(() => emulator.close())

/** ffprobe's packet counts by codec (it lists an HLS audio rendition before the variant's video). */
function packetsByCodec(probed: { codecs: string[]; packets: number[] }): Record<string, number> {
  return Object.fromEntries(probed.codecs.map((codec, i) => [codec, probed.packets[i]!]))
}

async function hlsUrl(
  input: Omit<ConstructorParameters<typeof GetHLSStreamingSessionURLCommand>[0], 'StreamName'>,
) {
  const output = await client.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'av', ...input }))
  return output.HLSStreamingSessionURL!
}

describe('GetHLSStreamingSessionURL, ON_DEMAND', () => {
  it('answers a master playlist URL of the service shape on the data endpoint', async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
    })
    expect(url).toMatch(
      new RegExp(`^${emulator.url}/hls/v1/getHLSMasterPlaylist\\.m3u8\\?SessionToken=[A-Za-z0-9_.-]+~$`),
    )
    const master = await fetchResource(url)
    expect(master.status).toBe(200)
    expect(master.type).toBe('application/vnd.apple.mpegurl')
    const lines = master.text.trim().split('\n')
    expect(lines[0]).toBe('#EXTM3U')
    const variant = lines.find((line) => line.startsWith('#EXT-X-STREAM-INF:'))!
    expect(variant).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/)
    expect(variant).toContain('RESOLUTION=320x240')
    expect(variant).toContain('AUDIO="audio"')
    expect(lines[lines.indexOf(variant) + 1]).toMatch(
      /^getHLSMediaPlaylist\.m3u8\?SessionToken=.+&TrackNumber=1$/,
    )
    expect(lines.find((line) => line.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'))).toContain('TrackNumber=2')
  })

  it('lists every fragment in a VOD media playlist per track, with the service tag layout and ENDLIST', async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      DisplayFragmentTimestamp: 'ALWAYS',
    })
    const listed = await client.send(
      new ListFragmentsCommand({
        StreamName: 'av',
        FragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      }),
    )
    const fragments = listed.Fragments!.sort(
      (a, b) => a.ProducerTimestamp!.getTime() - b.ProducerTimestamp!.getTime(),
    )
    expect(fragments).toHaveLength(6)
    const playlist = await fetchResource(
      new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=1`, url).href,
    )
    const lines = playlist.text.trim().split('\n')
    expect(lines.slice(0, 7)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      `#EXT-X-TARGETDURATION:${Math.max(...fragments.map((f) => Math.ceil(f.FragmentLengthInMilliseconds! / 1000)))}`,
      '#EXT-X-MEDIA-SEQUENCE:1',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      `#EXT-X-MAP:URI="getMP4InitFragment.mp4?SessionToken=${new URL(url).searchParams.get('SessionToken')}&TrackNumber=1"`,
    ])
    expect(lines.at(-1)).toBe('#EXT-X-ENDLIST')
    // Producer timestamps, since the selector says so; NEVER is its default discontinuity mode.
    expect(lines.filter((line) => line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))).toEqual(
      fragments.map((f) => `#EXT-X-PROGRAM-DATE-TIME:${f.ProducerTimestamp!.toISOString()}`),
    )
    expect(lines).not.toContain('#EXT-X-DISCONTINUITY')
    expect(lines.filter((line) => line.startsWith('#EXTINF:'))).toEqual(
      fragments.map((f) => `#EXTINF:${(f.FragmentLengthInMilliseconds! / 1000).toFixed(3)},`),
    )
    expect(lines.filter((line) => line.startsWith('getMP4MediaFragment.mp4?'))).toEqual(
      fragments.map(
        (f) =>
          `getMP4MediaFragment.mp4?FragmentNumber=${f.FragmentNumber}&SessionToken=${new URL(url).searchParams.get('SessionToken')}&TrackNumber=1`,
      ),
    )
  })

  it('is read by ffprobe through the master playlist: as many packets as frames were put, per track', async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
    })
    expect(packetsByCodec(await probeCounts(url))).toEqual({
      h264: frames.get(1)!.length,
      aac: frames.get(2)!.length,
    })
  })

  it('is read by ffprobe with the server timestamps and a discontinuity between every fragment (the default)', async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: {
        FragmentSelectorType: 'SERVER_TIMESTAMP',
        TimestampRange: { StartTimestamp: new Date(Date.now() - 120_000), EndTimestamp: new Date() },
      },
    })
    const playlist = await fetchResource(
      new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=1`, url).href,
    )
    expect(playlist.text.split('\n').filter((line) => line === '#EXT-X-DISCONTINUITY')).toHaveLength(5)
    expect(packetsByCodec(await probeCounts(url))).toEqual({
      h264: frames.get(1)!.length,
      aac: frames.get(2)!.length,
    })
  })

  it("is read by GStreamer's hlsdemux and qtdemux: one buffer per frame put, per track's media playlist", async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
    })
    for (const track of [1, 2]) {
      const playlist = new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=${track}`, url)
        .href
      const result = await run(
        'gst-launch-1.0',
        [
          '-v',
          'souphttpsrc',
          `location=${playlist}`,
          '!',
          'hlsdemux',
          '!',
          'qtdemux',
          '!',
          'fakesink',
          'silent=false',
          'sync=false',
        ],
        { timeoutMs: 60_000 },
      )
      expect(result.code).toBe(0)
      // fakesink reports each buffer it receives as its last-message.
      const buffers = result.stdout.split('\n').filter((line) => line.includes('last-message = chain')).length
      expect(buffers).toBe(frames.get(track)!.length)
    }
  })

  it('caps the playlist at MaxMediaPlaylistFragmentResults, oldest first', async () => {
    const url = await hlsUrl({
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      MaxMediaPlaylistFragmentResults: 2,
    })
    const playlist = await fetchResource(
      new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=2`, url).href,
    )
    const extinf = playlist.text.split('\n').filter((line) => line.startsWith('#EXTINF:'))
    expect(extinf).toHaveLength(2)
    expect(playlist.text).toContain('#EXT-X-ENDLIST')
  })
})

describe('GetDASHStreamingSessionURL', () => {
  it('answers an MPD that ffprobe reads with as many packets as frames were put', async () => {
    const output = await client.send(
      new GetDASHStreamingSessionURLCommand({
        StreamName: 'av',
        PlaybackMode: 'ON_DEMAND',
        DASHFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
        DisplayFragmentNumber: 'ALWAYS',
        DisplayFragmentTimestamp: 'ALWAYS',
      }),
    )
    const url = output.DASHStreamingSessionURL!
    expect(url).toMatch(
      new RegExp(`^${emulator.url}/dash/v1/getDASHManifest\\.mpd\\?SessionToken=[A-Za-z0-9_.-]+~$`),
    )
    const mpd = await fetchResource(url)
    expect(mpd.status).toBe(200)
    expect(mpd.type).toBe('application/dash+xml')
    expect(mpd.text).toContain('type="static"')
    expect(mpd.text.match(/<S t="\d+" d="\d+" kvs:ts="[^"]+" kvs:fn="\d{47}"\/>/g)).toHaveLength(12)
    // One representation at a time: ffmpeg's DASH demuxer ends the whole input when the stream it reads next
    // (the one with the lowest timestamp) ends, so read together the audio frame after the last video frame
    // would be dropped (dashdec.c dash_read_packet).
    expect(packetsByCodec(await probeCounts(url, ['-select_streams', 'v']))).toEqual({
      h264: frames.get(1)!.length,
    })
    expect(packetsByCodec(await probeCounts(url, ['-select_streams', 'a']))).toEqual({
      aac: frames.get(2)!.length,
    })
  })
})
