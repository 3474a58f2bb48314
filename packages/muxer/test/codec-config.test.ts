// CodecPrivate built from the parameter sets, against what ffmpeg writes for the same streams.
import { createClusterChunker, type HeaderEvent } from '@kvs-streams/chunker'
import { run } from '@kvs-streams/test-utils'
import { afterAll, expect, describe as group, it } from 'vitest'
import { parseH264Sps } from '../src/h264.ts'
import type { VideoConfigEvent } from '../src/index.ts'
import { annexbFixture, parseAll, splitNalUnits, tempFolder, VIDEO_FIXTURES } from './helpers.ts'

const folder = tempFolder()
afterAll(() => folder.cleanup())

/** ffmpeg's CodecPrivate for a raw stream: its Matroska muxer's, over the first frame. */
async function ffmpegCodecPrivate(file: string): Promise<Uint8Array> {
  const input = folder.path(file, annexbFixture(file))
  const output = folder.path(`${file}.ffmpeg.mkv`)
  // setts gives the packets the timestamps raw Annex-B lacks (ffmpeg's Matroska muxer refuses them otherwise).
  const args = [
    '-v',
    'error',
    '-y',
    '-i',
    input,
    '-c',
    'copy',
    '-bsf:v',
    'setts=ts=N',
    '-frames:v',
    '1',
    '-f',
    'matroska',
    output,
  ]
  const result = await run('ffmpeg', args)
  if (result.code !== 0) throw new Error(result.stderr)
  const { readFileSync } = await import('node:fs')
  const chunker = createClusterChunker({ onViolation: 'emit' })
  const header = chunker.push(readFileSync(output)).find((event) => event.type === 'header') as HeaderEvent
  return header.tracks[0]!.codecPrivate!
}

/** The parameter sets of an avcC or hvcC record, their trailing zero bytes removed, and the bytes before them. */
function parseRecord(record: Uint8Array, codec: 'h264' | 'h265') {
  const sets: string[] = []
  const trim = (nal: Uint8Array) => {
    let end = nal.length
    while (end > 0 && nal[end - 1] === 0) end--
    return Buffer.from(nal.subarray(0, end)).toString('hex')
  }
  if (codec === 'h264') {
    let at = 6
    for (let count = record[5]! & 0x1f; count > 0; count--) {
      const length = (record[at]! << 8) | record[at + 1]!
      sets.push(trim(record.subarray(at + 2, at + 2 + length)))
      at += 2 + length
    }
    for (let count = record[at++]!; count > 0; count--) {
      const length = (record[at]! << 8) | record[at + 1]!
      sets.push(trim(record.subarray(at + 2, at + 2 + length)))
      at += 2 + length
    }
    return {
      fixed: Buffer.from(record.subarray(0, 5)).toString('hex'),
      sets,
      rest: Buffer.from(record.subarray(at)).toString('hex'),
    }
  }
  let at = 23
  for (let arrays = record[22]!; arrays > 0; arrays--) {
    const type = record[at]! & 0x3f
    const count = (record[at + 1]! << 8) | record[at + 2]!
    at += 3
    for (let i = 0; i < count; i++) {
      const length = (record[at]! << 8) | record[at + 1]!
      sets.push(`${type}:${trim(record.subarray(at + 2, at + 2 + length))}`)
      at += 2 + length
    }
  }
  return { fixed: Buffer.from(record.subarray(0, 22)).toString('hex'), sets, rest: '' }
}

group('CodecPrivate', () => {
  for (const fixture of VIDEO_FIXTURES) {
    it(`matches ffmpeg's for ${fixture.file} (but the parameter sets' trailing zero bytes, which are not NAL unit data)`, async () => {
      const config = parseAll([annexbFixture(fixture.file)], { codec: fixture.codec })
        .events[0] as VideoConfigEvent
      const ours = parseRecord(config.codecPrivate, fixture.codec)
      const theirs = parseRecord(await ffmpegCodecPrivate(fixture.file), fixture.codec)
      expect(ours).toEqual(theirs)
      expect(config.codecPrivate.length).toBeGreaterThan(20)
    })
  }

  it('reads the picture size through the cropping window, and the frame rate from the VUI', () => {
    const sps = splitNalUnits(annexbFixture('ffmpeg-h264-high-bframes.h264')).find(
      (nal) => (nal[0]! & 0x1f) === 7,
    )!
    expect(parseH264Sps(sps)).toMatchObject({
      profileIdc: 100,
      width: 320,
      height: 180,
      frameMbsOnly: true,
      pocType: 0,
      reorderFrames: 2,
      numUnitsInTick: 1,
      timeScale: 50,
    })
  })

  it('reads an SPS whose VUI is cut short, the reorder depth then from the DPB size of its level', () => {
    const sps = splitNalUnits(annexbFixture('ffmpeg-h264-high-bframes.h264')).find(
      (nal) => (nal[0]! & 0x1f) === 7,
    )!
    // Level 1.3: MaxDpbMbs 2376 over 20 × 12 macroblocks is 9 frames.
    expect(parseH264Sps(sps.subarray(0, sps.length - 3))).toMatchObject({
      width: 320,
      height: 180,
      reorderFrames: 9,
      timeScale: 0,
    })
  })
})
