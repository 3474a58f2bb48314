import { concatBytes } from '@kvs-streams/core'
import { writeSimpleTags } from '@kvs-streams/ebml'
import { partitionLabel, splits } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  createPutMediaSession,
  formatFragmentNumber,
  parseFragmentNumber,
  parseProducerStartTimestamp,
  type SessionEvent,
  startEmulator,
} from '../src/index.ts'
import { mkvCluster, mkvHeader, mkvStream, videoCluster } from './support/mkv.ts'

/** Runs a session over chunks and summarises its events (bytes as hex, to compare partitions). */
function run(chunks: readonly Uint8Array[], end = true): unknown[] {
  const session = createPutMediaSession({ maxFragmentDurationMs: 10_000, maxFragmentBytes: 50_000_000 })
  const events: SessionEvent[] = []
  for (const chunk of chunks) events.push(...session.push(chunk))
  if (end) events.push(...session.end())
  return events.map((event) => {
    switch (event.type) {
      case 'header':
        return {
          type: event.type,
          bytes: Buffer.from(event.bytes).toString('hex'),
          scale: event.timecodeScale,
        }
      case 'fragment': {
        // The parts depend on the partition (views of the chunks pushed): compared joined.
        const { clusterParts, tagsParts, ...rest } = event
        return {
          ...rest,
          cluster: Buffer.from(event.cluster).toString('hex'),
          tags: Buffer.from(event.tags).toString('hex'),
          clusterParts: Buffer.from(concatBytes(clusterParts)).toString('hex'),
          tagsParts: Buffer.from(concatBytes(tagsParts)).toString('hex'),
        }
      }
      case 'error':
        return { type: event.type, errorId: event.errorId, fragmentIndex: event.fragmentIndex }
      default:
        return event
    }
  })
}

const endOfFragment = writeSimpleTags([{ name: 'AWS_KINESISVIDEO_END_OF_FRAGMENT', value: '' }])

const cases: { name: string; body: Uint8Array; end?: boolean; expected: (events: unknown[]) => void }[] = [
  {
    name: 'two fragments',
    body: mkvStream([videoCluster(0), videoCluster(1000)]),
    expected: (events) =>
      expect(events.map((event) => (event as { type: string }).type)).toEqual([
        'header',
        'fragment-start',
        'fragment',
        'fragment-start',
        'fragment',
      ]),
  },
  {
    name: 'an end-of-fragment tag completes the fragment before the body ends',
    body: concatBytes([mkvHeader(), mkvCluster({ ...videoCluster(0), unknownSize: true }), endOfFragment]),
    end: false,
    expected: (events) => {
      expect(events.map((event) => (event as { type: string }).type)).toEqual([
        'header',
        'fragment-start',
        'fragment',
      ])
      expect((events[2] as { tags: string }).tags).toBe('')
    },
  },
  {
    name: 'metadata and an end-of-fragment tag after an unknown-size cluster',
    body: concatBytes([
      mkvHeader(),
      mkvCluster({ ...videoCluster(0), unknownSize: true, tags: [[{ name: 'who', value: 'me' }]] }),
      endOfFragment,
      mkvCluster(videoCluster(1000)),
    ]),
    expected: (events) => {
      const fragments = events.filter((event) => (event as { type: string }).type === 'fragment')
      expect(fragments).toHaveLength(2)
      expect(fragments[0]).toMatchObject({ metadata: [{ name: 'who', value: 'me' }], timecode: 0 })
    },
  },
  {
    name: 'a body that is not EBML',
    body: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'),
    expected: (events) =>
      expect(events).toEqual([{ type: 'error', errorId: 4006, fragmentIndex: undefined }]),
  },
]

describe('PutMedia session core', () => {
  it.each(cases)('gives the same events for every partition: $name', ({ body, end, expected }) => {
    const reference = run([body], end ?? true)
    expected(reference)
    for (const chunks of splits(body, { maxOffsets: 400, randomPartitions: 20 })) {
      expect(run(chunks, end ?? true), partitionLabel(chunks)).toEqual(reference)
    }
  })

  it('returns nothing after an error', () => {
    const session = createPutMediaSession({ maxFragmentDurationMs: 10_000, maxFragmentBytes: 50_000_000 })
    expect(session.push(Uint8Array.of(0, 1, 2))).toMatchObject([{ type: 'error', errorId: 4006 }])
    expect(session.failed).toBe(true)
    expect(session.push(mkvStream([videoCluster(0)]))).toEqual([])
    expect(session.end()).toEqual([])
  })

  it('hands out a fragment as views of the chunks pushed, not copies', () => {
    const body = concatBytes([
      mkvHeader(),
      mkvCluster({ ...videoCluster(0), tags: [[{ name: 'who', value: 'me' }]] }),
      mkvCluster(videoCluster(1000)),
    ])
    const clusterStart = mkvHeader().length
    // Cut inside the first cluster: its bytes lie in two chunks, each with memory of its own.
    const chunks = [body.slice(0, clusterStart + 40), body.slice(clusterStart + 40)]
    const session = createPutMediaSession({ maxFragmentDurationMs: 10_000, maxFragmentBytes: 50_000_000 })
    const events = [...session.push(chunks[0]!), ...session.push(chunks[1]!), ...session.end()]
    const fragments = events.filter((event) => event.type === 'fragment')
    expect(fragments).toHaveLength(2)
    const [first, second] = fragments
    expect(first!.clusterParts).toHaveLength(2)
    expect(first!.clusterParts.map((part) => part.buffer)).toEqual([chunks[0]!.buffer, chunks[1]!.buffer])
    expect(first!.clusterParts[0]!.byteOffset).toBe(clusterStart)
    expect(first!.tagsParts).toHaveLength(1)
    expect(first!.tagsParts[0]!.buffer).toBe(chunks[1]!.buffer)
    expect(first!.metadata).toEqual([{ name: 'who', value: 'me' }])
    expect(second!.clusterParts).toHaveLength(1)
    expect(second!.clusterParts[0]!.buffer).toBe(chunks[1]!.buffer)
    // The joined forms are the bytes as sent.
    const tagsStart = clusterStart + mkvCluster(videoCluster(0)).length
    expect(Buffer.from(first!.cluster).equals(body.subarray(clusterStart, tagsStart))).toBe(true)
    expect(Buffer.from(second!.cluster).equals(body.subarray(body.length - second!.cluster.length))).toBe(
      true,
    )
    expect(second!.cluster).toBe(second!.clusterParts[0])
  })
})

describe('fragment numbers', () => {
  it('are 47 digits, ordered by sequence, and round-trip', () => {
    const numbers = [1, 2, 10, 99_999, 2 ** 40].map((sequence) =>
      formatFragmentNumber(sequence, 1_700_000_000_000n),
    )
    for (const number of numbers) expect(number).toMatch(/^[0-9]{47}$/)
    expect([...numbers].sort()).toEqual(numbers)
    expect(parseFragmentNumber(numbers[3]!)).toEqual({ sequence: 99_999, lowBits: 1_700_000_000_000n })
    expect(formatFragmentNumber(Number.MAX_SAFE_INTEGER, (1n << 92n) - 1n)).toHaveLength(47)
  })

  it('decode the real sample from the renderer capture as sequence 1', () => {
    expect(parseFragmentNumber('91343852333181432392682062609776234230823574155')?.sequence).toBe(1)
    expect(parseFragmentNumber('12345')).toBeUndefined()
  })
})

describe('x-amzn-producer-start-timestamp', () => {
  it.each([
    ['1620367399.995', 1620367399995],
    ['1677613818.5', 1677613818500],
    ['1677613818.005', 1677613818005],
    ['1677613818', 1677613818000],
    ['0.000', 0],
  ])('reads %s as %d ms', (value, expected) => {
    expect(parseProducerStartTimestamp(value)).toBe(expected)
  })

  it.each(['', 'abc', '-1', '1.2.3', '1e9'])('refuses %j', (value) => {
    expect(parseProducerStartTimestamp(value)).toBeUndefined()
  })
})

describe('startEmulator options', () => {
  it.each([
    [{ port: -1 }, 'port must be a finite number >= 0, got -1'],
    [{ storage: 'disk' as const }, "dataDir must be a path when storage is 'disk', got undefined"],
    [{ region: 'Mars 1' }, 'region must be a region name such as "us-east-1", got "Mars 1"'],
    [
      { credentials: [] },
      'credentials must be a non-empty array of { accessKeyId, secretAccessKey }, got an array',
    ],
    [{ idleTimeoutMs: 0 }, 'idleTimeoutMs must be a finite number > 0, got 0'],
    [{ minBodyBytes: 0 }, 'minBodyBytes must be an integer >= 1, got 0'],
    [{ headersTimeoutMs: 1.5 }, 'headersTimeoutMs must be an integer >= 1, got 1.5'],
    [{ bodyTimeoutMs: 0 }, 'bodyTimeoutMs must be a finite number > 0, got 0'],
    [{ faults: { storeDelayMs: -1 } }, 'faults.storeDelayMs must be a finite number >= 0, got -1'],
    [
      { faults: { errorAfterFragments: { count: 1, errorId: 1.5 } } },
      'faults.errorAfterFragments.errorId must be an integer ErrorId, got 1.5',
    ],
  ])('throws a TypeError for %j', async (options, message) => {
    await expect(startEmulator(options)).rejects.toThrow(new TypeError(message))
  })
})
