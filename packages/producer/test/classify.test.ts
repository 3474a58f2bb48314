import { KvsConnectionError, KvsHttpError, KvsTimeoutError } from '@kvs-streams/transport'
import { describe, expect, test } from 'vitest'
import { classifyFailure, classifyReconcileFailure, decideErrorAck } from '../src/classify.ts'
import { ProducerError } from '../src/index.ts'

const socketError = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })

const http = (status: number, errorType?: string) =>
  new KvsHttpError(`HTTP ${status}`, { status, errorType, requestId: 'request-1' })

describe('decideErrorAck', () => {
  test.each([
    [5000, 'resend'],
    [5001, 'resend'],
    [4000, 'resend'],
    [4003, 'resend'],
    [7777, 'resend'],
    [4001, 'skip'],
    [4002, 'skip'],
    [4004, 'skip'],
    [4006, 'skip'],
    [4010, 'skip'],
    [4500, 'skip'],
    [4008, 'retry'],
    [4507, 'retry'],
  ] as const)('ErrorId %i naming a fragment sent in the session: %s', (errorId, decision) => {
    expect(decideErrorAck(errorId, true)).toBe(decision)
  })

  test('an ERROR that names no fragment of the session skips nothing: reconnect', () => {
    for (const errorId of [4002, 4003, 4006, 5000, undefined])
      expect(decideErrorAck(errorId, false)).toBe('retry')
  })
})

describe('classifyFailure', () => {
  test.each([
    ['a dropped connection', new KvsConnectionError('reset'), true, false],
    ['a connect timeout', new KvsTimeoutError('ERR_KVS_CONNECT_TIMEOUT', 'slow', 5000), true, false],
    ['a stale connection', new KvsTimeoutError('ERR_KVS_ACK_STALE', 'stale', 10_000), false, false],
    ['throttling', http(400, 'ClientLimitExceededException'), false, false],
    ['too many connections', http(400, 'ConnectionLimitExceededException'), false, false],
    ['a moved endpoint', http(400, 'InvalidEndpointException'), true, false],
    ['an expired token', http(403, 'ExpiredTokenException'), false, true],
    ['an expired signature', http(400, 'RequestExpired'), false, true],
    ['an empty 400 (not the service answering)', http(400), false, false],
    [
      'a TypeError wrapping a socket error',
      new TypeError('fetch failed', { cause: socketError }),
      false,
      false,
    ],
    ['a server error', http(500, 'InternalFailure'), false, false],
    [
      'an ERROR ack',
      new ProducerError('ERR_KVS_PRODUCER_ERROR_ACK', 'ERROR 5000', { errorId: 5000 }),
      false,
      false,
    ],
    ['anything unknown', new Error('???'), false, false],
  ])('retries after %s', (_name, error, invalidateEndpoint, refreshCredentials) => {
    expect(classifyFailure(error, 'PutMedia')).toEqual({
      kind: 'retry',
      invalidateEndpoint,
      refreshCredentials,
    })
  })

  test.each([
    [
      'ResourceNotFoundException',
      http(404, 'ResourceNotFoundException'),
      'ERR_KVS_PRODUCER_STREAM_NOT_FOUND',
    ],
    ['a bare 404', http(404), 'ERR_KVS_PRODUCER_STREAM_NOT_FOUND'],
    ['NotAuthorizedException', http(401, 'NotAuthorizedException'), 'ERR_KVS_PRODUCER_NOT_AUTHORIZED'],
    ['a bad signature', http(403, 'InvalidSignatureException'), 'ERR_KVS_PRODUCER_NOT_AUTHORIZED'],
    ['an unknown key', http(403, 'UnrecognizedClientException'), 'ERR_KVS_PRODUCER_NOT_AUTHORIZED'],
    ['a bare 403', http(403), 'ERR_KVS_PRODUCER_NOT_AUTHORIZED'],
    ['InvalidArgumentException', http(400, 'InvalidArgumentException'), 'ERR_KVS_PRODUCER_REQUEST_REJECTED'],
    ['an exception the table does not know', http(400, 'NewException'), 'ERR_KVS_PRODUCER_REQUEST_REJECTED'],
  ])('is fatal for %s, with status and request id', (_name, error, code) => {
    const decision = classifyFailure(error, 'PutMedia')
    expect(decision.kind).toBe('fatal')
    if (decision.kind !== 'fatal') return
    expect(decision.error).toMatchObject({ code, status: error.status, requestId: 'request-1', cause: error })
    expect(decision.error.message).toMatch(/^PutMedia: /)
  })

  test('a bad argument is fatal, with its own message', () => {
    const decision = classifyFailure(new TypeError('endpoint must be a URL'), 'PutMedia')
    expect(decision).toMatchObject({
      kind: 'fatal',
      error: {
        code: 'ERR_KVS_PRODUCER_REQUEST_REJECTED',
        message: 'PutMedia: TypeError: endpoint must be a URL',
      },
    })
  })

  test('retries an expired token from the AWS SDK too', () => {
    const sdkError = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredTokenException',
      $metadata: { httpStatusCode: 403, requestId: 'sdk-2' },
    })
    expect(classifyFailure(sdkError, 'DescribeStream')).toEqual({
      kind: 'retry',
      invalidateEndpoint: false,
      refreshCredentials: true,
    })
  })

  test('reads AWS SDK errors (DescribeStream) by name and $metadata', () => {
    const sdkError = Object.assign(new Error('Stream not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404, requestId: 'sdk-1' },
    })
    const decision = classifyFailure(sdkError, 'DescribeStream')
    expect(decision).toMatchObject({
      kind: 'fatal',
      error: { code: 'ERR_KVS_PRODUCER_STREAM_NOT_FOUND', requestId: 'sdk-1' },
    })
  })
})

describe('classifyReconcileFailure', () => {
  test('a refusal asking again cannot change is resent unchecked; anything without an answer is retried', () => {
    expect(classifyReconcileFailure(http(400, 'UnknownOperationException'))).toBe('unchecked')
    expect(classifyReconcileFailure(http(403, 'AccessDeniedException'))).toBe('unchecked')
    expect(classifyReconcileFailure(http(401, 'NotAuthorizedException'))).toBe('unchecked')
    expect(classifyReconcileFailure(http(400, 'SerializationException'))).toBe('unchecked')
    expect(classifyReconcileFailure(http(403))).toBe('unchecked')
    expect(classifyReconcileFailure(http(400, 'ClientLimitExceededException'))).toBe('retry')
    expect(classifyReconcileFailure(http(403, 'ExpiredTokenException'))).toBe('retry')
    expect(classifyReconcileFailure(http(404, 'ResourceNotFoundException'))).toBe('retry')
    expect(classifyReconcileFailure(http(408))).toBe('retry')
    expect(classifyReconcileFailure(http(503))).toBe('retry')
    expect(classifyReconcileFailure(new KvsConnectionError('reset'))).toBe('retry')
    expect(classifyReconcileFailure(new Error('socket hang up'))).toBe('retry')
    expect(classifyReconcileFailure(new TypeError('not an answer'))).toBe('retry')
    expect(classifyReconcileFailure(http(400, 'NewException'))).toBe('unchecked')
  })
})
