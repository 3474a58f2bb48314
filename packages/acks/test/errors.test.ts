import { describe, expect, it } from 'vitest'
import { AckObjectTooLargeError, AckServiceError, AckSyntaxError, AckTruncatedError } from '../src/index.ts'

const brand = Symbol.for('kvs-streams.acks-error')

describe('error classes', () => {
  const cause = new Error('underlying')
  const samples = [
    {
      error: new AckTruncatedError(10, 3, { cause }),
      type: AckTruncatedError,
      name: 'AckTruncatedError',
      code: 'ERR_KVS_ACK_TRUNCATED',
    },
    {
      error: new AckSyntaxError('Bad byte', 10, { cause }),
      type: AckSyntaxError,
      name: 'AckSyntaxError',
      code: 'ERR_KVS_ACK_SYNTAX',
    },
    {
      error: new AckObjectTooLargeError(10, 64, { cause }),
      type: AckObjectTooLargeError,
      name: 'AckObjectTooLargeError',
      code: 'ERR_KVS_ACK_TOO_LARGE',
    },
    {
      error: new AckServiceError('Token expired', {
        offset: 10,
        raw: { message: 'Token expired' },
        serviceMessage: 'Token expired',
        cause,
      }),
      type: AckServiceError,
      name: 'AckServiceError',
      code: 'ERR_KVS_ACK_SERVICE_ERROR',
    },
  ] as const

  it.each(samples)(
    '$name has a stable name and code, the byte offset and the cause',
    ({ error, name, code }) => {
      expect(error).toBeInstanceOf(Error)
      expect(error.name).toBe(name)
      expect(error.code).toBe(code)
      expect(error.offset).toBe(10)
      expect(error.cause).toBe(cause)
    },
  )

  it.each(samples)(
    '$name.is() recognises its own errors only, also from another copy of the package',
    ({ error, type, code }) => {
      expect(type.is(error)).toBe(true)
      for (const other of samples) if (other.type !== type) expect(type.is(other.error)).toBe(false)
      expect(type.is(new Error('plain'))).toBe(false)
      expect(type.is(null)).toBe(false)
      expect(type.is('ERR_KVS_ACK_SYNTAX')).toBe(false)
      const foreign = Object.assign(new Error('from a duplicate install'), { [brand]: code })
      expect(type.is(foreign)).toBe(true)
    },
  )

  it('puts the byte offset in the messages', () => {
    expect(new AckSyntaxError('Unexpected byte', 42).message).toBe('Unexpected byte (at byte 42)')
    expect(new AckTruncatedError(5, 7).message).toBe(
      'Acknowledgement stream ended inside an object (7 bytes from byte 5 have no closing brace)',
    )
    expect(new AckObjectTooLargeError(0, 65536).message).toBe(
      'Acknowledgement object at byte 0 is larger than 65536 bytes',
    )
  })

  it('keeps the raw object, the service message and the error type on AckServiceError', () => {
    const raw = {
      Output: { __type: 'com.amazon.coral.service#SerializationException', Message: null },
      Version: '1.0',
    }
    const error = new AckServiceError('com.amazon.coral.service#SerializationException', {
      offset: 0,
      raw,
      errorType: 'com.amazon.coral.service#SerializationException',
    })
    expect(error.raw).toBe(raw)
    expect(error.serviceMessage).toBeUndefined()
    expect(error.errorType).toBe('com.amazon.coral.service#SerializationException')
    expect(error.cause).toBeUndefined()
  })
})
