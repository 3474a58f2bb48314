import { type ChunkerFragmentEvent, createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { acksByFragment, createStream, openPutMedia, putMedia, testEmulator } from './support/client.ts'
import { mkvCluster, mkvHeader, mkvStream, videoCluster, videoStream } from './support/mkv.ts'

/** The fragments the chunker cuts from a whole file (the reference for what must be stored). */
function chunk(bytes: Uint8Array): { fragments: ChunkerFragmentEvent[] } {
  const chunker = createClusterChunker({ onViolation: 'emit', requireKeyframe: false })
  const events = [...chunker.push(bytes), ...chunker.end()]
  const fragments = events.filter((event): event is ChunkerFragmentEvent => event.type === 'fragment')
  return { fragments }
}

/**
 * The header the service keeps of a file: its bytes up to the first Cluster (EBML header, Segment, SeekHead,
 * Void, Info, Tracks, Tags… as written), the Segment size replaced by the 8-byte unknown size.
 */
function headerAsSent(bytes: Uint8Array): Buffer {
  const file = Buffer.from(bytes)
  const segment = file.indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67]))
  const sizeLength = Math.clz32(file[segment + 4]!) - 23
  return Buffer.concat([
    file.subarray(0, segment),
    Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    file.subarray(segment + 4 + sizeLength, file.indexOf(Buffer.from([0x1f, 0x43, 0xb6, 0x75]))),
  ])
}

describe.each([
  ['clusters.mkv', 8],
  ['vogels_330.mkv', 9],
])('PutMedia of %s', (file, fragmentCount) => {
  const bytes = readFixture('kvs-getmedia', file)

  it('acknowledges every fragment BUFFERING, RECEIVED, PERSISTED in order and stores the header and clusters byte for byte', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'fixture', 24)
    const result = await putMedia(emulator, bytes, {
      streamName: 'fixture',
      timecodeType: 'RELATIVE',
      chunkSize: 4096,
    })

    expect(result.status).toBe(200)
    expect(result.headers['transfer-encoding']).toBe('chunked')
    expect(result.complete).toBe(true)
    expect(result.acks.filter((ack) => ack.eventType === 'ERROR')).toEqual([])
    const byFragment = acksByFragment(result.acks)
    expect(byFragment.size).toBe(fragmentCount)
    for (const types of byFragment.values()) expect(types).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])

    const reference = chunk(bytes)
    expect(reference.fragments).toHaveLength(fragmentCount)
    const numbers = [...byFragment.keys()]
    expect([...numbers].sort()).toEqual(numbers)
    for (const number of numbers) expect(number).toMatch(/^[0-9]{47}$/)
    const buffering = result.acks.filter((ack) => ack.eventType === 'BUFFERING')
    expect(buffering.map((ack) => ack.fragmentTimecode)).toEqual(
      reference.fragments.map((fragment) => fragment.timecode),
    )

    const listed = emulator.storage.listFragments('fixture')
    expect(listed.map((fragment) => fragment.fragmentNumber)).toEqual(numbers)
    for (const [index, info] of listed.entries()) {
      const stored = await emulator.storage.readFragment('fixture', info.fragmentNumber)
      const expected = reference.fragments[index]!
      expect(Buffer.from(stored!.cluster).equals(concatBytes(expected.parts))).toBe(true)
      // The producer's header as sent (SeekHead and Void kept), the Segment size made unknown.
      expect(Buffer.from(stored!.header).toString('hex')).toBe(headerAsSent(bytes).toString('hex'))
      expect(stored!.tags).toHaveLength(0)
      expect(stored!.fragmentTimecode).toBe(expected.timecode)
      expect(stored!.durationMs).toBe(expected.durationMs)
      expect(stored!.persisted).toBe(true)
    }
  })
})

describe('PutMedia acknowledgements', () => {
  it('sends no PERSISTED ack for a stream without retention, and keeps its fragments in the host buffer', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'no-retention', 0)
    const result = await putMedia(emulator, videoStream(3), { streamName: 'no-retention' })
    expect(result.acks.map((ack) => ack.eventType)).toEqual([
      'BUFFERING',
      'RECEIVED',
      'BUFFERING',
      'RECEIVED',
      'BUFFERING',
      'RECEIVED',
    ])
    const listed = emulator.storage.listFragments('no-retention')
    expect(listed).toHaveLength(3)
    expect(listed.every((fragment) => !fragment.persisted)).toBe(true)
  })

  it('gives FragmentTimecode as the raw cluster timecode and computes producer timestamps per timecode type', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'timestamps')
    const start = Date.now() - 60_000
    const relative = await putMedia(emulator, videoStream(2, 5000), {
      streamName: 'timestamps',
      timecodeType: 'RELATIVE',
      producerStartMs: start,
    })
    expect(
      relative.acks.filter((ack) => ack.eventType === 'RECEIVED').map((ack) => ack.fragmentTimecode),
    ).toEqual([5000, 6000])
    const absoluteStart = Date.now() - 10_000
    const absolute = await putMedia(emulator, videoStream(1, absoluteStart), { streamName: 'timestamps' })
    expect(absolute.acks[0]).toMatchObject({ eventType: 'BUFFERING', fragmentTimecode: absoluteStart })

    const fragments = emulator.storage.listFragments('timestamps')
    expect(fragments.map((fragment) => fragment.producerTimestampMs)).toEqual([
      start + 5000,
      start + 6000,
      absoluteStart,
    ])
    expect(fragments.map((fragment) => fragment.timecodeType)).toEqual(['RELATIVE', 'RELATIVE', 'ABSOLUTE'])
    for (const fragment of fragments) {
      expect(fragment.serverTimestampMs).toBeGreaterThan(Date.now() - 30_000)
      expect(fragment.serverTimestampMs).toBeLessThanOrEqual(Date.now())
    }
  })

  it('numbers fragments with 47 digits that increase across connections of a stream', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'numbers')
    const first = await putMedia(emulator, videoStream(2), {
      streamName: 'numbers',
      timecodeType: 'RELATIVE',
    })
    const second = await putMedia(emulator, videoStream(2), {
      streamName: 'numbers',
      timecodeType: 'RELATIVE',
    })
    const numbers = [...acksByFragment([...first.acks, ...second.acks]).keys()]
    expect(numbers).toHaveLength(4)
    expect([...numbers].sort()).toEqual(numbers)
    expect(new Set(numbers.map((number) => number.length))).toEqual(new Set([47]))
    expect(emulator.storage.listFragments('numbers').map((fragment) => fragment.sequence)).toEqual([
      1, 2, 3, 4,
    ])
  })

  it('acknowledges BUFFERING as soon as a cluster starts, before the fragment is complete', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'early')
    const upload = await openPutMedia(emulator, { streamName: 'early', timecodeType: 'RELATIVE' })
    const cluster = mkvCluster(videoCluster(0))
    await upload.write(mkvHeader())
    await upload.write(cluster.subarray(0, 30))
    const buffering = await upload.waitForAck((ack) => ack.eventType === 'BUFFERING')
    expect(buffering.fragmentTimecode).toBe(0)
    expect(upload.acks.some((ack) => ack.eventType === 'RECEIVED')).toBe(false)
    await upload.write(cluster.subarray(30))
    upload.end()
    const result = await upload.result
    expect(result.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
  })

  it('closes a fragment at the AWS_KINESISVIDEO_END_OF_FRAGMENT tag without waiting for the next cluster', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'eofr')
    const upload = await openPutMedia(emulator, { streamName: 'eofr', timecodeType: 'RELATIVE' })
    await upload.write(mkvHeader())
    await upload.write(
      mkvCluster({
        ...videoCluster(0),
        tags: [
          [{ name: 'camera', value: 'front door' }],
          [{ name: 'AWS_KINESISVIDEO_END_OF_FRAGMENT', value: '' }],
        ],
      }),
    )
    const received = await upload.waitForAck((ack) => ack.eventType === 'RECEIVED')
    expect(received.fragmentTimecode).toBe(0)
    await upload.write(mkvCluster(videoCluster(1000)))
    upload.end()
    const result = await upload.result
    expect([...acksByFragment(result.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
    ])
    const [first] = emulator.storage.listFragments('eofr')
    expect(first!.metadata).toEqual([{ name: 'camera', value: 'front door' }])
    const stored = await emulator.storage.readFragment('eofr', first!.fragmentNumber)
    expect(Buffer.from(stored!.tags).includes('front door')).toBe(true)
    expect(Buffer.from(stored!.tags).includes('END_OF_FRAGMENT')).toBe(false)
  })

  it('accepts a length-delimited body and Expect: 100-continue', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'framing')
    const body = videoStream(2)
    const sized = await putMedia(emulator, body, { streamName: 'framing', contentLength: body.length })
    expect(sized.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
    const continued = await putMedia(emulator, videoStream(2, Date.now() - 5000), {
      streamName: 'framing',
      expectContinue: true,
    })
    expect(continued.status).toBe(200)
    expect(continued.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
  })

  it('accepts a PutMedia addressed by stream ARN and notifies subscribers of stored fragments', async () => {
    const emulator = await testEmulator()
    const arn = await createStream(emulator, 'by-arn')
    const seen: string[] = []
    const unsubscribe = emulator.storage.subscribe('by-arn', (event) => {
      if (event.type === 'fragment-stored') seen.push(event.fragment.fragmentNumber)
    })
    const result = await putMedia(emulator, mkvStream([videoCluster(0), videoCluster(1000)]), {
      streamARN: arn,
    })
    unsubscribe()
    expect(seen).toEqual([...acksByFragment(result.acks).keys()])
  })
})
