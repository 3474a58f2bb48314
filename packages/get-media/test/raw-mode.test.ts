import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { ffprobeCounts, hasTool, partitionLabel, readFixture, run, splits } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createGetMediaParser, type MediaFragmentEvent } from '../src/index.ts'
import { expectedCaptures } from './expected-captures.ts'
import { fingerprint, join, parseOk, sameBytes } from './helpers.ts'

const captures = Object.keys(expectedCaptures)

function fragments(chunks: readonly Uint8Array[]): MediaFragmentEvent[] {
  return parseOk(chunks, { mode: 'raw' }).filter(
    (event): event is MediaFragmentEvent => event.type === 'fragment',
  )
}

describe('raw mode', () => {
  test.each(captures)('%s: the fragments’ parts concatenate to the input', (name) => {
    const bytes = readFixture('kvs-getmedia', name)
    const events = parseOk([bytes], { mode: 'raw' })
    expect(events.every((event) => event.type === 'fragment')).toBe(true)
    const raw = events as MediaFragmentEvent[]
    expect(sameBytes(join(raw.flatMap((fragment) => fragment.parts)), bytes)).toBe(true)
    expect(raw.map((fragment) => fragment.byteLength)).toEqual(
      expectedCaptures[name]!.map((f) => f.byteLength),
    )
  })

  test.each(captures)(
    '%s: raw fragments carry the same metadata as fragment-start and fragment-end',
    (name) => {
      const bytes = readFixture('kvs-getmedia', name)
      const framed = parseOk([bytes])
      const starts = framed.filter((event) => event.type === 'fragment-start')
      const ends = framed.filter((event) => event.type === 'fragment-end')
      const raw = fragments([bytes])
      expect(raw).toHaveLength(ends.length)
      raw.forEach((fragment, index) => {
        const { type: _start, ...start } = starts[index]!
        const { type: _end, ...end } = ends[index]!
        expect(fragment).toEqual({ type: 'fragment', ...start, ...end, parts: expect.any(Array) })
      })
    },
  )

  test('a fragment lying in one chunk is one view of it; split fragments are views of each chunk', () => {
    const bytes = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
    const whole = fragments([bytes])
    expect(
      whole.every((fragment) => fragment.parts.length === 1 && fragment.parts[0]!.buffer === bytes.buffer),
    ).toBe(true)
    const [, chunks] = [
      ...splits(bytes, { maxOffsets: 0, oneByteAtATime: false, randomPartitions: 1, seed: 7 }),
    ]
    if (chunks === undefined) throw new Error('no random partition')
    const pieces = fragments(chunks)
    expect(pieces.every((fragment) => fragment.parts.every((part) => part.buffer === bytes.buffer))).toBe(
      true,
    )
    expect(sameBytes(join(pieces.flatMap((fragment) => fragment.parts)), bytes)).toBe(true)
  })

  test('raw mode gives the same fragments however the input is split', () => {
    const bytes = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')
    const whole = fingerprint(parseOk([bytes], { mode: 'raw' }))
    for (const chunks of splits(bytes, { maxOffsets: 500 })) {
      expect(fingerprint(parseOk(chunks, { mode: 'raw' })), partitionLabel(chunks)).toBe(whole)
    }
  })

  test('only the open fragment is buffered', () => {
    const bytes = readFixture('kvs-getmedia', 'output_get_media.mkv')
    const parser = createGetMediaParser({ mode: 'raw' })
    let most = 0
    for (let offset = 0; offset < bytes.length; offset += 16_384) {
      parser.push(bytes.subarray(offset, offset + 16_384))
      most = Math.max(most, parser.bufferedBytes)
    }
    parser.end()
    // The largest document is 547,925 bytes; at most one chunk more is held.
    expect(most).toBeLessThanOrEqual(547_925 + 16_384)
    expect(parser.bufferedBytes).toBe(0)
  })

  test.each([
    { maxBufferedFragmentBytes: 160_000 },
    // The deprecated name still works.
    { maxFragmentBytes: 160_000 },
  ])(
    'a fragment over maxBufferedFragmentBytes fails with ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE (%o)',
    (limit) => {
      const bytes = readFixture('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')
      const parser = createGetMediaParser({ mode: 'raw', ...limit })
      // Fragment 1 is 150,022 bytes, fragment 2 is 164,548.
      expect(() => {
        for (let offset = 0; offset < bytes.length; offset += 8192)
          parser.push(bytes.subarray(offset, offset + 8192))
      }).toThrow(expect.objectContaining({ code: 'ERR_KVS_GETMEDIA_FRAGMENT_TOO_LARGE', offset: 150_022 }))
    },
  )

  test('maxFragmentBytes (deprecated) and maxBufferedFragmentBytes must not disagree', () => {
    expect(() => createGetMediaParser({ maxBufferedFragmentBytes: 1000, maxFragmentBytes: 2000 })).toThrow(
      new TypeError(
        'maxFragmentBytes must be absent or equal to maxBufferedFragmentBytes (it is a deprecated alias of maxBufferedFragmentBytes), got 2000',
      ),
    )
    expect(() => createGetMediaParser({ maxFragmentBytes: 0 })).toThrow(
      new TypeError('maxFragmentBytes must be a positive integer, got 0'),
    )
    expect(() =>
      createGetMediaParser({ maxBufferedFragmentBytes: 1000, maxFragmentBytes: 1000 }),
    ).not.toThrow()
  })
})

describe.skipIf(!hasTool('mkvinfo') || !hasTool('ffprobe'))('raw fragments in other readers', () => {
  let directory = ''
  beforeAll(async () => {
    directory = await mkdtemp(joinPath(tmpdir(), 'kvs-get-media-'))
  })
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  test.each(['kinesis_video_renderer_example_output.mkv', 'output_get_media.mkv', 'test_mixed_tags.mkv'])(
    '%s: each fragment is an MKV file mkvinfo reads cleanly and ffprobe reads its frames from',
    async (name) => {
      const raw = fragments([readFixture('kvs-getmedia', name)])
      await Promise.all(
        raw.map(async (fragment, index) => {
          const path = joinPath(directory, `${name}-${index}.mkv`)
          await writeFile(path, join(fragment.parts))
          const info = await run('mkvinfo', ['-v', path])
          expect(info.code).toBe(0)
          expect(info.stdout).not.toMatch(/Error|Warning|Resync/)
          expect(info.stdout.match(/Simple block: /g)).toHaveLength(fragment.frameCount)
          expect(info.stdout).toContain(`String: ${fragment.fragmentNumber}`)
          const probe = await ffprobeCounts(path)
          expect(probe.packetsPerStream).toEqual([fragment.frameCount])
        }),
      )
    },
  )
})
