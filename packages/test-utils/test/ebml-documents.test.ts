import { describe, expect, it } from 'vitest'
import { fixturePath, readFixture, splitEbmlDocuments } from '../src/index.ts'

// Offsets from fixtures/generated/EXPECTED.md (byte search, checked by reading each piece with mkvinfo).
const cases: [string, number[]][] = [
  ['output_get_media.mkv', [0, 547925, 1040439, 1523373, 2012579]],
  ['kinesis_video_renderer_example_output.mkv', [0, 150022, 314570, 496677, 665137, 816442, 961972, 1098929]],
  ['test_mixed_tags.mkv', [0, 2618, 4856, 7095, 9334, 11573, 13812, 16051, 18290, 20529]],
  ['clusters.mkv', [0]],
  ['empty-mkv-with-tags.mkv', [0]],
  ['test_tags_empty_cluster.mkv', [0]],
]

describe('splitEbmlDocuments', () => {
  it.each(cases)('cuts %s at each EBML header', (name, offsets) => {
    const bytes = readFixture('kvs-getmedia', name)
    const documents = splitEbmlDocuments(bytes)
    expect(documents.map((document) => document.byteOffset - bytes.byteOffset)).toEqual(offsets)
    expect(documents.reduce((n, document) => n + document.length, 0)).toBe(bytes.length)
  })

  it('keeps a single known-size document whole', () => {
    const bytes = readFixture('generated', 'ffmpeg-h264-aac.mkv')
    const documents = splitEbmlDocuments(bytes)
    expect(documents).toHaveLength(1)
    expect([documents[0]!.byteOffset, documents[0]!.length]).toEqual([bytes.byteOffset, bytes.length])
  })

  it('returns a document truncated by the end of input as it is', () => {
    const bytes = readFixture('kvs-getmedia', 'output_get_media.mkv').subarray(0, 600_000)
    expect(splitEbmlDocuments(bytes).map((document) => document.length)).toEqual([547925, 600_000 - 547925])
  })

  it('throws when the input does not start with an EBML header', () => {
    expect(() => splitEbmlDocuments(Uint8Array.of(0x1f, 0x43, 0xb6, 0x75, 0x80))).toThrow(
      /expected an EBML header/,
    )
  })

  it('resolves fixture paths from the package, not the working directory', () => {
    expect(fixturePath('webm', '5s.webm')).toMatch(/\/fixtures\/webm\/5s\.webm$/)
    expect(() => fixturePath('..', 'package.json')).toThrow(TypeError)
  })
})
