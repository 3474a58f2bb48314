import {
  GetClipCommand,
  GetDASHStreamingSessionURLCommand,
  GetHLSStreamingSessionURLCommand,
  type GetHLSStreamingSessionURLCommandInput,
  GetImagesCommand,
  type KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { concatBytes } from '@kvs-streams/core'
import {
  ElementId,
  writeEbmlHeader,
  writeElement,
  writeSimpleBlock,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.ts'
import { archivedMediaClient, encodeAv, fetchResource, putBody } from './support/archived-media.ts'
import { callJson, createStream } from './support/client.ts'

let emulator: Emulator
let client: KinesisVideoArchivedMediaClient
let clockOffset = 0
const START = Date.now() - 120_000
const range = { StartTimestamp: new Date(START - 1000), EndTimestamp: new Date(START + 10_000) }
const onDemand = {
  PlaybackMode: 'ON_DEMAND' as const,
  HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP' as const, TimestampRange: range },
}

/** A one-track stream of `count` 1 s fragments with the given codec and CodecPrivate (frames are filler). */
function syntheticMkv(codecId: string, codecPrivate: Uint8Array | undefined, count = 2): Uint8Array {
  const header = concatBytes([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment),
    writeElement(ElementId.Info, [writeUint(ElementId.TimecodeScale, 1_000_000)]),
    writeElement(ElementId.Tracks, [
      writeElement(ElementId.TrackEntry, [
        writeUint(ElementId.TrackNumber, 1),
        writeUint(ElementId.TrackUID, 1),
        writeUint(ElementId.TrackType, 1),
        writeString(ElementId.CodecID, codecId),
        ...(codecPrivate === undefined ? [] : [writeElement(ElementId.CodecPrivate, codecPrivate)]),
      ]),
    ]),
  ])
  const clusters = Array.from({ length: count }, (_, index) =>
    writeElement(ElementId.Cluster, [
      writeUint(ElementId.Timecode, index * 1000),
      ...Array.from({ length: 5 }, (_, frame) =>
        writeSimpleBlock({
          track: 1,
          timecode: frame * 200,
          keyframe: frame === 0,
          data: new Uint8Array(100).fill(frame),
        }),
      ),
    ]),
  )
  return concatBytes([header, ...clusters])
}

beforeAll(async () => {
  emulator = await startEmulator({ clock: () => Date.now() + clockOffset })
  client = archivedMediaClient(emulator)
  const av = await encodeAv('errors.mkv', 3)
  await createStream(emulator, 'av')
  await putBody(emulator, 'av', av, START)
  await createStream(emulator, 'other')
  await putBody(emulator, 'other', av, START)
  await createStream(emulator, 'no-retention', 0)
  await putBody(emulator, 'no-retention', av, START)
  await createStream(emulator, 'no-codec-private')
  await putBody(emulator, 'no-codec-private', syntheticMkv('V_MPEG4/ISO/AVC', undefined), START)
  await createStream(emulator, 'annex-b')
  await putBody(
    emulator,
    'annex-b',
    syntheticMkv('V_MPEG4/ISO/AVC', new Uint8Array([0, 0, 0, 1, 0x67, 0x42, 0, 0x1e, 0xab])),
    START,
  )
  await createStream(emulator, 'vp8')
  await putBody(emulator, 'vp8', syntheticMkv('V_VP8', undefined), START)
  await createStream(emulator, 'empty')
})
afterAll(() => emulator.close())

async function hls(input: Omit<GetHLSStreamingSessionURLCommandInput, 'StreamName'>, streamName = 'av') {
  return (await client.send(new GetHLSStreamingSessionURLCommand({ StreamName: streamName, ...input })))
    .HLSStreamingSessionURL!
}

/** The SDK error of a failed call: its exception name and HTTP status. */
async function failure(
  call: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await call
  } catch (error) {
    const failed = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } }
    return { name: failed.name, status: failed.$metadata?.httpStatusCode, message: failed.message }
  }
  throw new Error('expected the call to fail')
}

describe('session tokens', () => {
  it('are refused after Expires: NotAuthorizedException, HTTP 403 as players saw it', async () => {
    const url = await hls({ ...onDemand, Expires: 300 })
    expect((await fetchResource(url)).status).toBe(200)
    clockOffset = 299_000
    expect((await fetchResource(url)).status).toBe(200)
    clockOffset = 300_500
    try {
      const expired = await fetchResource(url)
      expect(expired.status).toBe(403)
      expect(expired.json).toEqual({ Message: 'Streaming session token is expired.' })
    } finally {
      clockOffset = 0
    }
  })

  it('cannot be altered to reach another stream, nor used for the other session kind', async () => {
    const url = new URL(await hls(onDemand))
    const token = url.searchParams.get('SessionToken')!
    const [payload, signature] = token.split('.') as [string, string]
    const forged = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace('stream/av/', 'stream/other/'),
    ).toString('base64url')
    url.searchParams.set('SessionToken', `${forged}.${signature}`)
    const altered = await fetchResource(url.href)
    expect(altered.status).toBe(403)
    expect(altered.json).toEqual({ Message: 'The streaming session token is not valid.' })
    const dash = await fetchResource(
      `${emulator.url}/dash/v1/getDASHManifest.mpd?SessionToken=${encodeURIComponent(token)}`,
    )
    expect(dash.status).toBe(403)
    expect(await fetchResource(`${emulator.url}/hls/v1/getHLSMasterPlaylist.m3u8`)).toMatchObject({
      status: 403,
    })
  })

  it('serve no fragment of another stream: ResourceNotFoundException', async () => {
    const url = await hls(onDemand)
    const { Fragments } = await client.send(
      new ListFragmentsCommand({
        StreamName: 'other',
        FragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      }),
    )
    const foreign = Fragments![0]!.FragmentNumber!
    const response = await fetchResource(
      new URL(
        `getMP4MediaFragment.mp4?FragmentNumber=${foreign}&${new URL(url).search.slice(1)}&TrackNumber=1`,
        url,
      ).href,
    )
    expect(response.status).toBe(404)
    expect(response.json).toEqual({
      Message: 'The requested fragment is not part of this streaming session.',
    })
  })

  it('stop working once their stream is deleted', async () => {
    await createStream(emulator, 'doomed')
    await putBody(emulator, 'doomed', await encodeAv('doomed.mkv', 2), START)
    const url = await hls(onDemand, 'doomed')
    const { json } = await callJson(emulator, '/describeStream', { StreamName: 'doomed' })
    const arn = (json!.StreamInfo as { StreamARN: string }).StreamARN
    expect((await callJson(emulator, '/deleteStream', { StreamARN: arn })).status).toBe(200)
    expect((await fetchResource(url)).status).toBe(404)
  })

  it('name a track of the session: another TrackNumber is an InvalidArgumentException', async () => {
    const url = await hls(onDemand)
    const response = await fetchResource(
      new URL(`getHLSMediaPlaylist.m3u8${new URL(url).search}&TrackNumber=3`, url).href,
    )
    expect(response.status).toBe(400)
    expect(response.json).toEqual({
      Message: 'TrackNumber must be the number of one of the session\'s tracks (1, 2), got "3".',
    })
  })
})

describe('request rules', () => {
  it('refuse MPEG_TS with a clear InvalidArgumentException', async () => {
    const refused = await failure(hls({ ...onDemand, ContainerFormat: 'MPEG_TS' }))
    expect(refused).toMatchObject({ name: 'InvalidArgumentException', status: 400 })
    expect(refused.message).toContain('FRAGMENTED_MP4')
  })

  it.each([
    [
      'a TimestampRange in LIVE',
      { HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range } },
    ],
    ['ON_DEMAND without a selector', { PlaybackMode: 'ON_DEMAND' }],
    [
      'an end before the start',
      {
        ...onDemand,
        HLSFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: { StartTimestamp: range.EndTimestamp, EndTimestamp: range.StartTimestamp },
        },
      },
    ],
    [
      'a range over 24 hours',
      {
        ...onDemand,
        HLSFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: { StartTimestamp: new Date(START - 90_000_000), EndTimestamp: range.EndTimestamp },
        },
      },
    ],
    [
      'a SERVER_TIMESTAMP end in the future',
      {
        ...onDemand,
        HLSFragmentSelector: {
          FragmentSelectorType: 'SERVER_TIMESTAMP',
          TimestampRange: {
            StartTimestamp: range.StartTimestamp,
            EndTimestamp: new Date(Date.now() + 60_000),
          },
        },
      },
    ],
    ['Expires below 300', { ...onDemand, Expires: 299 }],
    ['MaxMediaPlaylistFragmentResults above 5000', { ...onDemand, MaxMediaPlaylistFragmentResults: 5001 }],
  ] as const)('answer InvalidArgumentException for %s', async (_label, input) => {
    expect(
      await failure(hls(input as Omit<GetHLSStreamingSessionURLCommandInput, 'StreamName'>)),
    ).toMatchObject({
      name: 'InvalidArgumentException',
      status: 400,
    })
  })

  it('answer ResourceNotFoundException for an unknown stream and for a range without fragments', async () => {
    expect(await failure(hls(onDemand, 'nope'))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    })
    const empty = await failure(
      hls({
        ...onDemand,
        HLSFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: {
            StartTimestamp: new Date(START - 60_000),
            EndTimestamp: new Date(START - 30_000),
          },
        },
      }),
    )
    expect(empty).toMatchObject({ name: 'ResourceNotFoundException', status: 404 })
    expect(await failure(hls({}, 'empty'))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 })
    expect(
      await failure(
        client.send(
          new GetClipCommand({
            StreamName: 'av',
            ClipFragmentSelector: {
              FragmentSelectorType: 'PRODUCER_TIMESTAMP',
              TimestampRange: {
                StartTimestamp: new Date(START - 60_000),
                EndTimestamp: new Date(START - 30_000),
              },
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 })
  })
})

describe("the stream requirements, with the service's exceptions", () => {
  const dash = (streamName: string) =>
    client.send(
      new GetDASHStreamingSessionURLCommand({
        StreamName: streamName,
        PlaybackMode: 'ON_DEMAND',
        DASHFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      }),
    )
  const clip = (streamName: string) =>
    client.send(
      new GetClipCommand({
        StreamName: streamName,
        ClipFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range },
      }),
    )

  it('NoDataRetentionException for a stream with DataRetentionInHours 0 (HLS, DASH, GetClip)', async () => {
    for (const call of [hls(onDemand, 'no-retention'), dash('no-retention'), clip('no-retention')]) {
      expect(await failure(call)).toMatchObject({ name: 'NoDataRetentionException', status: 400 })
    }
  })

  it('MissingCodecPrivateDataException for a track without CodecPrivate', async () => {
    for (const call of [
      hls(onDemand, 'no-codec-private'),
      dash('no-codec-private'),
      clip('no-codec-private'),
    ]) {
      expect(await failure(call)).toMatchObject({ name: 'MissingCodecPrivateDataException', status: 400 })
    }
  })

  it('InvalidCodecPrivateDataException for CodecPrivate in Annex-B form', async () => {
    const refused = await failure(hls(onDemand, 'annex-b'))
    expect(refused).toMatchObject({ name: 'InvalidCodecPrivateDataException', status: 400 })
    expect(refused.message).toContain('Annex-B')
  })

  it('UnsupportedStreamMediaTypeException for a codec other than H.264/H.265 on track 1', async () => {
    const refused = await failure(hls(onDemand, 'vp8'))
    expect(refused).toMatchObject({ name: 'UnsupportedStreamMediaTypeException', status: 400 })
    expect(refused.message).toContain('V_VP8')
  })

  it('GetImages checks its own arguments: SamplingInterval bounds, Width without Height', async () => {
    const images = (extra: Record<string, unknown>) =>
      client.send(
        new GetImagesCommand({
          StreamName: 'av',
          ImageSelectorType: 'PRODUCER_TIMESTAMP',
          StartTimestamp: new Date(START),
          EndTimestamp: new Date(START + 2000),
          SamplingInterval: 3000,
          Format: 'JPEG',
          ...extra,
        }),
      )
    expect(await failure(images({ SamplingInterval: 1000 }))).toMatchObject({
      name: 'InvalidArgumentException',
      status: 400,
    })
    expect(await failure(images({ WidthPixels: 100 }))).toMatchObject({
      name: 'InvalidArgumentException',
      status: 400,
    })
    expect(await failure(images({ FormatConfig: { JPEGQuality: '101' } }))).toMatchObject({
      name: 'InvalidArgumentException',
      status: 400,
    })
    expect(await failure(images({ StreamName: 'nope' }))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    })
  })
})
