import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { expect, describe as group, it } from 'vitest'
import {
  AdtsParserStream,
  AnnexBMuxerStream,
  AnnexBParserStream,
  createAnnexBMuxer,
  createMuxer,
  type FrameEvent,
  MuxerError,
  type MuxerEvent,
  type MuxerFrame,
  MuxerStream,
  muxAnnexB,
  muxFrames,
  parseAdts,
  parseAnnexB,
} from '../src/index.ts'
import {
  createAdtsParserTransform,
  createAnnexBMuxerTransform,
  createAnnexBParserTransform,
  createMuxerTransform,
} from '../src/node.ts'
import { annexbFixture, describe, mkvBytes, muxAll, parseAdtsAll, parseAll, views } from './helpers.ts'

const video = annexbFixture('ffmpeg-h264-high-bframes.h264')
const audio = annexbFixture('ffmpeg-aac.adts')

async function* chunksOf(bytes: Uint8Array, size = 4096): AsyncGenerator<Uint8Array> {
  for (const piece of views(bytes, size)) yield piece
}

function webSource<T>(items: readonly T[]): ReadableStream<T> {
  let at = 0
  return new ReadableStream<T>({
    pull(controller) {
      if (at >= items.length) controller.close()
      else controller.enqueue(items[at++]!)
    },
  })
}

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const values: T[] = []
  const reader = stream.getReader()
  for (let result = await reader.read(); !result.done; result = await reader.read()) values.push(result.value)
  return values
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = []
  for await (const value of source) values.push(value)
  return values
}

async function throughNode<T>(transform: NodeJS.ReadWriteStream, input: Iterable<unknown>): Promise<T[]> {
  const values: T[] = []
  await pipeline(
    Readable.from(input, { objectMode: true }),
    transform,
    new Writable({
      objectMode: true,
      write(value: T, _encoding, done) {
        values.push(value)
        done()
      },
    }),
  )
  return values
}

const run = <E>(events: E[]) => describe({ events: events as { type: string }[], error: undefined })

group('adapters', () => {
  it('the Annex-B parser adapters give the core events', async () => {
    const expected = describe(parseAll([video]))
    expect(run(await readAll(webSource(views(video, 4096)).pipeThrough(new AnnexBParserStream())))).toEqual(
      expected,
    )
    expect(run(await collect(parseAnnexB(chunksOf(video))))).toEqual(expected)
    expect(run(await throughNode(createAnnexBParserTransform(), views(video, 4096)))).toEqual(expected)
  })

  it('the ADTS parser adapters give the core events', async () => {
    const expected = describe(parseAdtsAll([audio]))
    expect(run(await readAll(webSource(views(audio, 1000)).pipeThrough(new AdtsParserStream())))).toEqual(
      expected,
    )
    expect(run(await collect(parseAdts(chunksOf(audio, 1000))))).toEqual(expected)
    expect(run(await throughNode(createAdtsParserTransform(), views(audio, 1000)))).toEqual(expected)
  })

  it('the muxer adapters give the core events', async () => {
    const parsed = parseAll([video]).events
    const config = parsed[0]!
    const frames: MuxerFrame[] = (parsed.filter((event) => event.type === 'frame') as FrameEvent[]).map(
      (frame) => ({
        ...frame,
        track: 1,
      }),
    )
    const options = { tracks: [config as Parameters<typeof createMuxer>[0]['tracks'][number]] }
    const core = createMuxer(options)
    const expected = run([...frames.flatMap((frame) => core.push(frame)), ...core.end()])
    expect(run(await readAll(webSource(frames).pipeThrough(new MuxerStream(options))))).toEqual(expected)
    expect(
      run(await collect(muxFrames(webSource(frames) as unknown as AsyncIterable<MuxerFrame>, options))),
    ).toEqual(expected)
    expect(run(await throughNode(createMuxerTransform(options), frames))).toEqual(expected)
  })

  it('the Annex-B muxer adapters give the core events for a video byte stream', async () => {
    const expected = describe(muxAll([video]))
    expect(run(await readAll(webSource(views(video, 4096)).pipeThrough(new AnnexBMuxerStream())))).toEqual(
      expected,
    )
    expect(run(await collect(muxAnnexB(chunksOf(video))))).toEqual(expected)
    expect(run(await throughNode(createAnnexBMuxerTransform(), views(video, 4096)))).toEqual(expected)
  })

  it('muxAnnexB reads video and audio sources together into the same MKV as the core', async () => {
    const core = createAnnexBMuxer({ audio: true })
    const expected = mkvBytes([...core.pushAudio(audio), ...core.push(video), ...core.end()])
    const events: MuxerEvent[] = await collect(
      muxAnnexB({ video: chunksOf(video, 3000), audio: chunksOf(audio, 500) }),
    )
    expect(Buffer.from(mkvBytes(events)).equals(Buffer.from(expected))).toBe(true)
  })

  it('muxAnnexB reads the input that is behind in time, so neither source runs ahead', async () => {
    let videoRead = 0
    let audioRead = 0
    const largestLead: number[] = []
    async function* counted(bytes: Uint8Array, size: number, onRead: (n: number) => void) {
      for (const piece of views(bytes, size)) {
        onRead(piece.length)
        yield piece
      }
    }
    const videoSource = counted(video, 2000, (n) => (videoRead += n))
    const audioSource = counted(audio, 200, (n) => (audioRead += n))
    for await (const _ of muxAnnexB({ video: videoSource, audio: audioSource })) {
      // Share of each stream read so far: they stay within a fragment of each other.
      largestLead.push(Math.abs(videoRead / video.length - audioRead / audio.length))
    }
    expect(Math.max(...largestLead)).toBeLessThan(0.3)
  })

  it('errors go through every adapter after the events completed before them', async () => {
    const damaged = new Uint8Array([...video.subarray(0, 60_000), 0, 0, 1, 0xe5, 0x88, 0, 0, 1])
    const expected = muxAll([damaged])
    expect(expected.error).toMatchObject({ code: 'ERR_KVS_ANNEXB_INVALID_NAL_UNIT' })
    const events: MuxerEvent[] = []
    await expect(
      (async () => {
        for await (const event of muxAnnexB(chunksOf(damaged))) events.push(event)
      })(),
    ).rejects.toSatisfy(MuxerError.is)
    expect(events.map((event) => event.type)).toEqual(expected.events.map((event) => event.type))
    await expect(throughNode(createAnnexBMuxerTransform(), views(damaged, 4096))).rejects.toSatisfy(
      MuxerError.is,
    )
    await expect(
      readAll(webSource(views(damaged, 4096)).pipeThrough(new AnnexBMuxerStream())),
    ).rejects.toSatisfy(MuxerError.is)
  })

  it('the single-stream adapters refuse the audio option', () => {
    expect(() => new AnnexBMuxerStream({ audio: true } as object)).toThrow(TypeError)
    expect(() => createAnnexBMuxerTransform({ audio: true } as object)).toThrow(TypeError)
  })
})
