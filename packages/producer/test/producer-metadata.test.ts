import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { concatBytes } from '@kvs-streams/core'
import type { Emulator } from '@kvs-streams/emulator'
import { createGetMediaParser, type MediaFragmentEvent } from '@kvs-streams/get-media'
import { createKvsSigner } from '@kvs-streams/signer'
import { hasTool, run } from '@kvs-streams/test-utils'
import { getMedia } from '@kvs-streams/transport'
import { describe, expect, onTestFinished, test } from 'vitest'
import {
  FragmentMetadataError,
  type FragmentMetadataErrorCode,
  type FragmentMetadataTag,
  type Producer,
} from '../src/index.ts'
import { write } from './support/feed.ts'
import { makeSource, type SourceMedia, sha256 } from './support/media.ts'
import { clusterOf, countStored } from './support/read-back.ts'
import { ofType, producerFor, record, testEmulator } from './support/run.ts'
import { credentials } from './support/services.ts'
import { expectExactlyOnce, storedClusterHashes } from './support/verify.ts'

const tag = (name: string, value: string): FragmentMetadataTag => ({ name, value })

/** Every fragment the stream holds, read back with GetMedia from EARLIEST (raw mode), in stream order. */
async function readBack(emulator: Emulator, streamName: string): Promise<MediaFragmentEvent[]> {
  const total = await countStored(emulator.url, emulator.region, streamName)
  const body = await getMedia({
    endpoint: emulator.url,
    streamName,
    signer: createKvsSigner({ region: emulator.region, credentials: credentials() }),
    startSelector: { StartSelectorType: 'EARLIEST' },
    signal: AbortSignal.timeout(20_000),
  })
  const parser = createGetMediaParser({ mode: 'raw' })
  const fragments: MediaFragmentEvent[] = []
  try {
    for await (const chunk of body) {
      for (const event of parser.push(chunk as Uint8Array)) {
        if (event.type === 'service-error') throw event.error
        if (event.type === 'fragment') fragments.push(event)
      }
      if (fragments.length >= total) break
    }
  } finally {
    body.destroy()
  }
  return fragments
}

/** The metadata GetMedia returned for each source fragment (by the SHA-256 of its cluster), in source order. */
function metadataBySource(
  fragments: readonly MediaFragmentEvent[],
  media: SourceMedia,
): FragmentMetadataTag[][] {
  const byHash = new Map<string, FragmentMetadataTag[]>()
  for (const fragment of fragments) {
    const hash = sha256(clusterOf(concatBytes(fragment.parts)))
    expect(byHash.has(hash), 'a fragment stored twice').toBe(false)
    byHash.set(hash, fragment.metadata)
  }
  return media.hashes.map((hash) => {
    const metadata = byHash.get(hash)
    if (metadata === undefined) throw new Error('a source fragment is not stored')
    return metadata
  })
}

/** The metadata the emulator stored with each fragment, in stream order. */
function storedMetadata(emulator: Emulator, streamName: string): FragmentMetadataTag[][] {
  return emulator.storage.listFragments(streamName).map((info) => info.metadata)
}

/**
 * Writes the header, then for each cluster: the cluster, then `after(index)` (the fragment whose Cluster was just
 * written is the current one until the next Cluster starts).
 */
async function feedWith(
  producer: Producer,
  media: SourceMedia,
  after: (index: number) => void | Promise<void>,
): Promise<void> {
  await write(producer.writable, media.header)
  for (const [index, cluster] of media.clusters.entries()) {
    await write(producer.writable, cluster)
    await after(index)
  }
}

function refusal(put: () => void): FragmentMetadataError {
  try {
    put()
  } catch (error) {
    if (FragmentMetadataError.is(error)) return error
    throw error
  }
  throw new Error('the tag was accepted')
}

describe('producer.putMetadata', () => {
  test.each([true, false])(
    'one-shot and persistent tags round-trip through the emulator: stored with their fragment, returned by GetMedia after its Cluster (endOfFragmentTags %s)',
    async (endOfFragmentTags) => {
      const emulator = await testEmulator()
      const producer = await producerFor(emulator, 'metadata', { endOfFragmentTags })
      const events = record(producer)
      const media = makeSource({ fragments: 6, seed: 3 })
      const longestName = `${'€'.repeat(42)}nn`
      const longestValue = '😀'.repeat(64)

      // Before any input: the first fragment's.
      producer.putMetadata('camera', 'front', { persistent: true })
      producer.putMetadata('note', 'first')
      await feedWith(producer, media, (index) => {
        if (index === 0) producer.putMetadata('index', '0')
        if (index === 1) {
          producer.putMetadata('motion', 'yes')
          producer.putMetadata('motion', 'again')
        }
        if (index === 2) producer.putMetadata('camera', 'back', { persistent: true })
        if (index === 3) producer.putMetadata('camera', '', { persistent: true })
        // The largest name and value the service takes: 128 and 256 bytes in UTF-8.
        if (index === 4) producer.putMetadata(longestName, longestValue)
        if (index === 5) {
          producer.putMetadata('empty', '')
          producer.putMetadata('unicode', 'ü€😀')
        }
      })
      const stats = await producer.close()
      expect(() => producer.putMetadata('late', 'x')).toThrow(FragmentMetadataError)
      expect(refusal(() => producer.putMetadata('late', 'x')).code).toBe(
        'ERR_KVS_PRODUCER_METADATA_INPUT_ENDED',
      )

      const expected = [
        [tag('camera', 'front'), tag('note', 'first'), tag('index', '0')],
        [tag('camera', 'front'), tag('motion', 'yes'), tag('motion', 'again')],
        [tag('camera', 'back')],
        [],
        [tag(longestName, longestValue)],
        [tag('empty', ''), tag('unicode', 'ü€😀')],
      ]
      // What the producer reports, what the emulator stored, and what GetMedia returns agree.
      const acknowledged = ofType(events, 'fragment-acknowledged')
      expect(acknowledged.map((event) => event.fragment.metadata ?? [])).toEqual(expected)
      expect(
        acknowledged.filter((event) => event.fragment.metadata === undefined).map((e) => e.fragment.index),
      ).toEqual([3])
      expect(storedMetadata(emulator, 'metadata')).toEqual(expected)
      const fragments = await readBack(emulator, 'metadata')
      expect(metadataBySource(fragments, media)).toEqual(expected)
      // In each GetMedia chunk the producer's tags are the only ones besides the service's own.
      for (const [index, fragment] of fragments.entries()) {
        expect(Object.keys(fragment.tags).sort()).toEqual(
          [...new Set(expected[index]!.map((t) => t.name))].sort(),
        )
      }
      // mkvinfo reads the GetMedia chunk of fragment 1 with the producer's tags after its Cluster.
      expect(hasTool('mkvinfo'), 'mkvinfo (mkvtoolnix) is needed: scripts/setup.sh installs it').toBe(true)
      const directory = await mkdtemp(join(tmpdir(), 'kvs-metadata-'))
      onTestFinished(() => rm(directory, { recursive: true, force: true }))
      const path = join(directory, 'fragment-1.mkv')
      await writeFile(path, concatBytes(fragments[1]!.parts))
      const mkvinfo = await run('mkvinfo', ['--ui-language', 'en_US', '-v', path])
      expect(mkvinfo.code).toBe(0)
      expect(mkvinfo.stdout).not.toMatch(/Error|Warning|Resync/i)
      const afterCluster = mkvinfo.stdout.slice(mkvinfo.stdout.indexOf('|+ Cluster'))
      const pairs = [...afterCluster.matchAll(/\+ Name: (.*)\n.*\+ String: (.*)\n/g)]
        .map(([, name, value]) => tag(name!, value!))
        .filter(({ name }) => !name.startsWith('AWS_KINESISVIDEO_'))
      expect(pairs).toEqual(expected[1])

      expect(ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')).toEqual([])
      expect(stats.fragments).toMatchObject({ accepted: 6, acknowledged: 6, skipped: 0 })
      expectExactlyOnce(await storedClusterHashes(emulator, 'metadata'), media)
    },
  )

  test('a fragment resent after dropped connections and a retriable ERROR carries its own tags; persistent tags continue in every new session', async () => {
    const emulator = await testEmulator({
      faults: (_stream, connection) => {
        // Connections 0-2 are cut inside their third fragment (clusters are about 20 kB); connection 3 answers
        // ERROR 5000 (retriable: the fragment is resent) after 2 fragments.
        if (connection < 3) return { dropAfterBytes: 50_000 }
        if (connection === 3) return { errorAfterFragments: { count: 2, errorId: 5000 } }
        return undefined
      },
    })
    const producer = await producerFor(emulator, 'metadata-replay')
    const events = record(producer)
    const media = makeSource({ fragments: 24, seed: 4 })
    producer.putMetadata('site', 'north', { persistent: true })
    await feedWith(producer, media, (index) => producer.putMetadata('index', String(index)))
    const stats = await producer.close()

    const expected = media.clusters.map((_, index) => [tag('site', 'north'), tag('index', String(index))])
    expect(stats.sessions).toBeGreaterThanOrEqual(5)
    expect(stats.reconnects).toBeGreaterThanOrEqual(4)
    expect(stats.fragments.resent).toBeGreaterThanOrEqual(4)
    const errors = ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')
    expect(errors.map((event) => event.ack.errorId)).toEqual([5000])
    // Every resend was of a fragment with its tags: the ones written more than once are among the acknowledged.
    const resent = ofType(events, 'fragment-acknowledged').filter((event) => event.sends > 1)
    expect(resent.length).toBeGreaterThanOrEqual(3)
    for (const event of resent) expect(event.fragment.metadata).toEqual(expected[event.fragment.index])

    expectExactlyOnce(await storedClusterHashes(emulator, 'metadata-replay'), media)
    expect(storedMetadata(emulator, 'metadata-replay')).toEqual(expected)
    expect(metadataBySource(await readBack(emulator, 'metadata-replay'), media)).toEqual(expected)
  })

  test('across session rotations a persistent tag and its replacement reach the fragments they were put for', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'metadata-rotation', { maxConnectionDurationMs: 100 })
    const media = makeSource({ fragments: 30, seed: 5 })
    producer.putMetadata('shift', 'day', { persistent: true })
    await feedWith(producer, media, async (index) => {
      if (index === 14) producer.putMetadata('shift', 'night', { persistent: true })
      // Paced, so that rotations fall between the fragments.
      await new Promise((resolve) => setTimeout(resolve, 12))
    })
    const stats = await producer.close()

    expect(stats.rotations).toBeGreaterThanOrEqual(2)
    const expected = media.clusters.map((_, index) => [tag('shift', index < 14 ? 'day' : 'night')])
    expectExactlyOnce(await storedClusterHashes(emulator, 'metadata-rotation'), media)
    expect(storedMetadata(emulator, 'metadata-rotation')).toEqual(expected)
    expect(metadataBySource(await readBack(emulator, 'metadata-rotation'), media)).toEqual(expected)
  })

  test('each limit throws its typed error before anything is sent, and the refused tags never reach the service', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'metadata-limits')
    const events = record(producer)
    const refused: [string, string, FragmentMetadataErrorCode][] = [
      ['', 'x', 'ERR_KVS_PRODUCER_METADATA_NAME_EMPTY'],
      ['n'.repeat(129), 'x', 'ERR_KVS_PRODUCER_METADATA_NAME_TOO_LONG'],
      ['name', 'v'.repeat(257), 'ERR_KVS_PRODUCER_METADATA_VALUE_TOO_LONG'],
      ['AWS_CUSTOM', 'x', 'ERR_KVS_PRODUCER_METADATA_NAME_RESERVED'],
    ]
    for (const [name, value, code] of refused) {
      for (const persistent of [false, true]) {
        expect(refusal(() => producer.putMetadata(name, value, { persistent })).code).toBe(code)
      }
    }
    // Ten tags fit in a fragment (here 3 persistent and 7 one-shot); the eleventh does not.
    for (let i = 0; i < 3; i++) producer.putMetadata(`p${i}`, 'v', { persistent: true })
    for (let i = 0; i < 7; i++) producer.putMetadata(`o${i}`, 'v')
    expect(refusal(() => producer.putMetadata('o7', 'v'))).toMatchObject({
      code: 'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
      errorId: 4009,
      limit: 10,
      actual: 11,
    })
    expect(refusal(() => producer.putMetadata('p3', 'v', { persistent: true })).code).toBe(
      'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
    )
    // Nothing was sent: no session was opened, no byte went out, the stream holds nothing.
    expect(producer.state).toBe('idle')
    expect(producer.stats()).toMatchObject({ bytesSent: 0, sessions: 0 })
    expect(events).toEqual([])
    expect(emulator.storage.listFragments('metadata-limits')).toEqual([])

    const media = makeSource({ fragments: 3, seed: 6 })
    await feedWith(producer, media, (index) => {
      // Fragment 0 is still the current one after its Cluster was written, and it is full.
      if (index === 0) {
        expect(refusal(() => producer.putMetadata('second0', 'v')).code).toBe(
          'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
        )
      }
      // Fragment 1 starts with the 3 persistent tags: 7 more fit.
      if (index === 1) {
        for (let i = 0; i < 7; i++) producer.putMetadata(`second${i}`, 'v')
        expect(refusal(() => producer.putMetadata('second7', 'v')).code).toBe(
          'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
        )
      }
    })
    await producer.close()
    const persistent = [0, 1, 2].map((i) => tag(`p${i}`, 'v'))
    const oneShot = (prefix: string) => [0, 1, 2, 3, 4, 5, 6].map((i) => tag(`${prefix}${i}`, 'v'))
    const expected = [[...persistent, ...oneShot('o')], [...persistent, ...oneShot('second')], persistent]
    expect(storedMetadata(emulator, 'metadata-limits')).toEqual(expected)
    expect(ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')).toEqual([])
    expect(metadataBySource(await readBack(emulator, 'metadata-limits'), media)).toEqual(expected)
  })
})
