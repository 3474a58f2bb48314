import { describe, expect, it } from 'vitest'
import { createEbmlReader, EbmlError } from '../src/index.ts'
import { thrown } from './helpers.ts'

describe('EbmlError', () => {
  it('is an Error with a name, a stable code, the offset and the element id', () => {
    const error = thrown(() => createEbmlReader().push(Uint8Array.of(0xec, 0xff)))
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(EbmlError)
    expect(error).toMatchObject({
      name: 'EbmlError',
      code: 'ERR_KVS_EBML_INVALID_UNKNOWN_SIZE',
      offset: 0,
      elementId: 0xec,
      message: 'leaf element 0xec has the unknown size (at byte 0)',
    })
  })

  it('keeps a cause', () => {
    const cause = new Error('inner')
    const error = new EbmlError('ERR_KVS_EBML_TRUNCATED', 'outer', { offset: 7, cause })
    expect(error.cause).toBe(cause)
    expect(error.elementId).toBeUndefined()
    expect(error).not.toHaveProperty('events')
    expect(error.message).toBe('outer (at byte 7)')
  })

  it('is recognised by EbmlError.is, also when it comes from another copy of the package', () => {
    expect(EbmlError.is(new EbmlError('ERR_KVS_EBML_OVERRUN', 'x', { offset: 0 }))).toBe(true)
    // What an EbmlError from a duplicate install looks like: another class with the same Symbol.for brand.
    const foreign = new (class extends Error {
      get [Symbol.for('kvs-streams.ebml-error')]() {
        return true
      }
    })()
    expect(foreign instanceof EbmlError).toBe(false)
    expect(EbmlError.is(foreign)).toBe(true)
  })

  it.each([
    new Error('x'),
    new TypeError('x'),
    null,
    undefined,
    'ERR_KVS_EBML_OVERRUN',
    { code: 'ERR_KVS_EBML_OVERRUN' },
  ])('is not claimed by EbmlError.is for %s', (value) => {
    expect(EbmlError.is(value)).toBe(false)
  })
})

describe('reader misuse', () => {
  it('returns nothing from a second end()', () => {
    const reader = createEbmlReader()
    reader.push(Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0xff))
    expect(reader.end()).toHaveLength(1)
    expect(reader.end()).toEqual([])
  })

  it('rejects push() after end()', () => {
    const reader = createEbmlReader()
    reader.end()
    expect(() => reader.push(Uint8Array.of(0xec, 0x80))).toThrow('push() after end()')
  })
})
