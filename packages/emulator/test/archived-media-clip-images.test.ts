import {
  GetClipCommand,
  GetImagesCommand,
  type GetImagesCommandInput,
  type KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
  paginateGetImages,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, startEmulator } from '../src/index.ts'
import {
  archivedMediaClient,
  encodeAv,
  framesOf,
  probeCounts,
  putBody,
  workDir,
  writeTemp,
} from './support/archived-media.ts'
import { createStream } from './support/client.ts'

let emulator: Emulator
let client: KinesisVideoArchivedMediaClient
let body: Uint8Array
const START = Date.now() - 120_000

beforeAll(async () => {
  emulator = await startEmulator()
  client = archivedMediaClient(emulator)
  body = await encodeAv('clip.mkv', 6)
  await createStream(emulator, 'av')
  await putBody(emulator, 'av', body, START)
})
afterAll(() => emulator.close())

describe('GetClip', () => {
  it('answers one MP4 file (video/mp4) with the frames of the fragments that start in the range', async () => {
    // Fragments start about every second (ffmpeg's Clusters: 0, 1.002, 2.005 … s): 1.5 s to the start of the
    // fifth takes three, the range's end being inclusive and compared with fragment starts.
    const starts = await fragmentStarts('av')
    const output = await client.send(
      new GetClipCommand({
        StreamName: 'av',
        ClipFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: {
            StartTimestamp: new Date(START + 1500),
            EndTimestamp: new Date(START + starts[4]!),
          },
        },
      }),
    )
    expect(output.ContentType).toBe('video/mp4')
    const bytes = await output.Payload!.transformToByteArray()
    expect(Buffer.from(bytes.subarray(4, 8)).toString()).toBe('ftyp')
    const path = await writeTemp('clip.mp4', bytes)
    const probed = await probeCounts(path)
    expect(probed.codecs).toEqual(['h264', 'aac'])
    // The frames of fragments 3 to 5: the MKV frames from the third Cluster's start to the sixth's.
    const frames = framesOf(body)
    const inClusters = (track: number) =>
      frames.get(track)!.filter((frame) => frame.timestampMs >= starts[2]! && frame.timestampMs < starts[5]!)
        .length
    expect(probed.packets).toEqual([inClusters(1), inClusters(2)])
    // Three 1 s fragments (the audio runs a frame past the video at most).
    expect(probed.durationS).toBeGreaterThan((starts[5]! - starts[2]!) / 1000 - 0.05)
    expect(probed.durationS).toBeLessThan((starts[5]! - starts[2]!) / 1000 + 0.05)
  })

  it('stops at 200 fragments, the service limit', async () => {
    // 9 s of key frames only, one Cluster per frame (size and time limits of 1): 225 fragments.
    const path = `${await workDir()}/every-frame.mkv`
    const encoded = await run('ffmpeg', [
      ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=9'],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-bf',
        '0',
        '-g',
        '1',
        '-pix_fmt',
        'yuv420p',
        '-threads',
        '1',
      ],
      ...['-cluster_size_limit', '1', '-cluster_time_limit', '1', path],
    ])
    expect(encoded.code).toBe(0)
    const { readFile } = await import('node:fs/promises')
    const many = new Uint8Array(await readFile(path))
    await createStream(emulator, 'many')
    await putBody(emulator, 'many', many, START)
    const output = await client.send(
      new GetClipCommand({
        StreamName: 'many',
        ClipFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: { StartTimestamp: new Date(START - 1000), EndTimestamp: new Date(START + 20_000) },
        },
      }),
    )
    const clip = await writeTemp('many.mp4', await output.Payload!.transformToByteArray())
    expect(framesOf(many).get(1)).toHaveLength(225)
    expect(await fragmentStarts('many')).toHaveLength(225)
    expect((await probeCounts(clip)).packets).toEqual([200])
  })
})

/** The fragments' producer starts, ms after START (the MKV Clusters' timecodes), oldest first. */
async function fragmentStarts(streamName: string): Promise<number[]> {
  const { Fragments } = await client.send(
    new ListFragmentsCommand({
      StreamName: streamName,
      MaxResults: 1000,
      FragmentSelector: {
        FragmentSelectorType: 'PRODUCER_TIMESTAMP',
        TimestampRange: { StartTimestamp: new Date(START - 1000), EndTimestamp: new Date(START + 60_000) },
      },
    }),
  )
  return Fragments!.map((fragment) => fragment.ProducerTimestamp!.getTime() - START).sort((a, b) => a - b)
}

describe('GetImages', () => {
  const base: Omit<GetImagesCommandInput, 'Format'> = {
    StreamName: 'av',
    ImageSelectorType: 'PRODUCER_TIMESTAMP',
    StartTimestamp: new Date(START + 500),
    EndTimestamp: new Date(START + 5500),
    SamplingInterval: 3000,
  }

  async function probeImage(name: string, base64: string) {
    const path = await writeTemp(name, Buffer.from(base64, 'base64'))
    const result = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      path,
    ])
    expect(result.code).toBe(0)
    return result.stdout.trim()
  }

  it('returns a decodable JPEG per sampling interval, at the source size', async () => {
    const output = await client.send(new GetImagesCommand({ ...base, Format: 'JPEG' }))
    expect(output.NextToken).toBeUndefined()
    expect(output.Images!.map((image) => image.TimeStamp!.getTime())).toEqual([START + 500, START + 3500])
    for (const [i, image] of output.Images!.entries()) {
      expect(image.Error).toBeUndefined()
      expect(await probeImage(`image-${i}.jpg`, image.ImageContent!)).toBe('mjpeg,320,240')
    }
  })

  it('scales PNG images to WidthPixels x HeightPixels, or HeightPixels with the aspect ratio kept', async () => {
    const both = await client.send(
      new GetImagesCommand({ ...base, Format: 'PNG', WidthPixels: 100, HeightPixels: 50 }),
    )
    expect(await probeImage('both.png', both.Images![0]!.ImageContent!)).toBe('png,100,50')
    const height = await client.send(new GetImagesCommand({ ...base, Format: 'PNG', HeightPixels: 120 }))
    expect(await probeImage('height.png', height.Images![1]!.ImageContent!)).toBe('png,160,120')
  })

  it('reports NO_MEDIA where no fragment covers the time, and pages with MaxResults and NextToken', async () => {
    const input = { ...base, StartTimestamp: new Date(START - 5500), Format: 'JPEG' as const, MaxResults: 2 }
    const pages = []
    for await (const page of paginateGetImages({ client }, input)) pages.push(page)
    expect(pages.map((page) => page.Images!.length)).toEqual([2, 2])
    const images = pages.flatMap((page) => page.Images!)
    expect(images.map((image) => image.TimeStamp!.getTime() - START)).toEqual([-5500, -2500, 500, 3500])
    expect(images.map((image) => image.Error ?? 'image')).toEqual(['NO_MEDIA', 'NO_MEDIA', 'image', 'image'])
  })

  it('fails with a message naming ffmpeg when it is not on the emulator PATH', async () => {
    const path = process.env.PATH
    process.env.PATH = await workDir()
    try {
      const refused = await client
        .send(new GetImagesCommand({ ...base, Format: 'JPEG' }))
        .catch((error: unknown) => error)
      expect(refused).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })
      expect((refused as Error).message).toContain('ffmpeg is not on the emulator')
    } finally {
      process.env.PATH = path
    }
  })
})
