import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type Emulator, type EmulatorOptions, type FragmentInfo, startEmulator } from '../src/index.ts'
import { acksByFragment, callJson, createStream, putMedia } from './support/client.ts'
import { mkvStream, videoCluster, videoStream } from './support/mkv.ts'

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kvs-emulator-'))
  onTestFinished(() => rm(directory, { recursive: true, force: true }))
  return directory
}

/** Starts a disk emulator; the returned close is idempotent and also runs when the test finishes. */
async function diskEmulator(dataDir: string, options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ dataDir, ...options })
  onTestFinished(() => emulator.close())
  return emulator
}

describe('disk storage', () => {
  it('serves the same streams and fragments after a restart on the same dataDir', async () => {
    const dataDir = await temporaryDirectory()
    const first = await diskEmulator(dataDir)
    expect(first.storage.kind).toBe('disk')
    const arn = await createStream(first, 'durable', 24)
    await callJson(first, '/tagStream', { StreamName: 'durable', Tags: { kept: 'yes' } })
    const result = await putMedia(
      first,
      mkvStream([{ ...videoCluster(0), tags: [[{ name: 'note', value: 'hi' }]] }, videoCluster(1000)]),
      {
        streamName: 'durable',
      },
    )
    const numbers = [...acksByFragment(result.acks).keys()]
    const before = await Promise.all(numbers.map((number) => first.storage.readFragment('durable', number)))
    await first.close()

    const second = await diskEmulator(dataDir)
    const described = await callJson(second, '/describeStream', { StreamName: 'durable' })
    expect(described.json?.StreamInfo).toMatchObject({ StreamARN: arn, DataRetentionInHours: 24 })
    expect((await callJson(second, '/listTagsForStream', { StreamARN: arn })).json).toEqual({
      Tags: { kept: 'yes' },
    })
    expect(second.storage.listFragments('durable').map((fragment) => fragment.fragmentNumber)).toEqual(
      numbers,
    )
    const after = await Promise.all(numbers.map((number) => second.storage.readFragment('durable', number)))
    expect(after).toEqual(before)
    expect(after[0]!.metadata).toEqual([{ name: 'note', value: 'hi' }])

    // Numbering continues after the stored fragments.
    const more = await putMedia(second, videoStream(1), { streamName: 'durable' })
    const next = [...acksByFragment(more.acks).keys()][0]!
    expect(next > numbers[1]!).toBe(true)
    expect(second.storage.listFragments('durable').map((fragment) => fragment.sequence)).toEqual([1, 2, 3])
  })

  it('writes one file per durable fragment and none for a stream without retention', async () => {
    const dataDir = await temporaryDirectory()
    const emulator = await diskEmulator(dataDir)
    await createStream(emulator, 'kept', 1)
    await createStream(emulator, 'fleeting', 0)
    await putMedia(emulator, videoStream(3), { streamName: 'kept' })
    await putMedia(emulator, videoStream(2), { streamName: 'fleeting' })
    const kept = await readdir(join(dataDir, 'streams', 'kept', 'fragments'))
    expect(kept.filter((name) => /^[0-9]{47}\.kvsf$/.test(name))).toHaveLength(3)
    expect(await readdir(join(dataDir, 'streams', 'fleeting', 'fragments'))).toEqual([])
    expect(emulator.storage.listFragments('fleeting')).toHaveLength(2)
    await emulator.close()
    const restarted = await diskEmulator(dataDir)
    expect(restarted.storage.listFragments('fleeting')).toEqual([])
    expect(restarted.storage.listFragments('kept')).toHaveLength(3)
  })

  it('removes a deleted stream from disk, and a re-created stream starts afresh', async () => {
    const dataDir = await temporaryDirectory()
    const emulator = await diskEmulator(dataDir)
    const arn = await createStream(emulator, 'recycled')
    await putMedia(emulator, videoStream(2), { streamName: 'recycled' })
    expect((await callJson(emulator, '/deleteStream', { StreamARN: arn })).status).toBe(200)
    expect(await readdir(join(dataDir, 'streams'))).toEqual([])
    await createStream(emulator, 'recycled')
    expect(emulator.storage.listFragments('recycled')).toEqual([])
    await putMedia(emulator, videoStream(1), { streamName: 'recycled' })
    expect(emulator.storage.listFragments('recycled').map((fragment) => fragment.sequence)).toEqual([1])
  })

  it('keeps stream names that are not safe file names inside dataDir', async () => {
    const dataDir = await temporaryDirectory()
    const emulator = await diskEmulator(dataDir)
    await createStream(emulator, '..')
    await createStream(emulator, 'y'.repeat(256))
    const directories = await readdir(join(dataDir, 'streams'))
    expect(directories).toHaveLength(2)
    for (const directory of directories) expect(directory).toMatch(/^@sha256-[0-9a-f]{64}$/)
    await emulator.close()
    const restarted = await diskEmulator(dataDir)
    expect(restarted.storage.listStreams().map((stream) => stream.streamName)).toEqual([
      '..',
      'y'.repeat(256),
    ])
  })

  it('cleans up what a crash left: temporary files and a stream directory without stream.json', async () => {
    const dataDir = await temporaryDirectory()
    const emulator = await diskEmulator(dataDir)
    await createStream(emulator, 'crashy')
    await putMedia(emulator, videoStream(1), { streamName: 'crashy' })
    await emulator.close()
    await writeFile(join(dataDir, 'streams', 'crashy', 'fragments', '.half-written.tmp'), 'partial')
    await mkdir(join(dataDir, 'streams', 'half-created', 'fragments'), { recursive: true })
    const restarted = await diskEmulator(dataDir)
    expect(restarted.storage.listStreams().map((stream) => stream.streamName)).toEqual(['crashy'])
    expect(await readdir(join(dataDir, 'streams', 'crashy', 'fragments'))).toHaveLength(1)
    expect(await readdir(join(dataDir, 'streams'))).toEqual(['crashy'])
  })
})

describe('storage read API', () => {
  it('streams new fragments to watchFragments until the stream is deleted', async () => {
    const emulator = await startEmulator()
    onTestFinished(() => emulator.close())
    const arn = await createStream(emulator, 'watched')
    const seen: FragmentInfo[] = []
    const watching = (async () => {
      for await (const fragment of emulator.storage.watchFragments('watched')) seen.push(fragment)
    })()
    await putMedia(emulator, videoStream(3), { streamName: 'watched' })
    await callJson(emulator, '/deleteStream', { StreamARN: arn })
    await watching
    expect(seen.map((fragment) => fragment.fragmentTimecode)).toEqual([0, 1000, 2000])
  })

  it('ends watchFragments when its signal aborts', async () => {
    const emulator = await startEmulator()
    onTestFinished(() => emulator.close())
    const controller = new AbortController()
    const iterator = emulator.storage.watchFragments('nothing', { signal: controller.signal })
    const next = iterator.next()
    controller.abort()
    expect(await next).toEqual({ done: true, value: undefined })
  })
})

describe('maxMemoryBytes', () => {
  /** Bytes one fragment of `videoStream` holds in storage (every such fragment is the same size). */
  async function fragmentBytes(): Promise<number> {
    const emulator = await startEmulator()
    onTestFinished(() => emulator.close())
    await createStream(emulator, 'probe')
    await putMedia(emulator, videoStream(1), { streamName: 'probe' })
    return emulator.storage.memoryBytes
  }

  const numbers = (emulator: Emulator, streamName: string) =>
    emulator.storage.listFragments(streamName).map((fragment) => fragment.fragmentTimecode)

  it('drops the oldest fragments once the total goes over it, and bounds what is held', async () => {
    const size = await fragmentBytes()
    expect(size).toBeGreaterThan(0)
    const emulator = await startEmulator({ maxMemoryBytes: Math.floor(size * 2.5) })
    onTestFinished(() => emulator.close())
    await createStream(emulator, 'bounded')
    const result = await putMedia(emulator, videoStream(5), { streamName: 'bounded' })
    // Every fragment was acknowledged as stored (PERSISTED), then the oldest were let go.
    expect([...acksByFragment(result.acks).values()].every((events) => events.includes('PERSISTED'))).toBe(
      true,
    )
    expect(numbers(emulator, 'bounded')).toEqual([3000, 4000])
    expect(emulator.storage.memoryBytes).toBeGreaterThan(size * 1.5)
    expect(emulator.storage.memoryBytes).toBeLessThanOrEqual(Math.floor(size * 2.5))
    const [dropped, kept] = [...acksByFragment(result.acks).keys()].filter(
      (_, index) => index === 0 || index === 4,
    )
    expect(await emulator.storage.readFragment('bounded', dropped!)).toBeUndefined()
    expect((await emulator.storage.readFragment('bounded', kept!))?.fragmentTimecode).toBe(4000)
  })

  it('drops across streams in the order fragments were stored, host buffer included, and frees a deleted stream', async () => {
    const size = await fragmentBytes()
    // Fragments differ by a byte or two (their timecodes): half a fragment of margin.
    const emulator = await startEmulator({ maxMemoryBytes: Math.floor(size * 3.5) })
    onTestFinished(() => emulator.close())
    const arnA = await createStream(emulator, 'a', 24)
    await createStream(emulator, 'b', 0)
    await putMedia(emulator, videoStream(2), { streamName: 'a' })
    await putMedia(emulator, videoStream(2, 10_000), { streamName: 'b' })
    // a:0 went first.
    expect(numbers(emulator, 'a')).toEqual([1000])
    expect(numbers(emulator, 'b')).toEqual([10_000, 11_000])
    const held = emulator.storage.memoryBytes
    const bBytes = (await emulator.storage.readFragment(
      'b',
      emulator.storage.listFragments('b')[0]!.fragmentNumber,
    ))!
    expect(held).toBeGreaterThan(size * 2.5)
    await callJson(emulator, '/deleteStream', { StreamARN: arnA })
    expect(emulator.storage.memoryBytes).toBeLessThan(held - size / 2)
    expect(emulator.storage.memoryBytes).toBeGreaterThan(size * 1.5)
    expect(bBytes.fragmentTimecode).toBe(10_000)
    await putMedia(emulator, videoStream(2, 12_000), { streamName: 'b' })
    expect(numbers(emulator, 'b')).toEqual([11_000, 12_000, 13_000])
    expect(emulator.storage.memoryBytes).toBeLessThanOrEqual(Math.floor(size * 3.5))
  })

  it('keeps the fragment just stored even when it alone is over the budget', async () => {
    const emulator = await startEmulator({ maxMemoryBytes: 1 })
    onTestFinished(() => emulator.close())
    await createStream(emulator, 'tiny')
    await putMedia(emulator, videoStream(3), { streamName: 'tiny' })
    expect(numbers(emulator, 'tiny')).toEqual([2000])
  })

  it('lists only the fragments kept (ListFragments)', async () => {
    const size = await fragmentBytes()
    const emulator = await startEmulator({ maxMemoryBytes: Math.floor(size * 2.5) })
    onTestFinished(() => emulator.close())
    await createStream(emulator, 'kept')
    await putMedia(emulator, videoStream(4), { streamName: 'kept' })
    const fragments = await callJson(emulator, '/listFragments', { StreamName: 'kept' })
    const listed = (fragments.json?.Fragments as { FragmentNumber: string }[] | undefined)?.map(
      (f) => f.FragmentNumber,
    )
    expect(listed?.sort()).toEqual(
      emulator.storage.listFragments('kept').map((fragment) => fragment.fragmentNumber),
    )
    expect(numbers(emulator, 'kept')).toEqual([2000, 3000])
  })

  it('is refused when it is not a positive integer or Infinity', async () => {
    for (const value of [0, -1, 1.5, Number.NaN, '10'] as unknown[]) {
      await expect(startEmulator({ maxMemoryBytes: value as number })).rejects.toThrow(/maxMemoryBytes/)
    }
    const emulator = await startEmulator({ maxMemoryBytes: Number.POSITIVE_INFINITY })
    await emulator.close()
  })
})
