import { createEbmlReader, ElementId, readString } from '@kvs-streams/ebml'
import { describe, expect, test } from 'vitest'
import { FragmentMetadataQueue } from '../src/fragment-metadata.ts'
import {
  checkFragmentMetadata,
  FRAGMENT_METADATA_LIMITS,
  FragmentMetadataError,
  type FragmentMetadataErrorCode,
  type FragmentMetadataTag,
} from '../src/index.ts'

/** The SimpleTags of a level-1 Tags element, read back with the EBML reader. */
function readTags(bytes: Uint8Array): FragmentMetadataTag[] {
  const reader = createEbmlReader({
    dataMode: (id) => (id === ElementId.TagName || id === ElementId.TagString ? 'data' : 'skip'),
  })
  const tags: { name: string; value: string }[] = []
  const events = [...reader.push(bytes), ...reader.end()]
  expect(events[0]).toMatchObject({ type: 'element-start', id: ElementId.Tags, depth: 0 })
  expect(events.at(-1)).toMatchObject({ type: 'element-end', id: ElementId.Tags, end: bytes.length })
  for (const event of events) {
    if (event.type === 'element-start' && event.id === ElementId.SimpleTag) tags.push({ name: '', value: '' })
    if (event.type !== 'element') continue
    if (event.id === ElementId.TagName) tags.at(-1)!.name = readString(event.data)
    if (event.id === ElementId.TagString) tags.at(-1)!.value = readString(event.data)
  }
  return tags
}

function refusal(put: () => void): FragmentMetadataError {
  try {
    put()
  } catch (error) {
    if (FragmentMetadataError.is(error)) return error
    throw error
  }
  throw new Error('the tag was accepted')
}

const tag = (name: string, value: string): FragmentMetadataTag => ({ name, value })

describe('fragment metadata limits', () => {
  const cases: {
    name: string
    tag: [string, string]
    code: FragmentMetadataErrorCode
    errorId: number | undefined
    limit?: number
    actual?: number
  }[] = [
    {
      name: 'an empty name',
      tag: ['', 'x'],
      code: 'ERR_KVS_PRODUCER_METADATA_NAME_EMPTY',
      errorId: undefined,
      limit: 1,
      actual: 0,
    },
    {
      name: 'a name of 129 ASCII bytes',
      tag: ['n'.repeat(129), 'x'],
      code: 'ERR_KVS_PRODUCER_METADATA_NAME_TOO_LONG',
      errorId: 4009,
      limit: 128,
      actual: 129,
    },
    {
      name: 'a name of 43 characters that take 129 bytes in UTF-8',
      tag: ['€'.repeat(43), 'x'],
      code: 'ERR_KVS_PRODUCER_METADATA_NAME_TOO_LONG',
      errorId: 4009,
      limit: 128,
      actual: 129,
    },
    {
      name: 'a value of 257 bytes',
      tag: ['name', 'v'.repeat(257)],
      code: 'ERR_KVS_PRODUCER_METADATA_VALUE_TOO_LONG',
      errorId: 4009,
      limit: 256,
      actual: 257,
    },
    {
      name: 'a value of 65 emoji (260 bytes in UTF-8, 130 UTF-16 units)',
      tag: ['name', '😀'.repeat(65)],
      code: 'ERR_KVS_PRODUCER_METADATA_VALUE_TOO_LONG',
      errorId: 4009,
      limit: 256,
      actual: 260,
    },
    {
      name: 'a name starting with AWS',
      tag: ['AWS_KINESISVIDEO_END_OF_FRAGMENT', ''],
      code: 'ERR_KVS_PRODUCER_METADATA_NAME_RESERVED',
      errorId: 4009,
    },
    {
      name: 'a name that is just AWS',
      tag: ['AWS', 'x'],
      code: 'ERR_KVS_PRODUCER_METADATA_NAME_RESERVED',
      errorId: 4009,
    },
  ]

  test.each(cases)('$name is refused with $code, and nothing is queued', (spec) => {
    const queue = new FragmentMetadataQueue()
    queue.put('kept', 'yes')
    for (const persistent of [false, true]) {
      const error = refusal(() => queue.put(spec.tag[0], spec.tag[1], { persistent }))
      expect(error).toBeInstanceOf(FragmentMetadataError)
      expect(error).toMatchObject({
        name: 'FragmentMetadataError',
        code: spec.code,
        errorId: spec.errorId,
        tagName: spec.tag[0],
        limit: spec.limit,
        actual: spec.actual,
      })
      expect(checkFragmentMetadata(spec.tag[0], spec.tag[1])).toMatchObject({ code: spec.code })
    }
    expect(queue.size).toBe(1)
    expect(queue.take()?.tags).toEqual([tag('kept', 'yes')])
  })

  test('the largest accepted name and value: 128 and 256 bytes in UTF-8, and an empty value', () => {
    const queue = new FragmentMetadataQueue()
    const name = `${'€'.repeat(42)}nn` // 128 bytes
    const value = '😀'.repeat(64) // 256 bytes
    queue.put(name, value)
    queue.put('n'.repeat(128), 'v'.repeat(256))
    queue.put('empty', '')
    // The prefix check is case-sensitive, as PIC's STRNCMP (and the emulator's) is.
    queue.put('aws_lower', 'x')
    queue.put('Aws', 'x')
    queue.put('xAWS', 'x')
    const taken = queue.take()!
    expect(taken.tags).toEqual([
      tag(name, value),
      tag('n'.repeat(128), 'v'.repeat(256)),
      tag('empty', ''),
      tag('aws_lower', 'x'),
      tag('Aws', 'x'),
      tag('xAWS', 'x'),
    ])
    expect(readTags(taken.bytes)).toEqual(taken.tags)
    expect(FRAGMENT_METADATA_LIMITS).toEqual({
      maxTags: 10,
      maxNameBytes: 128,
      maxValueBytes: 256,
      reservedPrefix: 'AWS',
    })
  })

  test('at most 10 tags per fragment, persistent ones included; an 11th is refused', () => {
    const queue = new FragmentMetadataQueue()
    for (let i = 0; i < 4; i++) queue.put(`p${i}`, 'v', { persistent: true })
    for (let i = 0; i < 6; i++) queue.put(`o${i}`, 'v')
    for (const persistent of [false, true]) {
      expect(refusal(() => queue.put('eleventh', 'v', { persistent }))).toMatchObject({
        code: 'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
        errorId: 4009,
        tagName: 'eleventh',
        limit: 10,
        actual: 11,
      })
    }
    // Replacing a persistent tag adds none.
    queue.put('p1', 'new', { persistent: true })
    expect(queue.take()?.tags).toHaveLength(10)
    // The one-shot tags left; the 4 persistent ones stay, so 6 more fit, not 7.
    for (let i = 0; i < 6; i++) queue.put(`again${i}`, 'v')
    expect(refusal(() => queue.put('again6', 'v')).code).toBe('ERR_KVS_PRODUCER_METADATA_TOO_MANY')
    // Removing a persistent tag frees its place.
    queue.put('p0', '', { persistent: true })
    queue.put('again6', 'v')
    expect(queue.take()?.tags).toHaveLength(10)
  })

  test('arguments of the wrong type throw TypeError with the option message pattern', () => {
    const queue = new FragmentMetadataQueue()
    const put = queue.put.bind(queue) as (name: unknown, value: unknown, options?: unknown) => void
    expect(() => put(1, 'v')).toThrow(new TypeError('name must be a string, got 1'))
    expect(() => put('n', undefined)).toThrow(new TypeError('value must be a string, got undefined'))
    expect(() => put('n', 'v', null)).toThrow(new TypeError('options must be an object, got null'))
    expect(() => put('n', 'v', { persistent: 'yes' })).toThrow(
      new TypeError('persistent must be a boolean, got "yes"'),
    )
    expect(queue.size).toBe(0)
  })
})

describe('FragmentMetadataQueue (PIC semantics)', () => {
  test('one-shot tags go with the next fragment only; persistent ones with every fragment until removed', () => {
    const queue = new FragmentMetadataQueue()
    expect(queue.take()).toBeUndefined()
    queue.put('site', 'north', { persistent: true })
    queue.put('motion', 'yes')
    queue.put('motion', 'again') // one-shot names may repeat
    expect(queue.take()?.tags).toEqual([tag('site', 'north'), tag('motion', 'yes'), tag('motion', 'again')])
    expect(queue.take()?.tags).toEqual([tag('site', 'north')])
    // A new value replaces the persistent tag, which moves behind the tags put before it (PIC's queue order).
    queue.put('index', '2')
    queue.put('lens', 'wide', { persistent: true })
    queue.put('site', 'south', { persistent: true })
    expect(queue.take()?.tags).toEqual([tag('index', '2'), tag('lens', 'wide'), tag('site', 'south')])
    expect(queue.take()?.tags).toEqual([tag('lens', 'wide'), tag('site', 'south')])
    // An empty value removes a persistent tag, and queues nothing; removing one that is not there is no error.
    queue.put('site', '', { persistent: true })
    queue.put('never-set', '', { persistent: true })
    expect(queue.take()?.tags).toEqual([tag('lens', 'wide')])
    // A one-shot tag with the same name as a persistent one is sent beside it; an empty one-shot value is sent.
    queue.put('lens', 'zoom')
    queue.put('flag', '')
    expect(queue.take()?.tags).toEqual([tag('lens', 'wide'), tag('lens', 'zoom'), tag('flag', '')])
    queue.put('lens', '', { persistent: true })
    expect(queue.take()).toBeUndefined()
    expect(queue.size).toBe(0)
  })

  test('take() gives the tags as one Tags element that reads back to the same tags', () => {
    const queue = new FragmentMetadataQueue()
    const tags = [tag('a', '1'), tag('b', 'ü€😀'), tag('c', '')]
    for (const { name, value } of tags) queue.put(name, value)
    const taken = queue.take()!
    expect(taken.tags).toEqual(tags)
    expect(readTags(taken.bytes)).toEqual(tags)
  })

  test('FragmentMetadataError.is recognises the errors across copies of the package', () => {
    const error = checkFragmentMetadata('AWSX', 'v')!
    expect(FragmentMetadataError.is(error)).toBe(true)
    expect(FragmentMetadataError.is({ [Symbol.for('kvs-streams.producer-metadata-error')]: 'x' })).toBe(true)
    expect(FragmentMetadataError.is(new Error('no'))).toBe(false)
    expect(FragmentMetadataError.is(null)).toBe(false)
    expect(checkFragmentMetadata('ok', 'v')).toBeUndefined()
  })
})
