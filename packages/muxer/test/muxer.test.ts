import type { ChunkerFragmentEvent, HeaderEvent } from '@kvs-streams/chunker'
import fc from 'fast-check'
import { expect, describe as group, it } from 'vitest'
import {
  createMuxer,
  type MuxerEvent,
  type MuxerFrame,
  type MuxerOptions,
  writeCluster,
} from '../src/index.ts'
import { chunk, mkvBytes } from './helpers.ts'

const VIDEO = {
  codec: 'h264',
  codecPrivate: Uint8Array.of(1, 0x42, 0, 0x1e),
  width: 64,
  height: 48,
  frameDurationMs: 40,
} as const
const AUDIO = {
  codec: 'aac',
  codecPrivate: Uint8Array.of(0x11, 0x90),
  sampleRate: 48000,
  channels: 2,
  frameDurationMs: 64 / 3,
} as const

/** Video frames at 25 fps: a key frame every `gop`, `size` bytes each (the first byte tells them apart). */
function videoFrames(
  count: number,
  options: { gop?: number; size?: number; keys?: readonly number[] } = {},
): MuxerFrame[] {
  const { gop = 25, size = 100 } = options
  return Array.from({ length: count }, (_, i) => ({
    track: 1,
    pts: i * 40,
    keyframe: options.keys === undefined ? i % gop === 0 : options.keys.includes(i),
    data: new Uint8Array(size).fill(i % 251),
  }))
}

/** Video frames in decoding order with two B-frames between references (I P B B P B B …), pts from 0. */
function bFrames(count: number, gop = 24): MuxerFrame[] {
  const out: MuxerFrame[] = []
  // Output positions of each decoding position within a GOP: 0, 3, 1, 2, 6, 4, 5, …
  for (let i = 0; i < count; i++) {
    const inGop = i % gop
    const base = i - inGop
    const position = inGop === 0 ? 0 : inGop % 3 === 1 ? Math.min(inGop + 2, gop - 1) : inGop - 1
    out.push({
      track: 1,
      pts: (base + position) * 40,
      dts: (i - 2) * 40,
      keyframe: inGop === 0,
      data: Uint8Array.of(i % 251),
    })
  }
  return out
}

function audioFrames(untilMs: number, track = 2): MuxerFrame[] {
  const out: MuxerFrame[] = []
  for (let i = 0; (i * 64) / 3 < untilMs; i++)
    out.push({ track, pts: (i * 64) / 3, keyframe: true, data: Uint8Array.of(0xa0, i % 251) })
  return out
}

/** Merges streams in time (decoding time), as a live source would deliver them. */
function interleave(...streams: MuxerFrame[][]): MuxerFrame[] {
  return streams.flat().sort((a, b) => (a.dts ?? a.pts) - (b.dts ?? b.pts))
}

function muxFrames(frames: Iterable<MuxerFrame>, options: Partial<MuxerOptions> = {}) {
  const muxer = createMuxer({ tracks: [VIDEO], ...options })
  const events: MuxerEvent[] = []
  let error: unknown
  try {
    for (const frame of frames) events.push(...muxer.push(frame))
    const trailing = muxer.end()
    events.push(...trailing)
    if (trailing.length > 0) events.push(...muxer.end())
  } catch (caught) {
    error = caught
  }
  return { events, error, muxer }
}

const fragmentsOf = (events: readonly MuxerEvent[]) =>
  events.filter((e) => e.type === 'fragment') as ChunkerFragmentEvent[]

/** Fields the chunker reports for the same bytes (what producers and the transport rely on). */
function chunkerView(fragment: ChunkerFragmentEvent) {
  const { index, timecode, startMs, endMs, durationMs, byteLength, offset, keyframe, tracks, blockCount } =
    fragment
  return { index, timecode, startMs, endMs, durationMs, byteLength, offset, keyframe, tracks, blockCount }
}

/** The chunker reads the output as the muxer describes it, with no violation. */
function expectChunkerAgrees(events: readonly MuxerEvent[]) {
  const chunked = chunk(mkvBytes(events))
  expect(chunked.filter((e) => e.type === 'violation')).toEqual([])
  expect(fragmentsOf(chunked as MuxerEvent[]).map(chunkerView)).toEqual(fragmentsOf(events).map(chunkerView))
  const header = chunked[0] as HeaderEvent
  expect(header.tracks).toEqual((events[0] as HeaderEvent).tracks)
}

group('muxer', () => {
  it('emits the header, then a fragment at each key frame once 2 s have passed, each starting with it', () => {
    const { events, error } = muxFrames(videoFrames(150))
    expect(error).toBeUndefined()
    expect(events[0]).toMatchObject({ type: 'header', timecodeScale: 1_000_000 })
    expect((events[0] as HeaderEvent).tracks).toEqual([
      {
        number: 1,
        type: 1,
        codecId: 'V_MPEG4/ISO/AVC',
        codecPrivate: VIDEO.codecPrivate,
        width: 64,
        height: 48,
        defaultDurationNs: 40_000_000,
      },
    ])
    const fragments = fragmentsOf(events)
    expect(fragments.map((f) => [f.timecode, f.startMs, f.endMs, f.blockCount])).toEqual([
      [0, 0, 2000, 50],
      [2000, 2000, 4000, 50],
      [4000, 4000, 6000, 50],
    ])
    expectChunkerAgrees(events)
  })

  it('emits each fragment as soon as the next key frame that ends it arrives', () => {
    const muxer = createMuxer({ tracks: [VIDEO] })
    const frames = videoFrames(51)
    const counts = frames.map((frame) => muxer.push(frame).filter((e) => e.type === 'fragment').length)
    expect(counts.indexOf(1)).toBe(50)
    expect(counts.reduce((a, b) => a + b)).toBe(1)
  })

  it('follows targetFragmentDurationMs: a fragment per key frame with a target shorter than the GOP', () => {
    const { events } = muxFrames(videoFrames(100), { targetFragmentDurationMs: 500 })
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([0, 1000, 2000, 3000])
    expectChunkerAgrees(events)
  })

  it('writes B-frames in decoding order with their presentation times, and cuts only between GOPs', () => {
    const { events, error } = muxFrames(bFrames(96))
    expect(error).toBeUndefined()
    const fragments = fragmentsOf(events)
    expect(fragments.map((f) => [f.timecode, f.startMs, f.blockCount])).toEqual([
      [0, 0, 72],
      [2880, 2880, 24],
    ])
    expectChunkerAgrees(events)
  })

  it('puts each audio frame in the fragment its time falls in, whatever order the tracks come in', () => {
    const video = videoFrames(150)
    const audio = audioFrames(6000)
    const expected = mkvBytes(muxFrames(interleave(video, audio), { tracks: [VIDEO, AUDIO] }).events)
    const { events } = muxFrames(interleave(video, audio), { tracks: [VIDEO, AUDIO] })
    expectChunkerAgrees(events)
    const fragments = fragmentsOf(events)
    expect(fragments.map((f) => [f.timecode, f.tracks])).toEqual([
      [0, [1, 2]],
      [2000, [1, 2]],
      [4000, [1, 2]],
    ])
    // Audio frames 0–93 start before 2000 ms (93 × 21.33 = 1984); 94 (2005 ms) is in the second fragment.
    expect(fragments[0]!.blockCount).toBe(50 + 94)
    expect(fragments[0]!.endMs).toBeCloseTo(1984 + 64 / 3, 6)
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 400, maxLength: 400 }), (choices) => {
        // Any merge of the two streams that keeps each stream's own order.
        const merged: MuxerFrame[] = []
        let v = 0
        let a = 0
        for (const takeAudio of choices) {
          if ((takeAudio && a < audio.length) || v >= video.length) merged.push(audio[a++]!)
          else merged.push(video[v++]!)
        }
        merged.push(...video.slice(v), ...audio.slice(a))
        expect(
          Buffer.from(mkvBytes(muxFrames(merged, { tracks: [VIDEO, AUDIO] }).events)).equals(
            Buffer.from(expected),
          ),
        ).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('drops the frames before the first video key frame', () => {
    const frames = interleave(videoFrames(60, { keys: [10, 35] }), audioFrames(2400))
    const { events, muxer } = muxFrames(frames, { tracks: [VIDEO, AUDIO] })
    const fragments = fragmentsOf(events)
    expect(fragments[0]).toMatchObject({ timecode: 400, startMs: 400 })
    expect(muxer.droppedFrames).toBe(10 + 19)
    expectChunkerAgrees(events)
  })

  it('cuts a fragment that would grow past maxFragmentDurationMs at a key frame inside it', () => {
    // Key frames at 0, 1.8 s and 11.8 s: the first fragment cannot reach 2 s, so it grows to 10 s unless cut.
    const { events, error } = muxFrames(videoFrames(300, { keys: [0, 45, 295] }))
    expect(error).toBeUndefined()
    expect(fragmentsOf(events).map((f) => [f.timecode, f.durationMs])).toEqual([
      [0, 1800],
      [1800, 10000],
      [11800, 200],
    ])
    expectChunkerAgrees(events)
  })

  it('fails with ERR_KVS_MUXER_FRAGMENT_TOO_LONG when no key frame comes within maxFragmentDurationMs', () => {
    const { events, error } = muxFrames(videoFrames(301, { keys: [0, 50] }))
    expect(error).toMatchObject({ code: 'ERR_KVS_MUXER_FRAGMENT_TOO_LONG', errorId: 4002, track: 1 })
    expect((error as Error).message).toMatch(/no key frame from 2000 ms to the frame at 12000 ms/)
    // The fragment before the long GOP was delivered.
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([0])
  })

  it('keeps fragments under maxFragmentBytes, cutting at a key frame inside or failing', () => {
    const big = videoFrames(100, { size: 100_000, gop: 10 })
    const { events, error } = muxFrames(big, { maxFragmentBytes: 3_500_000 })
    expect(error).toBeUndefined()
    for (const fragment of fragmentsOf(events)) expect(fragment.byteLength).toBeLessThanOrEqual(3_500_000)
    expect(fragmentsOf(events).map((f) => f.blockCount)).toEqual([30, 30, 30, 10])
    expectChunkerAgrees(events)
    const failed = muxFrames(videoFrames(100, { size: 100_000, gop: 50 }), { maxFragmentBytes: 3_500_000 })
    expect(failed.error).toMatchObject({ code: 'ERR_KVS_MUXER_FRAGMENT_TOO_LARGE', errorId: 4001 })
  })

  it('keeps block timecodes within 16 bits with a finer timecode scale', () => {
    expect(() => createMuxer({ tracks: [VIDEO], timecodeScale: 100_000 })).toThrow(
      'maxFragmentDurationMs must be at most 32767 timecode units (3276.7 ms with this timecodeScale), got 10000',
    )
    const { events, error } = muxFrames(videoFrames(200, { gop: 25 }), {
      timecodeScale: 100_000,
      maxFragmentDurationMs: 3000,
    })
    expect(error).toBeUndefined()
    expect(events[0]).toMatchObject({ timecodeScale: 100_000 })
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([0, 20_000, 40_000, 60_000])
    expectChunkerAgrees(events)
  })

  it('does not wait for a track that stays silent longer than maxInterleaveDelayMs, and drops its late frames', () => {
    const video = videoFrames(200)
    const { events, muxer } = muxFrames([...video, ...audioFrames(100)], {
      tracks: [VIDEO, AUDIO],
      maxInterleaveDelayMs: 3000,
    })
    const fragments = fragmentsOf(events)
    expect(fragments.map((f) => f.tracks)).toEqual([[1], [1], [1], [1]])
    expect(muxer.droppedFrames).toBe(5)
  })

  it('stops waiting for a track after endTrack()', () => {
    const muxer = createMuxer({ tracks: [VIDEO, AUDIO] })
    const events: MuxerEvent[] = []
    for (const frame of interleave(videoFrames(60), audioFrames(500))) events.push(...muxer.push(frame))
    expect(fragmentsOf(events)).toEqual([])
    events.push(...muxer.endTrack(2))
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([0])
    expect(() => muxer.push(audioFrames(10)[0]!)).toThrow(
      expect.objectContaining({ code: 'ERR_KVS_MUXER_INVALID_FRAME' }),
    )
  })

  it('fails with ERR_KVS_MUXER_BUFFER_FULL when a track is far behind and the buffer fills', () => {
    const { error } = muxFrames(videoFrames(400, { size: 10_000 }), {
      tracks: [VIDEO, AUDIO],
      maxInterleaveDelayMs: 60_000,
      maxBufferedBytes: 1_000_000,
    })
    expect(error).toMatchObject({ code: 'ERR_KVS_MUXER_BUFFER_FULL' })
  })

  it('refuses frames out of decoding order, and a fragment starting before the previous one ends', () => {
    const backwards = muxFrames([
      ...videoFrames(2),
      { track: 1, pts: 10, keyframe: false, data: new Uint8Array(1) },
    ])
    expect(backwards.error).toMatchObject({ code: 'ERR_KVS_MUXER_TIMESTAMP_ORDER', track: 1 })
    // A key frame shown before frames decoded ahead of it: its fragment would start inside the previous one.
    const frames: MuxerFrame[] = [
      ...videoFrames(50),
      { track: 1, pts: 2500, dts: 2000, keyframe: false, data: new Uint8Array(1) },
      { track: 1, pts: 2040, dts: 2040, keyframe: true, data: new Uint8Array(1) },
      { track: 1, pts: 2080, dts: 2080, keyframe: false, data: new Uint8Array(1) },
    ]
    expect(muxFrames(frames, { targetFragmentDurationMs: 0 }).error).toMatchObject({
      code: 'ERR_KVS_MUXER_TIMESTAMP_ORDER',
      errorId: 4004,
    })
  })

  it('rejects malformed frames and unknown tracks without failing', () => {
    const muxer = createMuxer({ tracks: [VIDEO] })
    expect(() => muxer.push({ track: 3, pts: 0, keyframe: true, data: new Uint8Array(1) })).toThrow(
      expect.objectContaining({ code: 'ERR_KVS_MUXER_UNKNOWN_TRACK', track: 3 }),
    )
    expect(() => muxer.push({ track: 1, pts: -1, keyframe: true, data: new Uint8Array(1) })).toThrow(
      'frame.pts must be a finite number >= 0 (ms), got -1',
    )
    expect(() =>
      muxer.push({ track: 1, pts: 0, keyframe: true, data: 'x' as unknown as Uint8Array }),
    ).toThrow(TypeError)
    expect(muxer.push(videoFrames(1)[0]!).map((e) => e.type)).toEqual(['header'])
  })

  it('writes any codec given its CodecID and CodecPrivate, and checks the tracks', () => {
    const vp9 = { codecId: 'V_VP9', trackType: 'video', width: 640, height: 360 } as const
    const opus = {
      codecId: 'A_OPUS',
      trackType: 'audio',
      codecPrivate: Uint8Array.of(1, 2),
      sampleRate: 48000,
      channels: 2,
      number: 5,
    } as const
    const { events } = muxFrames(interleave(videoFrames(60), audioFrames(2400, 5)), { tracks: [vp9, opus] })
    expect((events[0] as HeaderEvent).tracks.map((t) => [t.number, t.type, t.codecId])).toEqual([
      [1, 1, 'V_VP9'],
      [5, 2, 'A_OPUS'],
    ])
    expectChunkerAgrees(events)
    expect(() => createMuxer({ tracks: [] })).toThrow(
      'tracks must be a non-empty array of tracks, got an array',
    )
    expect(() => createMuxer({ tracks: [VIDEO, VIDEO, AUDIO, AUDIO] })).toThrow(/at most 3 tracks/)
    expect(() => createMuxer({ tracks: [VIDEO, { ...VIDEO, number: 1 }] })).toThrow(/tracks\[1\]\.number/)
    expect(() => createMuxer({ tracks: [{ codec: 'h264', width: 64 }] })).toThrow(/tracks\[0\]\.height/)
    // Numeric track fields go through core's numberOption: NaN and Infinity are refused too.
    expect(() => createMuxer({ tracks: [{ ...AUDIO, sampleRate: Number.POSITIVE_INFINITY }] })).toThrow(
      'tracks[0].sampleRate must be a positive number (audio tracks need it), got Infinity',
    )
    expect(() => createMuxer({ tracks: [{ ...AUDIO, channels: 1.5 }] })).toThrow(
      'tracks[0].channels must be a positive integer (audio tracks need it), got 1.5',
    )
    expect(() => createMuxer({ tracks: [{ ...VIDEO, frameDurationMs: Number.NaN }] })).toThrow(
      'tracks[0].frameDurationMs must be a positive number, got NaN',
    )
    expect(() =>
      createMuxer({ tracks: [{ codecId: 'V_SOMETHING_MUCH_LONGER_THAN_32_CHARS', trackType: 'video' }] }),
    ).toThrow(/tracks\[0\]\.codecId/)
  })

  it('emits only the header for no frames', () => {
    expect(
      createMuxer({ tracks: [VIDEO] })
        .end()
        .map((e) => e.type),
    ).toEqual(['header'])
  })
})

group('writeCluster', () => {
  it('writes a known-size Cluster whose SimpleBlocks hold the data as given, no copy', () => {
    const data = Uint8Array.of(1, 2, 3)
    const cluster = writeCluster(1000, [
      { track: 1, timecode: 1000, keyframe: true, data },
      { track: 2, timecode: 1021, keyframe: false, data: [data, data] },
    ])
    expect(cluster.parts.filter((part) => part === data)).toHaveLength(3)
    expect(cluster.byteLength).toBe(cluster.parts.reduce((sum, part) => sum + part.length, 0))
    expect(Buffer.concat(cluster.parts).toString('hex')).toBe(
      `1f43b675${'01000000000000' + (cluster.byteLength - 12).toString(16).padStart(2, '0')}e78203e8` +
        'a3878100008001020' +
        '3a38a8200150001020301020' +
        '3',
    )
  })

  it('refuses a block timecode out of the signed 16-bit range', () => {
    expect(() =>
      writeCluster(0, [{ track: 1, timecode: 32768, keyframe: true, data: new Uint8Array(1) }]),
    ).toThrow(RangeError)
    expect(() =>
      writeCluster(40000, [{ track: 1, timecode: 7231, keyframe: true, data: new Uint8Array(1) }]),
    ).toThrow(RangeError)
    expect(
      writeCluster(40000, [{ track: 1, timecode: 7232, keyframe: true, data: new Uint8Array(1) }]).byteLength,
    ).toBe(23)
  })
})
