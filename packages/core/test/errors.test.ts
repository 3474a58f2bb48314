import { describe, expect, it } from 'vitest'
import { defineErrorFamily } from '../src/index.ts'

type DemoCode = 'ERR_DEMO_ONE' | 'ERR_DEMO_TWO'
const brand = Symbol.for('kvs-streams.core-test-error')
const family = defineErrorFamily<DemoCode>(brand)

class DemoError extends Error {
  override name = 'DemoError'
  readonly code: DemoCode
  constructor(code: DemoCode, options?: { cause?: unknown }) {
    super(code, family.superOptions(options))
    this.code = code
  }
  get [brand](): DemoCode {
    return this.code
  }
  static is(value: unknown): value is DemoError {
    return family.is(value)
  }
}

describe('defineErrorFamily', () => {
  it('brands with a registered symbol, so guards work across copies of a package', () => {
    expect(family.brand).toBe(brand)
    const copy = defineErrorFamily<DemoCode>(Symbol.for('kvs-streams.core-test-error'))
    expect(copy.is(new DemoError('ERR_DEMO_ONE'))).toBe(true)
    expect(defineErrorFamily(Symbol.for('kvs-streams.other-error')).is(new DemoError('ERR_DEMO_ONE'))).toBe(
      false,
    )
  })

  it('is() tells members, and members by code, from anything else', () => {
    const error = new DemoError('ERR_DEMO_TWO')
    expect(DemoError.is(error)).toBe(true)
    expect(family.is(error, 'ERR_DEMO_TWO')).toBe(true)
    expect(family.is(error, 'ERR_DEMO_ONE')).toBe(false)
    expect(family.is(error, 'ERR_DEMO_ONE', 'ERR_DEMO_TWO')).toBe(true)
    for (const value of [
      new Error('ERR_DEMO_TWO'),
      { code: 'ERR_DEMO_TWO' },
      null,
      undefined,
      'ERR_DEMO_TWO',
    ]) {
      expect(family.is(value)).toBe(false)
    }
  })

  it('counts an error branded `true` (no code) as a member, but of no particular code', () => {
    const legacy = { [family.brand]: true }
    expect(family.is(legacy)).toBe(true)
    expect(family.is(legacy, 'ERR_DEMO_ONE')).toBe(false)
  })

  it('sets cause only when one is given', () => {
    const cause = new Error('root')
    expect(new DemoError('ERR_DEMO_ONE', { cause }).cause).toBe(cause)
    expect('cause' in new DemoError('ERR_DEMO_ONE')).toBe(false)
    expect('cause' in new DemoError('ERR_DEMO_ONE', { cause: undefined })).toBe(false)
  })
})
