import { ChunkerError } from '@kvs-streams/chunker'
import { ProducerError } from '@kvs-streams/producer'
import {
  AWS_EXCEPTION_CATEGORIES,
  type ErrorCategory,
  KvsConnectionError,
  KvsHttpError,
} from '@kvs-streams/transport'
import { describe, expect, it } from 'vitest'
import { adviseAckError } from '../src/ack-advice.ts'
import { ExitCode } from '../src/exit-codes.ts'
import { explainError } from '../src/explain-error.ts'

const context = { region: 'us-west-2', streamName: 'cam-1', command: 'put' }
const sdkError = (name: string, message: string, status: number) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, requestId: 'req-1' } })

describe('explainError', () => {
  it('words the typed transport error the same as the AWS SDK exception', () => {
    const fromSdk = explainError(sdkError('ResourceNotFoundException', 'not found', 404), context)
    const fromTransport = explainError(
      new KvsHttpError('not found', {
        status: 404,
        errorType: 'ResourceNotFoundException',
        requestId: 'req-1',
      }),
      context,
    )
    expect(fromTransport).toEqual(fromSdk)
    expect(fromSdk.exitCode).toBe(ExitCode.Service)
    expect(fromSdk.hints).toContain('or let kvs put create it: kvs put cam-1 --create ...')
  })

  it.each([
    [
      'InvalidEndpointException',
      400,
      /data endpoint does not serve this stream/,
      /--region must be the stream's region/,
    ],
    ['NotAuthorizedException', 401, /^Not authorized: /, /aws sts get-caller-identity/],
    [
      'UnrecognizedClientException',
      400,
      /not recognised \(region us-west-2\)/,
      /not enabled for your account/,
    ],
    ['ClientLimitExceededException', 400, /^Throttled/, /3 GetMedia readers/],
    ['ExpiredTokenException', 403, /expired/, /aws sso login/],
  ])('%s gets its own message and advice', (name, status, message, hint) => {
    const explained = explainError(sdkError(name, 'from the service', status), context)
    expect(explained.message).toMatch(message)
    expect(explained.hints.join('\n')).toMatch(hint)
    expect(explained.exitCode).toBe(ExitCode.Service)
  })

  /** What each category of the transport's exception table is worded as, when no name has its own advice. */
  const WORDING: Record<ErrorCategory, RegExp> = {
    retry: /^(Throttled by the service: |\w+: from the service$|from the service$)/,
    'refresh-credentials': /^The credentials or the request have expired: /,
    'new-endpoint': /^The data endpoint does not serve this stream: /,
    'fatal-not-found': /^Stream "cam-1" was not found/,
    'fatal-auth':
      /^(Not authorized: |The request signature does not match: |The access key id or security token is not recognised)/,
    'fatal-rejected': /^(The service rejected the request: |Too many streams in this account: )/,
  }

  it.each(Object.entries(AWS_EXCEPTION_CATEGORIES))(
    '%s is worded by its category in the transport table (%s)',
    (name, category) => {
      const explained = explainError(sdkError(name, 'from the service', 400), context)
      expect(explained.message).toMatch(WORDING[category])
      expect(explained).toMatchObject({ exitCode: ExitCode.Service, name, requestId: 'req-1' })
    },
  )

  it('advises running again after a transient service failure, and words unknown names as they come', () => {
    expect(explainError(sdkError('InternalFailure', 'oops', 500), context)).toMatchObject({
      message: 'InternalFailure: oops',
      hints: ['A transient failure of the service: run the command again.', 'Request id: req-1'],
    })
    expect(explainError(sdkError('InvalidDeviceException', 'bad device', 400), context).message).toBe(
      'The service rejected the request: bad device',
    )
    expect(explainError(sdkError('BrandNewException', 'new', 400), context)).toMatchObject({
      message: 'BrandNewException: new',
      hints: ['Request id: req-1'],
    })
  })

  it('explains the last failure when the producer gave up', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 9,
    })
    const error = new ProducerError('ERR_KVS_PRODUCER_TOO_MANY_FAILURES', '5 failures', {
      attempts: 5,
      cause: new KvsConnectionError('Connection failed', { cause: refused }),
    })
    const explained = explainError(error, {
      ...context,
      endpoint: { value: 'http://127.0.0.1:9', source: 'AWS_ENDPOINT_URL' },
    })
    expect(explained.message).toBe(
      'Gave up after 5 failed attempts. Could not connect to 127.0.0.1:9: connection refused.',
    )
    expect(explained.hints[0]).toBe(
      'The endpoint http://127.0.0.1:9 comes from AWS_ENDPOINT_URL. Is the emulator running there?',
    )
    expect(explained.exitCode).toBe(ExitCode.Other)
  })

  it('explains a service refusal wrapped by the producer', () => {
    const error = new ProducerError('ERR_KVS_PRODUCER_NOT_AUTHORIZED', 'not authorized', {
      cause: sdkError(
        'AccessDeniedException',
        'User x is not authorized to perform kinesisvideo:PutMedia',
        403,
      ),
    })
    expect(explainError(error, context).message).toBe(
      'Not authorized: User x is not authorized to perform kinesisvideo:PutMedia',
    )
  })

  it('reports input the chunker refused as rejected media with the ErrorId advice', () => {
    const error = new ProducerError('ERR_KVS_PRODUCER_INVALID_INPUT', 'bad input', {
      cause: new ChunkerError('ERR_KVS_CHUNKER_VIOLATION', 'fragment 3 lasts 12000 ms', {
        offset: 99,
        errorId: 4002,
      }),
    })
    const explained = explainError(error, context)
    expect(explained.exitCode).toBe(ExitCode.MediaRejected)
    expect(explained.message).toContain('ERROR 4002 MAX_FRAGMENT_DURATION_REACHED')
    expect(explained.hints.join(' ')).toContain('-cluster_time_limit')
  })

  it.each([4001, 4002, 4004, 4006, 4010, 4011])('has specific advice for ERROR %i', (errorId) => {
    const advice = adviseAckError(errorId)
    expect(advice.meaning).not.toMatch(/Unknown/)
    expect(advice.advice.join(' ')).not.toMatch(/run the command again|fix the input first/)
  })

  it('falls back to the retry class for ids without specific advice', () => {
    expect(adviseAckError(4999).advice[0]).toMatch(/transient/)
    expect(adviseAckError(4505).advice[0]).toMatch(/KMS key/)
  })
})
