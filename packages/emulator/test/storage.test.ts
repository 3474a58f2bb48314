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
