import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { concatBytes } from '@kvs-streams/core'
import { ElementId, writeEbmlHeader, writeSimpleTags, writeUnknownSizeStart } from '@kvs-streams/ebml'
import { createGetMediaParser } from '@kvs-streams/get-media'
import { afterEach, describe, expect, it, onTestFinished } from 'vitest'
import type { Emulator, EmulatorOptions, GetMediaFaults } from '../src/index.ts'
import { callJson, createStream, openPutMedia, putMedia, signerFor, testEmulator } from './support/client.ts'
import {
  CLUSTERS,
  clustersOf,
  documentLayout,
  type MediaReader,
  openGetMedia,
  openMedia,
  putClusters,
} from './support/media-reader.ts'
import { mkvCluster, mkvHeader, videoCluster, videoStream } from './support/mkv.ts'

const readers: MediaReader[] = []
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close()
})

/** Opens GetMedia and closes it when the test ends. */
async function open(emulator: Emulator, streamName: string, selector: Record<string, unknown>) {
  const reader = await openGetMedia(emulator, streamName, selector)
  readers.push(reader)
  return reader
}

const TIMESTAMP = /^\d+\.\d{3}$/

function bytesOf(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes([...parts])
}

/** An emulator keeping fragments in memory, or on disk in a directory removed when the test ends. */
async function storageEmulator(storage: 'memory' | 'disk', options: EmulatorOptions = {}): Promise<Emulator> {
  if (storage === 'memory') return testEmulator(options)
  const dataDir = await mkdtemp(join(tmpdir(), 'kvs-get-media-'))
  onTestFinished(() => rm(dataDir, { recursive: true, force: true }))
  return testEmulator({ ...options, dataDir })
}

describe('GetMedia', () => {
  // On disk, each cluster of clusters.mkv (~150 KB) is read from its file in pieces into reused buffers.
  it.each(['memory', 'disk'] as const)(
    'returns clusters.mkv from EARLIEST as one chunk per fragment in the service layout, clusters byte-identical (%s)',
    async (storage) => {
      const emulator = await storageEmulator(storage)
      await createStream(emulator, 'round-trip')
      const numbers = await putClusters(emulator, 'round-trip')
      // Three readers at once: the buffers a file is read into are shared, and reused only once written.
      const readers = await Promise.all(
        [1, 2, 3].map(() => open(emulator, 'round-trip', { StartSelectorType: 'EARLIEST' })),
      )
      const originals = clustersOf(CLUSTERS)
      expect(originals).toHaveLength(8)
      expect(Math.max(...originals.map((cluster) => cluster.length))).toBeGreaterThan(128 * 1024)
      for (const reader of readers) {
        expect(reader.status).toBe(200)
        expect(reader.headers['content-type']).toBe('video/webm')
        expect(reader.headers['transfer-encoding']).toBe('chunked')
        const fragments = await reader.waitForFragments(8)
        expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual(numbers)

        for (const [index, fragment] of fragments.entries()) {
          expect(fragment.complete).toBe(true)
          expect(fragment.continuationToken).toBe(numbers[index])
          const document = bytesOf(fragment.parts)
          const layout = documentLayout(document)
          // The producer's header as sent, in every chunk: SeekHead, Void, Info, Tracks and its Tags (Lavf's).
          expect(layout.map((element) => element.id)).toEqual([
            ElementId.EBML,
            ElementId.Segment,
            ElementId.SeekHead,
            ElementId.Void,
            ElementId.Info,
            ElementId.Tracks,
            ElementId.Tags,
            ElementId.Tags,
            ElementId.Cluster,
            ElementId.Tags,
          ])
          expect(layout[6]!.tags).toHaveProperty('COMPATIBLE_BRANDS')
          const stored = await emulator.storage.readFragment('round-trip', numbers[index]!)
          expect(Buffer.from(document.subarray(0, layout[6]!.end)).toString('hex')).toBe(
            Buffer.from(stored!.header).toString('hex'),
          )
          const [, , , , , , , before, cluster, after] = layout
          expect(
            Buffer.from(document.subarray(cluster!.start, cluster!.end)).equals(
              Buffer.from(originals[index]!),
            ),
          ).toBe(true)
          expect(Object.keys(before!.tags!)).toEqual([
            'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
            'AWS_KINESISVIDEO_SERVER_TIMESTAMP',
            'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP',
          ])
          expect(before!.tags!.AWS_KINESISVIDEO_FRAGMENT_NUMBER).toBe(numbers[index])
          expect(before!.tags!.AWS_KINESISVIDEO_SERVER_TIMESTAMP).toMatch(TIMESTAMP)
          expect(before!.tags!.AWS_KINESISVIDEO_PRODUCER_TIMESTAMP).toMatch(TIMESTAMP)
          expect(Object.keys(after!.tags!)).toEqual([
            'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW',
            'AWS_KINESISVIDEO_CONTINUATION_TOKEN',
          ])
          expect(after!.tags!.AWS_KINESISVIDEO_MILLIS_BEHIND_NOW).toMatch(/^\d+$/)
          // KVS writes its Tags with 4-byte size fields: Tags, Tag, SimpleTag, TagName all `10 xx xx xx`.
          expect(Buffer.from(document.subarray(before!.start, before!.start + 26)).toString('hex')).toMatch(
            /^1254c36710[0-9a-f]{6}737310[0-9a-f]{6}67c810[0-9a-f]{6}45a310000020$/,
          )
          expect(fragment.serverTimestampMs).toBe(stored!.serverTimestampMs)
          expect(fragment.producerTimestampMs).toBe(stored!.producerTimestampMs)
        }
      }
    },
  )

  it.each(['memory', 'disk'] as const)(
    'GetMediaForFragmentList writes the fragments asked for byte for byte, an error chunk for one that is gone (%s)',
    async (storage) => {
      const emulator = await storageEmulator(storage)
      await createStream(emulator, 'listed')
      const numbers = await putClusters(emulator, 'listed')
      const missing = '91343852333181432392682062201909211623964306247'
      const reader = await openMedia(emulator, '/getMediaForFragmentList', {
        StreamName: 'listed',
        Fragments: [numbers[5], missing, numbers[2]],
      })
      readers.push(reader)
      expect(await reader.ended).toEqual({ complete: true })
      const originals = clustersOf(CLUSTERS)
      // The last chunk has no end Tags: it is complete once the body ends.
      const parser = createGetMediaParser({ mode: 'raw' })
      const events = [...parser.push(reader.body()), ...parser.end()]
      const fragments = events.filter((event) => event.type === 'fragment')
      expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual([numbers[5], numbers[2]])
      expect(
        events.flatMap((event) => (event.type === 'service-error' ? [event.error.fragmentNumber] : [])),
      ).toEqual([missing])
      for (const [position, index] of [5, 2].entries()) {
        const document = bytesOf(fragments[position]!.parts)
        const layout = documentLayout(document)
        const stored = await emulator.storage.readFragment('listed', numbers[index]!)
        expect(Buffer.from(document.subarray(0, layout[6]!.end)).equals(Buffer.from(stored!.header))).toBe(
          true,
        )
        const cluster = layout.find((element) => element.id === ElementId.Cluster)!
        expect(layout.at(-1)).toBe(cluster)
        expect(Buffer.from(document.subarray(cluster.start, cluster.end)).equals(originals[index]!)).toBe(
          true,
        )
      }
    },
  )

  it('writes the producer timestamps of a RELATIVE stream from its start timestamp, three decimals', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'relative')
    await putMedia(emulator, videoStream(2, 0), {
      streamName: 'relative',
      timecodeType: 'RELATIVE',
      producerStartMs: 1_519_423_067_997,
    })
    const reader = await open(emulator, 'relative', { StartSelectorType: 'EARLIEST' })
    const fragments = await reader.waitForFragments(2)
    const tags = fragments.map((fragment) => documentLayout(bytesOf(fragment.parts))[4]!.tags)
    expect(tags.map((tag) => tag?.AWS_KINESISVIDEO_PRODUCER_TIMESTAMP)).toEqual([
      '1519423067.997',
      '1519423068.997',
    ])
  })

  it('repeats the header per chunk and writes Tags the producer put before Info into its first fragment only', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'pre-info-tags')
    const header = mkvHeader()
    // EBML header + Segment start, then a Tags element before Info (as PIC writes metadata at stream start).
    const segmentPayload = concatBytes([writeEbmlHeader(), writeUnknownSizeStart(ElementId.Segment)]).length
    const preInfo = concatBytes([
      header.subarray(0, segmentPayload),
      writeSimpleTags([{ name: 'note', value: 'hey' }]),
      header.subarray(segmentPayload),
    ])
    const body = concatBytes([preInfo, mkvCluster(videoCluster(0)), mkvCluster(videoCluster(1000))])
    const result = await putMedia(emulator, body, { streamName: 'pre-info-tags' })
    expect(result.acks.filter((ack) => ack.eventType === 'ERROR')).toEqual([])
    const reader = await open(emulator, 'pre-info-tags', { StartSelectorType: 'EARLIEST' })
    const [first, second] = await reader.waitForFragments(2)
    expect(first!.tags).toEqual({ note: 'hey' })
    expect(second!.tags).toEqual({})
    expect(
      documentLayout(bytesOf(first!.parts))
        .map((element) => element.id)
        .slice(0, 4),
    ).toEqual([ElementId.EBML, ElementId.Segment, ElementId.Tags, ElementId.Info])
  })

  describe('StartSelector', () => {
    let emulator: Emulator
    let numbers: string[]
    let stored: Awaited<ReturnType<Emulator['storage']['readFragment']>>[]

    /** Eight fragments written one at a time, a few ms apart, so their server timestamps differ. */
    async function prepare() {
      // Readers here wait for fragments put after they opened: the responses stay open meanwhile.
      emulator = await testEmulator({ getMediaIdleTimeoutMs: 60_000 })
      await createStream(emulator, 'selectors')
      const upload = await openPutMedia(emulator, {
        streamName: 'selectors',
        timecodeType: 'RELATIVE',
        producerStartMs: 1_700_000_000_000,
      })
      await upload.write(mkvHeader())
      for (let index = 0; index < 9; index++) {
        await upload.write(mkvCluster(videoCluster(index * 1000, 3, 300)))
        if (index > 0) {
          await upload.waitForAck(
            (ack) => ack.eventType === 'PERSISTED' && ack.fragmentTimecode === (index - 1) * 1000,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      upload.abort()
      numbers = emulator.storage.listFragments('selectors').map((fragment) => fragment.fragmentNumber)
      expect(numbers).toHaveLength(8)
      stored = await Promise.all(numbers.map((number) => emulator.storage.readFragment('selectors', number)))
    }

    async function first(selector: Record<string, unknown>): Promise<string | undefined> {
      const reader = await open(emulator, 'selectors', selector)
      expect(reader.status).toBe(200)
      const [fragment] = await reader.waitForFragments(1)
      reader.close()
      return fragment!.fragmentNumber
    }

    it('starts at the fragment each selector names, and follows with every later one', async () => {
      await prepare()
      const f = stored.map((fragment) => fragment!)
      expect(await first({ StartSelectorType: 'EARLIEST' })).toBe(numbers[0])
      expect(await first({ StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: numbers[2] })).toBe(
        numbers[3],
      )
      expect(await first({ StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: numbers[4] })).toBe(
        numbers[5],
      )
      // PRODUCER_TIMESTAMP: the fragment containing the time (start, middle), else the next one.
      expect(
        await first({
          StartSelectorType: 'PRODUCER_TIMESTAMP',
          StartTimestamp: f[3]!.producerTimestampMs / 1000,
        }),
      ).toBe(numbers[3])
      expect(
        await first({
          StartSelectorType: 'PRODUCER_TIMESTAMP',
          StartTimestamp: (f[3]!.producerTimestampMs + 500) / 1000,
        }),
      ).toBe(numbers[3])
      expect(
        await first({
          StartSelectorType: 'PRODUCER_TIMESTAMP',
          StartTimestamp: (f[3]!.producerTimestampMs + 800) / 1000,
        }),
      ).toBe(numbers[4])
      expect(await first({ StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: 1 })).toBe(numbers[0])
      expect(
        await first({
          StartSelectorType: 'SERVER_TIMESTAMP',
          StartTimestamp: f[6]!.serverTimestampMs / 1000,
        }),
      ).toBe(numbers[6])

      const all = await open(emulator, 'selectors', {
        StartSelectorType: 'FRAGMENT_NUMBER',
        AfterFragmentNumber: numbers[5],
      })
      const rest = await all.waitForFragments(2)
      expect(rest.map((fragment) => fragment.fragmentNumber)).toEqual(numbers.slice(6))
    })

    it('with NOW, skips what is stored and sends what PutMedia stores afterwards', async () => {
      await prepare()
      const reader = await open(emulator, 'selectors', { StartSelectorType: 'NOW' })
      await putMedia(emulator, videoStream(2, 20_000), {
        streamName: 'selectors',
        timecodeType: 'RELATIVE',
        producerStartMs: 1_700_000_000_000,
      })
      const fragments = await reader.waitForFragments(2)
      const after = emulator.storage.listFragments('selectors').slice(8)
      expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual(
        after.map((fragment) => fragment.fragmentNumber),
      )
    })

    it('with a timestamp after every stored fragment, waits for the first fragment that reaches it', async () => {
      await prepare()
      const reader = await open(emulator, 'selectors', {
        StartSelectorType: 'PRODUCER_TIMESTAMP',
        StartTimestamp: 1_700_000_021.03,
      })
      await putMedia(emulator, videoStream(3, 20_000), {
        streamName: 'selectors',
        timecodeType: 'RELATIVE',
        producerStartMs: 1_700_000_000_000,
      })
      const [fragment] = await reader.waitForFragments(1)
      expect(fragment!.producerTimestampMs).toBe(1_700_000_021_000)
      expect(reader.fragments[0]!.fragmentNumber).toBe(
        emulator.storage.listFragments('selectors')[9]!.fragmentNumber,
      )
    })
  })

  it('sends each fragment as soon as PutMedia stores it, while the next one is still being sent', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'live')
    const reader = await open(emulator, 'live', { StartSelectorType: 'NOW' })
    const upload = await openPutMedia(emulator, { streamName: 'live' })
    await upload.write(mkvHeader())
    await upload.write(mkvCluster(videoCluster(0)))
    for (let index = 1; index <= 4; index++) {
      // Starting cluster `index` completes fragment `index - 1`: it must arrive before cluster `index + 1` is sent.
      await upload.write(mkvCluster(videoCluster(index * 1000)))
      const fragments = await reader.waitForFragments(index)
      expect(fragments[index - 1]!.producerTimestampMs).toBe((index - 1) * 1000)
    }
    upload.end()
    await upload.result
    const fragments = await reader.waitForFragments(5)
    expect(fragments.map((fragment) => fragment.producerTimestampMs)).toEqual([0, 1000, 2000, 3000, 4000])
  })

  it('reads the host buffer of a stream without retention, stored and live', async () => {
    const emulator = await testEmulator({ getMediaIdleTimeoutMs: 60_000 })
    await createStream(emulator, 'no-retention', 0)
    await putMedia(emulator, videoStream(2), { streamName: 'no-retention' })
    const reader = await open(emulator, 'no-retention', { StartSelectorType: 'EARLIEST' })
    await reader.waitForFragments(2)
    await putMedia(emulator, videoStream(2, 5000), { streamName: 'no-retention' })
    const fragments = await reader.waitForFragments(4)
    expect(fragments.map((fragment) => fragment.producerTimestampMs)).toEqual([0, 1000, 5000, 6000])
  })

  it('refuses a fourth concurrent reader of a stream with ConnectionLimitExceededException, and accepts one again after a reader left', async () => {
    // The three readers stay open (caught up on an empty stream) until one leaves.
    const emulator = await testEmulator({ getMediaIdleTimeoutMs: 60_000 })
    await createStream(emulator, 'limit')
    const three = await Promise.all(
      [0, 1, 2].map(() => open(emulator, 'limit', { StartSelectorType: 'NOW' })),
    )
    expect(three.map((reader) => reader.status)).toEqual([200, 200, 200])
    const fourth = await open(emulator, 'limit', { StartSelectorType: 'NOW' })
    await fourth.ended
    expect(fourth.status).toBe(400)
    expect(fourth.headers['x-amzn-errortype']).toMatch(/^ConnectionLimitExceededException:/)
    expect(fourth.error).toEqual({ Message: expect.stringContaining('GetMedia connections') })
    // Another stream is not affected.
    await createStream(emulator, 'other')
    expect((await open(emulator, 'other', { StartSelectorType: 'NOW' })).status).toBe(200)

    three[0]!.close()
    let status = 0
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      const again = await open(emulator, 'limit', { StartSelectorType: 'NOW' })
      status = again.status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(status).toBe(200)
  })

  describe('refuses bad requests before any 200', () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      [
        'an unknown stream',
        { StreamName: 'nope', StartSelector: { StartSelectorType: 'EARLIEST' } },
        404,
        'ResourceNotFoundException',
      ],
      ['no StartSelector', { StreamName: 'bad' }, 400, 'InvalidArgumentException'],
      [
        'an unknown StartSelectorType',
        { StreamName: 'bad', StartSelector: { StartSelectorType: 'LATEST' } },
        400,
        'InvalidArgumentException',
      ],
      [
        'FRAGMENT_NUMBER without AfterFragmentNumber',
        { StreamName: 'bad', StartSelector: { StartSelectorType: 'FRAGMENT_NUMBER' } },
        400,
        'InvalidArgumentException',
      ],
      [
        'an AfterFragmentNumber that is not a number',
        {
          StreamName: 'bad',
          StartSelector: { StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: '12a' },
        },
        400,
        'InvalidArgumentException',
      ],
      [
        'a ContinuationToken with bad characters',
        {
          StreamName: 'bad',
          StartSelector: { StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: 'a b' },
        },
        400,
        'InvalidArgumentException',
      ],
      [
        'SERVER_TIMESTAMP without StartTimestamp',
        { StreamName: 'bad', StartSelector: { StartSelectorType: 'SERVER_TIMESTAMP' } },
        400,
        'InvalidArgumentException',
      ],
      [
        'a StartTimestamp that is a string',
        {
          StreamName: 'bad',
          StartSelector: { StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: 'yesterday' },
        },
        400,
        'SerializationException',
      ],
      [
        'both StreamName and StreamARN',
        {
          StreamName: 'bad',
          StreamARN: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/bad/1',
          StartSelector: { StartSelectorType: 'NOW' },
        },
        400,
        'InvalidArgumentException',
      ],
    ]
    for (const [what, body, status, errorType] of cases) {
      it(`answers ${status} ${errorType} to ${what}`, async () => {
        const emulator = await testEmulator()
        await createStream(emulator, 'bad')
        const result = await callJson(emulator, '/getMedia', body)
        expect(result.status).toBe(status)
        expect(result.headers['x-amzn-errortype']).toMatch(new RegExp(`^${errorType}:`))
        expect(typeof result.json?.Message).toBe('string')
      })
    }

    it('answers 403 to a request signed with the wrong secret', async () => {
      const emulator = await testEmulator()
      await createStream(emulator, 'signed')
      const result = await callJson(
        emulator,
        '/getMedia',
        { StreamName: 'signed', StartSelector: { StartSelectorType: 'NOW' } },
        { signer: signerFor(emulator, { secretAccessKey: 'wrong' }) },
      )
      expect(result.status).toBe(403)
      expect(result.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/)
    })
  })

  it('writes an error chunk (4000) for a fragment that cannot be read and ends the response; readers resume after it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kvs-get-media-'))
    try {
      const emulator = await testEmulator({ dataDir })
      await createStream(emulator, 'damaged')
      await putMedia(emulator, videoStream(5), { streamName: 'damaged' })
      const numbers = emulator.storage.listFragments('damaged').map((fragment) => fragment.fragmentNumber)
      const directory = join(dataDir, 'streams', 'damaged', 'fragments')
      const file = (await readdir(directory)).find((name) => name.startsWith(numbers[2]!))!
      await rm(join(directory, file))

      const reader = await open(emulator, 'damaged', { StartSelectorType: 'EARLIEST' })
      expect(await reader.ended).toEqual({ complete: true })
      expect(reader.fragments.map((fragment) => fragment.fragmentNumber)).toEqual(numbers.slice(0, 2))
      expect(reader.errors).toHaveLength(1)
      expect(reader.errors[0]!.error).toMatchObject({ errorId: 4000, fragmentNumber: numbers[2] })

      const after = await open(emulator, 'damaged', {
        StartSelectorType: 'FRAGMENT_NUMBER',
        AfterFragmentNumber: numbers[2],
      })
      const rest = await after.waitForFragments(2)
      expect(rest.map((fragment) => fragment.fragmentNumber)).toEqual(numbers.slice(3))
      await emulator.close()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('ends open responses when the stream is deleted and when the emulator closes', async () => {
    // Not by the idle window: the responses are open when the stream goes and the emulator closes.
    const finished: unknown[] = []
    const emulator = await testEmulator({
      getMediaIdleTimeoutMs: 60_000,
      logger: {
        info(message, fields) {
          if (message === 'GetMedia connection finished') finished.push(fields?.reason)
        },
      },
    })
    const arn = await createStream(emulator, 'going')
    await createStream(emulator, 'staying')
    const going = await open(emulator, 'going', { StartSelectorType: 'NOW' })
    const staying = await open(emulator, 'staying', { StartSelectorType: 'NOW' })
    const deleted = await callJson(emulator, '/deleteStream', { StreamARN: arn })
    expect(deleted.status).toBe(200)
    expect(await going.ended).toEqual({ complete: true })
    await emulator.close()
    expect(await staying.ended).toEqual({ complete: true })
    expect(finished).toEqual(['stream-deleted', 'shutdown'])
  })

  describe('a caught-up response', () => {
    /** An emulator with a short idle window that records why each GetMedia response finished. */
    async function idleEmulator(getMediaIdleTimeoutMs: number) {
      const finished: { reason: unknown; fragments: unknown }[] = []
      const emulator = await testEmulator({
        getMediaIdleTimeoutMs,
        logger: {
          info(message, fields) {
            if (message === 'GetMedia connection finished')
              finished.push({ reason: fields?.reason, fragments: fields?.fragments })
          },
        },
      })
      return { emulator, finished }
    }

    it('ends with its terminating chunk once no fragment is stored for getMediaIdleTimeoutMs after the last one', async () => {
      const { emulator, finished } = await idleEmulator(200)
      await createStream(emulator, 'archive')
      const numbers = await putClusters(emulator, 'archive')
      const reader = await open(emulator, 'archive', { StartSelectorType: 'EARLIEST' })
      expect(await reader.ended).toEqual({ complete: true })
      expect(reader.fragments.map((fragment) => fragment.fragmentNumber)).toEqual(numbers)
      expect(reader.fragments.every((fragment) => fragment.complete)).toBe(true)
      expect(finished).toEqual([{ reason: 'caught-up', fragments: 8 }])
    })

    it('ends with an empty body when nothing comes: NOW on a quiet stream', async () => {
      const { emulator, finished } = await idleEmulator(200)
      await createStream(emulator, 'quiet')
      await putMedia(emulator, videoStream(2), { streamName: 'quiet' })
      const reader = await open(emulator, 'quiet', { StartSelectorType: 'NOW' })
      expect(reader.status).toBe(200)
      expect(await reader.ended).toEqual({ complete: true })
      expect(reader.body()).toHaveLength(0)
      expect(finished).toEqual([{ reason: 'caught-up', fragments: 0 }])
    })

    it('stays open while a producer keeps storing fragments, each within the idle window, and ends after the last', async () => {
      const { emulator, finished } = await idleEmulator(3000)
      await createStream(emulator, 'steady')
      const reader = await open(emulator, 'steady', { StartSelectorType: 'NOW' })
      const upload = await openPutMedia(emulator, { streamName: 'steady' })
      await upload.write(mkvHeader())
      await upload.write(mkvCluster(videoCluster(0)))
      // Fragments 450 ms apart: 3.6 s in all, longer than the window, on one response.
      for (let index = 1; index <= 8; index++) {
        await new Promise((resolve) => setTimeout(resolve, 450))
        await upload.write(mkvCluster(videoCluster(index * 1000)))
        await reader.waitForFragments(index)
      }
      upload.end()
      await upload.result
      expect(await reader.ended).toEqual({ complete: true })
      expect(reader.fragments.map((fragment) => fragment.producerTimestampMs)).toEqual(
        Array.from({ length: 9 }, (_, index) => index * 1000),
      )
      expect(finished).toEqual([{ reason: 'caught-up', fragments: 9 }])
    })

    it('does not end GetMediaForFragmentList early or late: it ends after its list', async () => {
      const { emulator, finished } = await idleEmulator(60_000)
      await createStream(emulator, 'listed')
      const numbers = await putClusters(emulator, 'listed')
      const reader = await openMedia(emulator, '/getMediaForFragmentList', {
        StreamName: 'listed',
        Fragments: [numbers[3], numbers[0]],
      })
      // Long before the idle window: the list is what ends it.
      expect(await reader.ended).toEqual({ complete: true })
      const parser = createGetMediaParser({ mode: 'raw' })
      const fragments = [...parser.push(reader.body()), ...parser.end()].filter(
        (event) => event.type === 'fragment',
      )
      expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual([numbers[3], numbers[0]])
      expect(finished).toEqual([])
    })

    it('rejects an idle window that is not a positive number', async () => {
      await expect(testEmulator({ getMediaIdleTimeoutMs: 0 })).rejects.toThrow(
        /getMediaIdleTimeoutMs must be a finite number > 0, got 0/,
      )
    })
  })

  describe('fault injection', () => {
    it('drops a connection after dropAfterBytes bytes, counting GetMedia connections per stream', async () => {
      const seen: number[] = []
      const emulator = await testEmulator({
        faults: {
          getMedia: (streamName, connectionIndex): GetMediaFaults | undefined => {
            seen.push(connectionIndex)
            return streamName === 'drops' && connectionIndex === 0 ? { dropAfterBytes: 1000 } : undefined
          },
        },
      })
      await createStream(emulator, 'drops')
      await putMedia(emulator, videoStream(3), { streamName: 'drops' })
      const dropped = await open(emulator, 'drops', { StartSelectorType: 'EARLIEST' })
      expect(await dropped.ended).toEqual({ complete: false })
      expect(dropped.body().length).toBe(1000)
      const whole = await open(emulator, 'drops', { StartSelectorType: 'EARLIEST' })
      expect(await whole.waitForFragments(3)).toHaveLength(3)
      expect(seen).toEqual([0, 1])
    })

    it.each(['memory', 'disk'] as const)(
      'drops a connection halfway through its n-th fragment with dropInFragment (%s)',
      async (storage) => {
        const emulator = await storageEmulator(storage, { faults: { getMedia: { dropInFragment: 2 } } })
        await createStream(emulator, 'mid-fragment')
        await putClusters(emulator, 'mid-fragment')
        const reader = await open(emulator, 'mid-fragment', { StartSelectorType: 'EARLIEST' })
        expect(await reader.ended).toEqual({ complete: false })
        expect(reader.fragments).toHaveLength(1)
        const firstLength = reader.fragments[0]!.byteLength
        // The second chunk is cut inside its cluster: well past its header, well before its end.
        expect(reader.body().length).toBeGreaterThan(firstLength + 10_000)
        expect(reader.body().length).toBeLessThan(firstLength * 2)
      },
    )
  })
})
