import { createReadStream, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { Ack, AckDecoderEvent } from '@kvs-streams/acks'
import { createAckDecoderTransform } from '@kvs-streams/acks/node'
import { concatBytes } from '@kvs-streams/core'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import { createDataEndpointResolver, type PutMediaInput, putMedia } from '@kvs-streams/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RepackagerEvent, type RepackagerOptions, repackage } from '../src/index.ts'
import { createRepackagerTransform } from '../src/node.ts'
import { AUDIO, buildMkv, fragments, gops, repackageAll, VIDEO } from './helpers.ts'
import { type RecipeName, read, recipes, scratch } from './media.ts'

let emulator: Emulator
let client: KinesisVideoClient
let signer: KvsSigner
let streams = 0
const folder = scratch()
const files = {} as Record<RecipeName, string>

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
  const credentials = { ...DEFAULT_CREDENTIALS }
  client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  signer = createKvsSigner({ region: emulator.region, credentials })
  for (const recipe of ['ffmpeg-file', 'gst-streamable-aligned'] as const) {
    files[recipe] = await recipes[recipe](folder.dir)
  }
}, 120_000)

afterAll(async () => {
  client?.destroy()
  await emulator?.close()
  folder.remove()
})

/** Collects the ack decoder's acks at the end of a pipeline. */
function ackSink(acks: Ack[]): Writable {
  return new Writable({
    objectMode: true,
    write(event: AckDecoderEvent, _encoding, callback) {
      if (event.type === 'ack') acks.push(event.ack)
      callback()
    },
  })
}

/**
 * One PutMedia session on a new stream, fed by `source` through `stages` (bytes, or the repackager's events
 * taken as they are): the acks it got, up to an ERROR ack. The producer clock starts 60 s back so no
 * fragment is in the future.
 */
async function put(source: Readable, ...stages: NodeJS.ReadWriteStream[]): Promise<Ack[]> {
  const streamName = `repackager-${++streams}`
  await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 1 }))
  const endpoint = await createDataEndpointResolver({ client }).resolve(streamName, 'PUT_MEDIA')
  const acks: Ack[] = []
  const session = putMedia({ endpoint, streamName, signer, producerStartTimestamp: Date.now() - 60_000 })
  try {
    await pipeline([source, ...stages, session, createAckDecoderTransform(), ackSink(acks)])
  } catch (error) {
    // A refused session ends before its body does: the ERROR ack says why.
    if (errors(acks).length === 0) throw error
  }
  return acks
}

const errors = (acks: readonly Ack[]) =>
  acks.filter((ack) => ack.eventType === 'ERROR').map((ack) => ack.errorId)
const persisted = (acks: readonly Ack[]) =>
  acks.filter((ack) => ack.eventType === 'PERSISTED').map((ack) => ack.fragmentTimecode)

/** The fragment timecodes the repackager gives for `bytes`. */
function timecodes(bytes: Uint8Array, options: RepackagerOptions = {}): number[] {
  return fragments(repackageAll([bytes], options).events).map((fragment) => fragment.timecode)
}

describe('repackaged media through PutMedia on the emulator', () => {
  for (const recipe of ['ffmpeg-file', 'gst-streamable-aligned'] as const) {
    it(`${recipe}: refused with ERROR 4004 as it is; repackaged, every fragment is PERSISTED and none refused`, async () => {
      const refused = await put(createReadStream(files[recipe], { highWaterMark: 16 * 1024 }))
      expect(errors(refused)).toEqual([4004])

      const acks = await put(
        createReadStream(files[recipe], { highWaterMark: 16 * 1024 }),
        createRepackagerTransform(),
      )
      expect(errors(acks)).toEqual([])
      const expected = timecodes(read(files[recipe]))
      expect(expected.length).toBeGreaterThanOrEqual(5)
      expect(persisted(acks).sort((a, b) => a! - b!)).toEqual(expected)
    })
  }

  it('a source restarted at zero (a second EBML document) is refused as it is and goes through with rebaseTimecodes', async () => {
    // ffmpeg run twice into one pipe, as a restarted encoder writes it.
    const once = read(files['ffmpeg-file'])
    const twice = concatBytes([once, once])
    const restartedFile = join(folder.dir, 'restarted.mkv')
    writeFileSync(restartedFile, twice)

    const refused = await put(createReadStream(restartedFile))
    expect(errors(refused)).toEqual([4004])
    // Repackaged without rebasing: the second document still needs a session of its own.
    const unrebased = await put(
      createReadStream(restartedFile),
      createRepackagerTransform({ onViolation: 'emit' }),
    )
    expect(errors(unrebased)).toEqual([4006])

    const acks = await put(
      createReadStream(restartedFile),
      createRepackagerTransform({ rebaseTimecodes: true }),
    )
    expect(errors(acks)).toEqual([])
    const expected = timecodes(twice, { rebaseTimecodes: true })
    expect(expected.length).toBe(2 * timecodes(once).length)
    expect(persisted(acks).sort((a, b) => a! - b!)).toEqual(expected)
  })

  it('timecodes that restart at zero inside one document get 4004 as they are, and repackaged without rebasing, and none rebased', async () => {
    const tracks = [
      { ...VIDEO, defaultDurationNs: 40_000_000 },
      { ...AUDIO, defaultDurationNs: 20_000_000 },
    ]
    const input = buildMkv({
      tracks,
      // KVS-ready GOPs, then the same again from zero: the restart is the input's only problem.
      clusters: [...gops({ count: 6, gop: 25 }), ...gops({ count: 6, gop: 25 })],
    })
    const refused = await put(Readable.from([input]))
    expect(errors(refused)).toEqual([4004])
    const unrebased = await put(Readable.from([input]), createRepackagerTransform({ onViolation: 'emit' }))
    expect(errors(unrebased)).toEqual([4004])
    const acks = await put(Readable.from([input]), createRepackagerTransform({ rebaseTimecodes: true }))
    expect(errors(acks)).toEqual([])
    expect(persisted(acks)).toEqual(timecodes(input, { rebaseTimecodes: true }))
    expect(persisted(acks)).toHaveLength(12)
  })

  it('the async-generator adapter feeds putMedia its events unchanged', async () => {
    const events: RepackagerEvent[] = []
    for await (const event of repackage(createReadStream(files['ffmpeg-file']))) events.push(event)
    const acks = await put(Readable.from(events as PutMediaInput[], { objectMode: true }))
    expect(errors(acks)).toEqual([])
    expect(persisted(acks)).toHaveLength(fragments(events).length)
  })
})
