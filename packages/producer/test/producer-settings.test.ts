import { Readable } from 'node:stream'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { makeAwsHome } from '@kvs-streams/test-utils'
import { type Fragment, listAllFragments } from '@kvs-streams/transport'
import { afterEach, describe, expect, test, vi } from 'vitest'
import {
  createProducer,
  EARLIEST_ABSOLUTE_TIMESTAMP_MS,
  MAX_FUTURE_TIMESTAMP_MS,
  ProducerError,
  producerStartForFile,
} from '../src/index.ts'
import { feed } from './support/feed.ts'
import { makeSource, type SourceMedia } from './support/media.ts'
import { testEmulator } from './support/run.ts'
import { createStream, credentials } from './support/services.ts'

afterEach(() => {
  vi.unstubAllEnvs()
})

/** The environment of a `kvs put` user: only `~/.aws/config` (region, endpoint_url) and `~/.aws/credentials`. */
function cliUserEnvironment(url: string, region: string, profile = 'default'): void {
  const section = profile === 'default' ? '[default]' : `[profile ${profile}]`
  const { env } = makeAwsHome({
    config: `${section}\nregion = ${region}\nendpoint_url = ${url}\n`,
    credentials: `[${profile}]\naws_access_key_id = ${DEFAULT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${DEFAULT_CREDENTIALS.secretAccessKey}\n`,
  })
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
  if (profile !== 'default') vi.stubEnv('AWS_PROFILE', profile)
}

async function storedFragments(url: string, region: string, streamName: string): Promise<Fragment[]> {
  const signer = createKvsSigner({ region, credentials: credentials() })
  const fragments: Fragment[] = []
  for await (const fragment of listAllFragments({ endpoint: url, streamName, signer }))
    fragments.push(fragment)
  return fragments.sort((a, b) => Number(a.ProducerTimestamp) - Number(b.ProducerTimestamp))
}

/** A recording: clusters from timecode 0, as a file written by an encoder or ffmpeg has them. */
function recording(fragments: number, fragmentMs: number): SourceMedia {
  return makeSource({ fragments, fragmentMs, startTimecode: 0, clusterBytes: 2_000 })
}

function bytesOf(media: SourceMedia): Readable {
  return Readable.from([media.header, ...media.clusters])
}

describe('createProducer with nothing but the shared AWS files', () => {
  test('region, endpoint and credentials come from ~/.aws/config and ~/.aws/credentials (AWS_PROFILE)', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'from-profile')
    cliUserEnvironment(emulator.url, emulator.region, 'kvs')
    const producer = createProducer({ streamName: 'from-profile', statsIntervalMs: 0 })
    await feed(producer.writable, recording(3, 100))
    const stats = await producer.close()
    expect(stats.fragments).toMatchObject({ accepted: 3, acknowledged: 3 })
    expect(await storedFragments(emulator.url, emulator.region, 'from-profile')).toHaveLength(3)
  })

  test('without a region anywhere, close() fails with the settings error naming what to set', async () => {
    const { env } = makeAwsHome({ config: '', credentials: '' })
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
    const producer = createProducer({
      streamName: 'nowhere',
      statsIntervalMs: 0,
      retry: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 1 },
    })
    await feed(producer.writable, recording(1, 100))
    const failure = await producer.close().catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'ERR_KVS_PRODUCER_TOO_MANY_FAILURES' })
    expect((failure as Error).cause).toMatchObject({
      code: 'ERR_KVS_NO_REGION',
      message: expect.stringContaining('AWS_REGION'),
    })
  })
})

describe('fragment timestamps', () => {
  test('by default (RELATIVE from now) a recording starting at 0 is stored at the time it is put, not in 1970', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'relative-default')
    const before = Date.now()
    const producer = createProducer({
      streamName: 'relative-default',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      statsIntervalMs: 0,
    })
    await feed(producer.writable, recording(4, 250))
    await producer.close()
    const stored = await storedFragments(emulator.url, emulator.region, 'relative-default')
    expect(stored.map((fragment) => Number(fragment.ProducerTimestamp) - before)).toEqual([
      expect.closeTo(0, -3.5),
      expect.closeTo(250, -3.5),
      expect.closeTo(500, -3.5),
      expect.closeTo(750, -3.5),
    ])
    expect(Number(stored[0]?.ProducerTimestamp)).toBeGreaterThanOrEqual(before)
  })

  test('ABSOLUTE timecodes that would date a fragment before 2000 are refused with the fix, and nothing is stored', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'absolute-1970')
    const producer = createProducer({
      streamName: 'absolute-1970',
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      fragmentTimecodeType: 'ABSOLUTE',
      statsIntervalMs: 0,
    })
    const written = await feed(producer.writable, recording(3, 100)).catch((error: unknown) => error)
    expect(ProducerError.is(written)).toBe(true)
    const failure = await producer.close().catch((error: unknown) => error)
    expect(failure).toMatchObject({
      code: 'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE',
      message: expect.stringContaining('store fragment 0 at 1970-01-01T00:00:00.000Z'),
    })
    expect((failure as Error).message).toContain("Use fragmentTimecodeType 'RELATIVE' (the default)")
    expect(await storedFragments(emulator.url, emulator.region, 'absolute-1970')).toEqual([])
  })

  test('ABSOLUTE timecodes ahead of the clock are refused; wall-clock ones are stored as given', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'absolute-future')
    const options = {
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      fragmentTimecodeType: 'ABSOLUTE' as const,
      statsIntervalMs: 0,
    }
    const future = createProducer({ streamName: 'absolute-future', ...options })
    const ahead = Date.now() + MAX_FUTURE_TIMESTAMP_MS + 60_000
    await feed(future.writable, makeSource({ fragments: 2, startTimecode: ahead })).catch(() => {})
    await expect(future.close()).rejects.toMatchObject({
      code: 'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE',
      message: expect.stringContaining("Check the encoder's clock"),
    })
    const now = createProducer({ streamName: 'absolute-future', ...options })
    const media = makeSource({ fragments: 2 })
    await feed(now.writable, media)
    await now.close()
    expect(
      (await storedFragments(emulator.url, emulator.region, 'absolute-future')).map((fragment) =>
        Number(fragment.ProducerTimestamp),
      ),
    ).toEqual(media.timecodes)
    expect(media.timecodes[0]).toBeGreaterThan(EARLIEST_ABSOLUTE_TIMESTAMP_MS)
  })

  test('a recording sent faster than real time from a start of now is refused with the fix; producerStartForFile makes it fit', async () => {
    const emulator = await testEmulator()
    await createStream(emulator.url, emulator.region, 'hasty')
    await createStream(emulator.url, emulator.region, 'dated')
    const options = {
      region: emulator.region,
      credentials: credentials(),
      endpoint: emulator.url,
      statsIntervalMs: 0,
    }
    // 60 s of media, written at once: from a start of now its end would be a minute in the future (4007).
    const media = recording(30, 2_000)
    const hasty = createProducer({ ...options, streamName: 'hasty' })
    await feed(hasty.writable, media).catch(() => {})
    const failure = await hasty.close().catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'ERR_KVS_PRODUCER_TIMESTAMP_OUT_OF_RANGE' })
    expect((failure as Error).message).toMatch(/^Fragment 16 would be stored at .*, 32 s ahead of the clock/)
    expect((failure as Error).message).toContain('producerStartTimestamp: await producerStartForFile(bytes)')
    // The fragments before the refused one were within bounds, and are stored.
    expect(await storedFragments(emulator.url, emulator.region, 'hasty')).toHaveLength(16)

    const now = Date.now()
    const start = await producerStartForFile(bytesOf(media), { now })
    const dated = createProducer({ ...options, streamName: 'dated', producerStartTimestamp: start })
    await feed(dated.writable, media)
    const stats = await dated.close()
    expect(stats.fragments).toMatchObject({ accepted: 30, acknowledged: 30 })
    const stored = await storedFragments(emulator.url, emulator.region, 'dated')
    expect(stored.map((fragment) => Number(fragment.ProducerTimestamp))).toEqual(
      media.timecodes.map((timecode) => start + timecode),
    )
    // The last frame ends now, by the emulator's own measure of the last fragment.
    const last = stored.at(-1)!
    expect(Number(last.ProducerTimestamp) + last.FragmentLengthInMilliseconds!).toBe(now)
  })

  test('producerStartForFile of bytes that are not Matroska is now (the producer reports the input)', async () => {
    expect(await producerStartForFile(Readable.from([new Uint8Array([1, 2, 3])]), { now: 1_000 })).toBe(1_000)
  })
})
