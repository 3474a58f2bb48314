import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { createRepackager, type RepackagerEvent } from '../src/index.ts'

const SERVICE = Buffer.from('AWS_KINESISVIDEO_')

/** Every output byte of `input` repackaged with `options`, and the fragment count. */
function run(input: Uint8Array, stripServiceTags: boolean) {
  const repackager = createRepackager({ stripServiceTags, rebaseTimecodes: true, onViolation: 'emit' })
  const events: RepackagerEvent[] = [...repackager.push(input), ...repackager.end()]
  const parts: Uint8Array[] = []
  for (const event of events) {
    if (event.type === 'header') parts.push(event.bytes)
    else if (event.type === 'fragment') parts.push(...event.parts)
  }
  return {
    bytes: Buffer.concat(parts),
    fragments: events.filter((event) => event.type === 'fragment').length,
  }
}

describe('stripServiceTags', () => {
  // GetMedia output: per fragment an EBML document whose header and trailing Tags are the service's.
  it.each(['output_get_media.mkv', 'kinesis_video_renderer_example_output.mkv', 'test_mixed_tags.mkv'])(
    'leaves out the Tags of GetMedia output (%s) that hold only AWS_KINESISVIDEO_* tags, and nothing else',
    (name) => {
      const input = readFixture(`kvs-getmedia/${name}`)
      expect(Buffer.from(input).includes(SERVICE)).toBe(true)
      const kept = run(input, false)
      const stripped = run(input, true)
      expect(kept.bytes.includes(SERVICE)).toBe(true)
      expect(stripped.bytes.includes(SERVICE)).toBe(false)
      expect(stripped.fragments).toBe(kept.fragments)
      expect(stripped.fragments).toBeGreaterThan(0)
      // Only the service's Tags went: the producer's own (test_mixed_tags.mkv's testTag_0…4) stay.
      for (let index = 0; index < 5; index++) {
        const tag = Buffer.from(`testTag_${index}`)
        expect(stripped.bytes.includes(tag)).toBe(Buffer.from(input).includes(tag))
      }
    },
  )
})
