import { describe, expect, it } from 'vitest'
import { toTransportError } from '../src/errors.ts'
import { createHttpError } from '../src/http-error.ts'
import {
  isTransportError,
  KvsAbortError,
  KvsConnectionError,
  KvsHttpError,
  KvsProtocolError,
  KvsTimeoutError,
} from '../src/index.ts'

const encode = (text: string) => new TextEncoder().encode(text)

describe('createHttpError', () => {
  const cases: {
    title: string
    status: number
    headers: Record<string, string>
    body: string
    expected: { name: string; errorType: string | undefined; message: string; requestId: string | undefined }
  }[] = [
    {
      title: 'takes the name from x-amzn-ErrorType before its colon and the message from Message',
      status: 404,
      headers: {
        'x-amzn-errortype': 'ResourceNotFoundException:https://kinesisvideo.amazonaws.com/doc/2017-09-30/',
        'x-amzn-requestid': 'abc',
      },
      body: '{"Message":"The requested stream is not found or not active."}',
      expected: {
        name: 'ResourceNotFoundException',
        errorType: 'ResourceNotFoundException',
        message: 'The requested stream is not found or not active.',
        requestId: 'abc',
      },
    },
    {
      title: 'takes the name from the body __type and the lower-case message',
      status: 403,
      headers: {},
      body: '{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match"}',
      expected: {
        name: 'InvalidSignatureException',
        errorType: 'InvalidSignatureException',
        message: 'The request signature we calculated does not match',
        requestId: undefined,
      },
    },
    {
      title: 'reads the Coral envelope (Output.__type with a namespace)',
      status: 400,
      headers: {},
      body: '{"Output":{"__type":"com.amazon.coral.service#SerializationException","Message":null},"Version":"1.0"}',
      expected: {
        name: 'SerializationException',
        errorType: 'SerializationException',
        message:
          'HTTP 400: {"Output":{"__type":"com.amazon.coral.service#SerializationException","Message":null},"Version":"1.0"}',
        requestId: undefined,
      },
    },
    {
      title: 'takes the name from the body code member',
      status: 400,
      headers: {},
      body: '{"code":"InvalidArgumentException","message":"bad"}',
      expected: {
        name: 'InvalidArgumentException',
        errorType: 'InvalidArgumentException',
        message: 'bad',
        requestId: undefined,
      },
    },
    {
      title: 'falls back to KvsHttpError and the status for a body that is not JSON',
      status: 502,
      headers: {},
      body: '',
      expected: { name: 'KvsHttpError', errorType: undefined, message: 'HTTP 502', requestId: undefined },
    },
  ]
  for (const { title, status, headers, body, expected } of cases) {
    it(title, () => {
      const error = createHttpError(status, headers, encode(body))
      expect(error).toBeInstanceOf(KvsHttpError)
      expect({
        name: error.name,
        errorType: error.errorType,
        message: error.message,
        requestId: error.requestId,
      }).toEqual(expected)
      expect(error.status).toBe(status)
      expect(error.code).toBe('ERR_KVS_HTTP')
      expect(error.body).toBe(body)
    })
  }
})

describe('error classes', () => {
  it('are recognised by their static is() guards, also as plain branded objects from another install', () => {
    const errors = [
      new KvsHttpError('m', { status: 400 }),
      new KvsTimeoutError('ERR_KVS_ACK_STALE', 'm', 1),
      new KvsAbortError(),
      new KvsConnectionError('m'),
      new KvsProtocolError('m'),
    ]
    const guards = [
      KvsHttpError.is,
      KvsTimeoutError.is,
      KvsAbortError.is,
      KvsConnectionError.is,
      KvsProtocolError.is,
    ]
    for (const [index, error] of errors.entries()) {
      expect(guards.map((guard) => guard(error))).toEqual(
        guards.map((_guard, guardIndex) => guardIndex === index),
      )
      expect(isTransportError(error)).toBe(true)
    }
    const foreign = { [Symbol.for('kvs-streams.transport-error')]: 'ERR_KVS_ABORTED' }
    expect(KvsAbortError.is(foreign)).toBe(true)
    expect(KvsAbortError.is(new Error('x'))).toBe(false)
    expect(isTransportError(null)).toBe(false)
  })

  it('map undici and socket errors to typed errors, keeping the original as cause', () => {
    const connectTimeout = Object.assign(new Error('Connect Timeout Error'), {
      code: 'UND_ERR_CONNECT_TIMEOUT',
    })
    expect(toTransportError(connectTimeout, 5000)).toMatchObject({
      code: 'ERR_KVS_CONNECT_TIMEOUT',
      timeoutMs: 5000,
      cause: connectTimeout,
    })
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(toTransportError(refused, 1)).toMatchObject({ code: 'ERR_KVS_CONNECTION', cause: refused })
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
    expect(toTransportError(socket, 1)).toMatchObject({ code: 'ERR_KVS_CONNECTION', cause: socket })
    const aborted = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(toTransportError(aborted, 1)).toMatchObject({ code: 'ERR_KVS_ABORTED', name: 'AbortError' })
    const own = new KvsAbortError()
    expect(toTransportError(own, 1)).toBe(own)
    const unknown = new RangeError('x')
    expect(toTransportError(unknown, 1)).toBe(unknown)
  })
})
