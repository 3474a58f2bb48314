import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { chunkAll, fragmentBytes, hex } from './helpers.ts'

const SERVICE = Buffer.from('AWS_KINESISVIDEO_').toString('hex')
/** TagName element id. */
const TAG_NAME = '45a3'

const count = (text: string, part: string): number => text.split(part).length - 1

/** The header and fragment bytes of a run, as one hex string per event. */
function output(chunks: Iterable<Uint8Array>, stripServiceTags: boolean): string[] {
  const run = chunkAll(chunks, { onViolation: 'emit', stripServiceTags })
  expect(run.error).toBeUndefined()
  return run.events.flatMap((event) =>
    event.type === 'header'
      ? [hex(event.bytes)]
      : event.type === 'fragment'
        ? [hex(fragmentBytes(event.parts))]
        : [],
  )
}

describe('stripServiceTags', () => {
  // GetMedia output of a PIC producer: 10 chunks, each with the service's Tags before and after its cluster,
  // and user Tags before Info (chunk 1) and after each cluster.
  const getMediaOutput = readFixture('kvs-getmedia', 'test_mixed_tags.mkv')

  it('drops the Tags of AWS_KINESISVIDEO_* names that GetMedia wrote and keeps the user tags', () => {
    const kept = output([getMediaOutput], false).join('')
    const stripped = output([getMediaOutput], true).join('')
    expect(count(kept, SERVICE)).toBe(50)
    expect(count(stripped, SERVICE)).toBe(0)
    expect(count(stripped, TAG_NAME)).toBe(count(kept, TAG_NAME) - count(kept, SERVICE))
  })

  it('gives the same output when the input comes one byte at a time', () => {
    const bytes = Array.from(getMediaOutput, (_, index) => getMediaOutput.subarray(index, index + 1))
    expect(output(bytes, true)).toEqual(output([getMediaOutput], true))
  })

  it('keeps the cluster bytes as views of the input', () => {
    const run = chunkAll([getMediaOutput], { onViolation: 'emit', stripServiceTags: true })
    const fragment = run.events.find((event) => event.type === 'fragment')
    expect(fragment?.type === 'fragment' && fragment.parts[0]!.buffer).toBe(getMediaOutput.buffer)
  })

  it('rejects a non-boolean', () => {
    expect(() => chunkAll([], { stripServiceTags: 'yes' as never })).toThrow(
      'stripServiceTags must be a boolean, got "yes"',
    )
  })
})
