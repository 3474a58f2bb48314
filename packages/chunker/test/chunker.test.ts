import { EbmlError, writeEbmlHeader } from '@kvs-streams/ebml'
import { fcPartition, partitionLabel, splits } from '@kvs-streams/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ChunkerError,
  type ChunkerEvent,
  type ClusterChunkerOptions,
  createClusterChunker,
} from '../src/index.ts'
import {
  AUDIO,
  buildMkv,
  chunkAll,
  describeRun,
  fragments,
  headers,
  hex,
  type MkvLayout,
  twoClusters,
  VIDEO,
} from './helpers.ts'

/** The fragment event `describeRun` should show for cluster `index` of a crafted layout. */
function fragmentAt(layout: MkvLayout, index: number, fields: Record<string, unknown>) {
  const { start, tagsEnd } = layout.clusters[index]!
  return {
    type: 'fragment',
    index,
    offset: start,
    byteLength: tagsEnd - start,
    bytes: hex(layout.bytes.subarray(start, tagsEnd)),
    ...fields,
  }
}

function headerOf(layout: MkvLayout, tracks: unknown[], timecodeScale = 1_000_000) {
  return { type: 'header', bytes: hex(layout.expectedHeader), timecodeScale, tracks }
}

const videoTrack = { number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC' }
const audioTrack = { number: 2, type: 2, codecId: 'A_AAC' }

interface Case {
  name: string
  layout: MkvLayout
  options?: ClusterChunkerOptions
  expected: (layout: MkvLayout) => unknown[]
}

const twoKnown = twoClusters({ segmentSize: 'known' })
const twoUnknown = buildMkv({
  clusters: [
    { timecode: 0, unknownSize: true, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
    { timecode: 1000, unknownSize: true, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
  ],
})
const withTags = buildMkv({
  tagsBefore: [{ name: 'ENCODER', value: 'test' }],
  clusters: [
    {
      timecode: 0,
      unknownSize: true,
      blocks: [{ track: 1, timecode: 0, keyframe: true }],
      tagsAfter: [{ name: 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW', value: '42' }],
    },
    {
      timecode: 500,
      blocks: [{ track: 1, timecode: 0, keyframe: true }],
      tagsAfter: [
        {
          name: 'AWS_KINESISVIDEO_CONTINUATION_TOKEN',
          value: '91343852333181432392682062607743920146264772745',
        },
      ],
    },
  ],
})
const muxerLayout = buildMkv({
  segmentSize: 'known',
  seekHead: true,
  trailer: true,
  clusters: [
    { timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
    { timecode: 33, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
  ],
})
const muxerWithTags = buildMkv({
  segmentSize: 'known',
  seekHead: true,
  tagsBefore: [{ name: 'ENCODER', value: 'test' }],
  trailer: true,
  clusters: [
    { timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
    { timecode: 33, blocks: [{ track: 1, timecode: 0, keyframe: true }] },
  ],
})
const scaled = buildMkv({
  timecodeScale: 100_000,
  tracks: [{ ...VIDEO, defaultDurationNs: 40_000_000 }],
  clusters: [
    {
      timecode: 20_000,
      blocks: [
        { track: 1, timecode: 0, keyframe: true },
        { track: 1, timecode: 400 },
      ],
    },
  ],
})
const groups = buildMkv({
  tracks: [VIDEO, AUDIO],
  clusters: [
    {
      timecode: 0,
      blocks: [
        { track: 2, timecode: 0, group: { duration: 21 } },
        { track: 1, timecode: 0, group: {} },
        { track: 1, timecode: 40, group: { references: true, duration: 40 } },
      ],
    },
    {
      timecode: 100,
      blocks: [
        { track: 1, timecode: 0, group: { references: true } },
        { track: 2, timecode: 0, group: {} },
      ],
    },
  ],
})
const audioFirst = buildMkv({
  tracks: [VIDEO, AUDIO],
  clusters: [
    {
      timecode: 1000,
      blocks: [
        { track: 2, timecode: -10, keyframe: true },
        { track: 1, timecode: 0, keyframe: true },
        { track: 2, timecode: 11, keyframe: true },
      ],
    },
  ],
})

const cases: Case[] = [
  {
    name: 'a known-size Segment gives the header (Segment rewritten to unknown size), then one fragment per Cluster',
    layout: twoKnown,
    expected: (layout) => [
      headerOf(layout, [videoTrack]),
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 40,
        durationMs: 40,
        keyframe: true,
        tracks: [1],
        blockCount: 2,
      }),
      fragmentAt(layout, 1, {
        timecode: 80,
        startMs: 80,
        endMs: 120,
        durationMs: 40,
        keyframe: true,
        tracks: [1],
        blockCount: 2,
      }),
    ],
  },
  {
    name: 'unknown-size Clusters in an unknown-size Segment end at the next Cluster and at the end of input',
    layout: twoUnknown,
    expected: (layout) => [
      headerOf(layout, [videoTrack]),
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 0,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
      fragmentAt(layout, 1, {
        timecode: 1000,
        startMs: 1000,
        endMs: 1000,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
    ],
  },
  {
    name: 'Tags before the first Cluster join the header, Tags after a Cluster join its fragment',
    layout: withTags,
    expected: (layout) => [
      headerOf(layout, [videoTrack]),
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 0,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
      fragmentAt(layout, 1, {
        timecode: 500,
        startMs: 500,
        endMs: 500,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
    ],
  },
  {
    name: 'SeekHead and Void before the Clusters, and Cues and SeekHead after them, are not forwarded',
    layout: muxerLayout,
    expected: (layout) => [
      headerOf(layout, [videoTrack]),
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 0,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
      fragmentAt(layout, 1, {
        timecode: 33,
        startMs: 33,
        endMs: 33,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
    ],
  },
  {
    name: 'with headerAsSent, SeekHead, Void and Tags before the Clusters stay in the header as written',
    layout: muxerWithTags,
    options: { headerAsSent: true },
    expected: (layout) => [
      { ...headerOf(layout, [videoTrack]), bytes: hex(layout.sentHeader) },
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 0,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
      fragmentAt(layout, 1, {
        timecode: 33,
        startMs: 33,
        endMs: 33,
        durationMs: 0,
        keyframe: true,
        tracks: [1],
        blockCount: 1,
      }),
    ],
  },
  {
    name: 'times go through TimecodeScale and frames last their track DefaultDuration',
    layout: scaled,
    expected: (layout) => [
      headerOf(layout, [{ ...videoTrack, defaultDurationNs: 40_000_000 }], 100_000),
      fragmentAt(layout, 0, {
        timecode: 20_000,
        startMs: 2000,
        endMs: 2080,
        durationMs: 80,
        keyframe: true,
        tracks: [1],
        blockCount: 2,
      }),
    ],
  },
  {
    name: 'a BlockGroup is a key frame without ReferenceBlock and lasts its BlockDuration',
    layout: groups,
    options: { onViolation: 'emit' },
    expected: (layout) => [
      headerOf(layout, [videoTrack, audioTrack]),
      fragmentAt(layout, 0, {
        timecode: 0,
        startMs: 0,
        endMs: 80,
        durationMs: 80,
        keyframe: true,
        tracks: [1, 2],
        blockCount: 3,
      }),
      {
        type: 'violation',
        violation: {
          kind: 'not-keyframe-start',
          errorId: undefined,
          message: 'fragment 1 does not start with a key frame',
          fragmentIndex: 1,
          offset: layout.clusters[1]!.start,
        },
      },
      fragmentAt(layout, 1, {
        timecode: 100,
        startMs: 100,
        endMs: 100,
        durationMs: 0,
        keyframe: false,
        tracks: [1, 2],
        blockCount: 2,
      }),
    ],
  },
  {
    name: 'the key-frame flag is the first video frame’s, even when audio comes first (with a negative relative time)',
    layout: audioFirst,
    expected: (layout) => [
      headerOf(layout, [videoTrack, audioTrack]),
      fragmentAt(layout, 0, {
        timecode: 1000,
        startMs: 990,
        endMs: 1011,
        durationMs: 21,
        keyframe: true,
        tracks: [1, 2],
        blockCount: 3,
      }),
    ],
  },
]

describe('createClusterChunker on crafted documents', () => {
  describe.each(cases)('$name', ({ layout, options, expected }) => {
    const want = { events: expected(layout), error: undefined }

    it('gives the expected events from one chunk', () => {
      expect(describeRun(chunkAll([layout.bytes], options))).toEqual(want)
    })

    it('gives the same events split at every offset, one byte at a time and in random partitions', () => {
      for (const chunks of splits(layout.bytes)) {
        expect(describeRun(chunkAll(chunks, options)), partitionLabel(chunks)).toEqual(want)
      }
    })

    it('gives the same events for any partition (property)', () => {
      fc.assert(
        fc.property(fcPartition(layout.bytes, { emptyChunks: true }), (chunks) => {
          expect(describeRun(chunkAll(chunks, options))).toEqual(want)
        }),
        { numRuns: 50 },
      )
    })
  })
})

describe('fragment bytes', () => {
  it('are views of the input chunk (same ArrayBuffer, no copy) when the input was one chunk', () => {
    const { bytes, clusters } = withTags
    const events = chunkAll([bytes]).events
    for (const [index, fragment] of fragments(events).entries()) {
      expect(fragment.parts).toHaveLength(1)
      const part = fragment.parts[0]!
      expect(part.buffer).toBe(bytes.buffer)
      expect(part.byteOffset).toBe(bytes.byteOffset + clusters[index]!.start)
      expect(part.byteLength).toBe(clusters[index]!.tagsEnd - clusters[index]!.start)
    }
  })

  it('are views of the chunks they came from when a fragment spans chunks', () => {
    const { bytes, clusters } = twoKnown
    const cut = clusters[0]!.start + 10
    const chunks = [bytes.slice(0, cut), bytes.slice(cut)]
    const first = fragments(chunkAll(chunks).events)[0]!
    expect(first.parts.map((part) => part.buffer)).toEqual([chunks[0]!.buffer, chunks[1]!.buffer])
  })

  it('include the level-1 Tags after the Cluster: the bytes equal the input range from Cluster to Tags end', () => {
    const { bytes, clusters } = withTags
    const got = fragments(chunkAll([bytes]).events)
    expect(got.map((fragment) => fragment.byteLength)).toEqual(clusters.map((c) => c.tagsEnd - c.start))
    expect(clusters.every((c) => c.tagsEnd > c.end)).toBe(true)
  })
})

describe('when fragments are emitted', () => {
  it('emits an unknown-size Cluster only once the next Cluster starts', () => {
    const { bytes, clusters } = twoUnknown
    const chunker = createClusterChunker()
    const second = clusters[1]!.start
    const early = chunker.push(bytes.subarray(0, second))
    expect(early.map((event) => event.type)).toEqual(['header'])
    // The next Cluster's id alone (4 bytes) is not enough: its size field must be read too.
    expect(chunker.push(bytes.subarray(second, second + 4))).toEqual([])
    const next = chunker.push(bytes.subarray(second + 4, second + 12))
    expect(next.map((event) => event.type)).toEqual(['fragment'])
    expect(chunker.push(bytes.subarray(second + 12))).toEqual([])
    expect(chunker.end().map((event) => event.type)).toEqual(['fragment'])
  })

  it('holds a complete known-size Cluster until the next element, since Tags may follow, and emits the last at end()', () => {
    const { bytes, clusters } = twoClusters()
    const chunker = createClusterChunker()
    const events = chunker.push(bytes)
    expect(events.map((event) => event.type)).toEqual(['header', 'fragment'])
    expect(clusters[1]!.end).toBe(bytes.length)
    const last = chunker.end()
    expect(last.map((event) => event.type)).toEqual(['fragment'])
  })

  it('emits the header at end() for a document without Clusters', () => {
    const layout = buildMkv({ clusters: [] })
    const { events, error } = chunkAll([layout.bytes])
    expect(error).toBeUndefined()
    expect(headers(events).map((header) => header.bytes)).toEqual([layout.expectedHeader])
  })

  it('emits the header as sent at end() and at the end of a known-size Segment without Clusters, however split', () => {
    for (const segmentSize of ['unknown', 'known'] as const) {
      const layout = buildMkv({ segmentSize, seekHead: true, clusters: [] })
      for (const chunks of splits(layout.bytes)) {
        const { events, error } = chunkAll(chunks, { headerAsSent: true })
        expect(error).toBeUndefined()
        expect(headers(events).map((header) => hex(header.bytes))).toEqual([hex(layout.sentHeader)])
      }
    }
  })

  it('rejects a headerAsSent that is not a boolean', () => {
    expect(() => createClusterChunker({ headerAsSent: 'yes' as unknown as boolean })).toThrow(
      /headerAsSent must be a boolean, got/,
    )
  })

  it('emits a fragment-start event with the Cluster Timecode before the frames, with the fragmentStart option', () => {
    const { bytes, clusters } = twoKnown
    const chunker = createClusterChunker({ fragmentStart: true })
    const cut = clusters[1]!.start + 20
    const first = chunker.push(bytes.subarray(0, cut))
    expect(first.map((event) => event.type)).toEqual([
      'header',
      'fragment-start',
      'fragment',
      'fragment-start',
    ])
    expect(first[3]).toEqual({ type: 'fragment-start', index: 1, offset: clusters[1]!.start, timecode: 80 })
    expect(
      chunker
        .push(bytes.subarray(cut))
        .concat(chunker.end())
        .map((event) => event.type),
    ).toEqual(['fragment'])
  })

  it('does not emit fragment-start events by default', () => {
    const types = chunkAll([twoKnown.bytes]).events.map((event) => event.type)
    expect(types).toEqual(['header', 'fragment', 'fragment'])
  })
})

describe('memory', () => {
  it('holds no chunk once its fragments are emitted (bufferedBytes)', () => {
    const { bytes, clusters } = twoUnknown
    const chunker = createClusterChunker()
    const second = clusters[1]!.start
    chunker.push(bytes.slice(0, second))
    expect(chunker.bufferedBytes).toBe(second)
    chunker.push(bytes.slice(second))
    // The first chunk only held the header and the first fragment, both delivered.
    expect(chunker.bufferedBytes).toBe(bytes.length - second)
    chunker.end()
  })

  it('fails with ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE (4001) once a fragment exceeds maxBufferedBytes', () => {
    const layout = buildMkv({
      clusters: [{ timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: true, size: 5000 }] }],
    })
    for (const chunks of splits(layout.bytes, { maxOffsets: 300 })) {
      const { events, error } = chunkAll(chunks, { maxBufferedBytes: 4096 })
      expect(ChunkerError.is(error), partitionLabel(chunks)).toBe(true)
      expect(error).toMatchObject({
        code: 'ERR_KVS_CHUNKER_FRAGMENT_TOO_LARGE',
        errorId: 4001,
        offset: layout.clusters[0]!.start,
      })
      expect(events.map((event) => event.type)).toEqual(['header'])
    }
  })

  it('does not count bytes of finished fragments that share a chunk with the open one', () => {
    const layout = buildMkv({
      clusters: [0, 1000, 2000].map((timecode) => ({
        timecode,
        blocks: [{ track: 1, timecode: 0, keyframe: true, size: 3000 }],
      })),
    })
    for (const chunks of splits(layout.bytes, { maxOffsets: 100 })) {
      const { events, error } = chunkAll(chunks, { maxBufferedBytes: 4096 })
      expect(error, partitionLabel(chunks)).toBeUndefined()
      expect(fragments(events)).toHaveLength(3)
    }
  })

  it('fails with ERR_KVS_CHUNKER_HEADER_TOO_LARGE once the header exceeds maxHeaderBytes, however it is chunked', () => {
    // Small children: a single leaf over maxHeaderBytes fails earlier, in the reader (ERR_KVS_EBML_ELEMENT_TOO_LARGE).
    const tags = Array.from({ length: 30 }, (_, i) => ({ name: `TAG_${i}`, value: 'x'.repeat(100) }))
    const layout = buildMkv({ tagsBefore: tags, clusters: [] })
    for (const chunks of splits(layout.bytes, { maxOffsets: 200 })) {
      const { events, error } = chunkAll(chunks, { maxHeaderBytes: 2048 })
      expect(error, partitionLabel(chunks)).toMatchObject({ code: 'ERR_KVS_CHUNKER_HEADER_TOO_LARGE' })
      expect(events).toEqual([])
    }
  })
})

describe('input that is not a PutMedia stream', () => {
  it('fails with ERR_KVS_CHUNKER_NOT_MKV when the input starts with a Segment, not an EBML header', () => {
    const segmentFirst = twoKnown.bytes.subarray(writeEbmlHeader().length)
    for (const chunks of splits(segmentFirst, { maxOffsets: 50 })) {
      const { events, error } = chunkAll(chunks)
      expect(ChunkerError.is(error), partitionLabel(chunks)).toBe(true)
      expect(error).toMatchObject({ name: 'ChunkerError', code: 'ERR_KVS_CHUNKER_NOT_MKV', offset: 0 })
      expect(events).toEqual([])
    }
  })

  it('fails with ERR_KVS_CHUNKER_NOT_MKV when the input starts with another element', () => {
    const clusterFirst = twoKnown.bytes.subarray(twoKnown.clusters[0]!.start)
    expect(chunkAll([clusterFirst]).error).toMatchObject({ code: 'ERR_KVS_CHUNKER_NOT_MKV', offset: 0 })
  })

  it('gives no events and no error for empty input', () => {
    expect(chunkAll([])).toEqual({ events: [], error: undefined })
    expect(chunkAll([new Uint8Array(0)])).toEqual({ events: [], error: undefined })
  })
})

describe('errors', () => {
  it('throws end() with ERR_KVS_EBML_TRUNCATED inside a Cluster, after delivering the complete fragments', () => {
    const { bytes, clusters } = twoKnown
    const cut = clusters[1]!.start + 15
    const chunker = createClusterChunker()
    const events: ChunkerEvent[] = chunker.push(bytes.subarray(0, cut))
    expect(events.map((event) => event.type)).toEqual(['header', 'fragment'])
    let thrown: unknown
    try {
      chunker.end()
    } catch (error) {
      thrown = error
    }
    expect(EbmlError.is(thrown)).toBe(true)
    expect(thrown).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
  })

  it('delivers the complete fragment before the error when the input breaks right after a Cluster', () => {
    const { bytes, clusters } = twoKnown
    const broken = new Uint8Array(clusters[0]!.end + 2)
    broken.set(bytes.subarray(0, clusters[0]!.end))
    // 0x00 is no valid element id: the reader fails right after the first Cluster.
    for (const chunks of splits(broken)) {
      const { events, error } = chunkAll(chunks)
      expect(error, partitionLabel(chunks)).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT' })
      expect(events.map((event) => event.type)).toEqual(['header', 'fragment'])
    }
  })

  it('returns the events completed before the error, then throws it from the next call, and every later one', () => {
    const { bytes, clusters } = twoKnown
    const broken = new Uint8Array(clusters[1]!.start + 1)
    broken.set(bytes.subarray(0, clusters[1]!.start))
    const chunker = createClusterChunker()
    expect(chunker.push(broken).map((event) => event.type)).toEqual(['header', 'fragment'])
    let thrown: unknown
    try {
      chunker.push(Uint8Array.of(0x80))
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(thrown).not.toHaveProperty('events')
    expect(() => chunker.push(bytes)).toThrow(thrown as Error)
    expect(() => chunker.end()).toThrow(thrown as Error)
  })

  it('throws the held error from end() after a push that returned events', () => {
    const { bytes, clusters } = twoKnown
    const broken = new Uint8Array(clusters[1]!.start + 1)
    broken.set(bytes.subarray(0, clusters[1]!.start))
    const chunker = createClusterChunker()
    expect(chunker.push(broken)).toHaveLength(2)
    expect(() => chunker.end()).toThrow(expect.objectContaining({ code: 'ERR_KVS_EBML_INVALID_VINT' }))
  })

  it('returns the last fragment from an end() that finds the input cut short, then throws on the next call', () => {
    const { bytes, clusters } = twoKnown
    const chunker = createClusterChunker()
    const pushed = chunker.push(bytes.subarray(0, clusters[1]!.start + 3))
    const ended = chunker.end()
    expect([...pushed, ...ended].map((event) => event.type)).toEqual(['header', 'fragment'])
    expect(ended.length).toBeGreaterThan(0)
    let thrown: unknown
    try {
      chunker.end()
    } catch (error) {
      thrown = error
    }
    expect(thrown).toMatchObject({ code: 'ERR_KVS_EBML_TRUNCATED' })
    expect(() => chunker.push(bytes)).toThrow(thrown as Error)
  })

  it('throws at once when the failing call completed no event, and the same error on every later call', () => {
    const chunker = createClusterChunker()
    const first = (() => {
      try {
        chunker.push(Uint8Array.of(0x00))
      } catch (error) {
        return error
      }
    })()
    expect(first).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_VINT' })
    expect(() => chunker.push(twoKnown.bytes)).toThrow(first as Error)
    expect(() => chunker.end()).toThrow(first as Error)
  })

  it('returns no event from a second end() after a clean end', () => {
    const chunker = createClusterChunker()
    const events = [...chunker.push(twoKnown.bytes), ...chunker.end()]
    expect(events.map((event) => event.type)).toEqual(['header', 'fragment', 'fragment'])
    expect(chunker.end()).toEqual([])
  })
})

describe('options', () => {
  it.each([
    [{ onViolation: 'ignore' }, `onViolation must be 'throw' or 'emit', got "ignore"`],
    [{ maxFragmentDurationMs: 0 }, 'maxFragmentDurationMs must be a positive number, got 0'],
    [{ maxFragmentBytes: -1 }, 'maxFragmentBytes must be a positive number, got -1'],
    [{ maxTracks: Number.NaN }, 'maxTracks must be a positive number, got NaN'],
    [{ maxBufferedBytes: '1' }, 'maxBufferedBytes must be a positive number, got "1"'],
    [{ maxHeaderBytes: 0 }, 'maxHeaderBytes must be a positive number, got 0'],
    [{ requireKeyframe: 'no' }, 'requireKeyframe must be a boolean, got "no"'],
    [{ fragmentStart: 1 }, 'fragmentStart must be a boolean, got 1'],
  ])('rejects %o with a TypeError', (options, message) => {
    expect(() => createClusterChunker(options as ClusterChunkerOptions)).toThrow(new TypeError(message))
  })

  it('accepts no options', () => {
    expect(createClusterChunker().bufferedBytes).toBe(0)
  })
})
