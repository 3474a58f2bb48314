import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Ack,
  AckObjectTooLargeError,
  AckSyntaxError,
  AckTruncatedError,
  createAckDecoder,
  encodeAck,
} from '../src/index.ts'
import { ackArbitrary, cutAt, decodeChunks, expectEveryPartition, type Outcome, utf8 } from './support.ts'
import {
  bufferingC345,
  bufferingCpp981,
  coralEnvelope,
  errorCpp226,
  errorSeqTest,
  historicCamelCase,
  persistedC345,
  persistedCpp981,
  persistedSeqMock,
  receivedCpp1281,
  streamNotFound,
  tokenExpired,
  truncatedSeqTest,
} from './vectors.ts'

const ack = (value: Ack) => ({ type: 'ack', ack: value })

const serviceError = (
  offset: number,
  message: string,
  raw: unknown,
  extra: { serviceMessage?: string; errorType?: string } = {},
) => ({
  type: 'service-error',
  code: 'ERR_KVS_ACK_SERVICE_ERROR',
  message,
  offset,
  serviceMessage: extra.serviceMessage,
  errorType: extra.errorType,
  raw,
})

const cases: { name: string; body: string | Uint8Array; expected: Outcome }[] = [
  {
    name: 'a real BUFFERING ack (cpp #981)',
    body: bufferingCpp981,
    expected: {
      events: [
        ack({
          eventType: 'BUFFERING',
          fragmentTimecode: 1677613819540,
          fragmentNumber: '91343852333182006801812051225829315333083406205',
        }),
      ],
    },
  },
  {
    name: 'a real PERSISTED ack (cpp #981)',
    body: `${persistedCpp981}\n`,
    expected: {
      events: [
        ack({
          eventType: 'PERSISTED',
          fragmentTimecode: 1677613818261,
          fragmentNumber: '91343852333182006796860291068687794162371630095',
        }),
      ],
    },
  },
  {
    name: 'a real RECEIVED ack with a relative timecode (cpp #1281)',
    body: `${receivedCpp1281}\n`,
    expected: {
      events: [
        ack({
          eventType: 'RECEIVED',
          fragmentTimecode: 175500,
          fragmentNumber: '91343852333193945545068521028853425951006228697',
        }),
      ],
    },
  },
  {
    name: 'a real ERROR ack with ErrorCode and ErrorId (cpp #226)',
    body: `${errorCpp226}\n`,
    expected: {
      events: [
        ack({
          eventType: 'ERROR',
          fragmentTimecode: 0,
          fragmentNumber: '91343852333181571046918222741096071001568090649',
          errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
          errorId: 4004,
        }),
      ],
    },
  },
  {
    name: 'interleaved real acks one per line (producer-c #345)',
    body: `${bufferingC345}\n${persistedC345}\n`,
    expected: {
      events: [
        ack({
          eventType: 'BUFFERING',
          fragmentTimecode: 1673627041807,
          fragmentNumber: '91343852333181432412489103279736132918353155750',
        }),
        ack({
          eventType: 'PERSISTED',
          fragmentTimecode: 1673627039807,
          fragmentNumber: '91343852333181432407537343122594611150428754261',
        }),
      ],
    },
  },
  {
    name: 'the seqsense ERROR vector with ErrorId before ErrorCode DUMMY_ERROR',
    body: errorSeqTest,
    expected: {
      events: [
        ack({
          eventType: 'ERROR',
          fragmentTimecode: 12345,
          fragmentNumber: '91343852333754009371412493862204112772176002064',
          errorId: 5000,
          errorCode: 'DUMMY_ERROR',
        }),
      ],
    },
  },
  {
    name: 'the seqsense mock-server format with spaces after commas',
    body: `${persistedSeqMock(2000)}\n${persistedSeqMock(4000)}\n`,
    expected: {
      events: [
        ack({ eventType: 'PERSISTED', fragmentTimecode: 2000, fragmentNumber: `${'0'.repeat(43)}2000` }),
        ack({ eventType: 'PERSISTED', fragmentTimecode: 4000, fragmentNumber: `${'0'.repeat(43)}4000` }),
      ],
    },
  },
  {
    name: 'the seqsense truncated body "{" as a truncation error with no events',
    body: truncatedSeqTest,
    expected: { events: [], error: { code: 'ERR_KVS_ACK_TRUNCATED', offset: 0 } },
  },
  {
    name: 'the historic camelCase ack as a service-error (no EventType), keeping the raw object',
    body: historicCamelCase,
    expected: {
      events: [
        serviceError(
          0,
          'Object in the acknowledgement stream is not an acknowledgement: it has no EventType',
          {
            ackEventType: 'PERSISTED',
            fragmentTimecode: 3400,
            fragmentNumber: '91343852344490898070324846249945695249403494059',
          },
        ),
      ],
    },
  },
  {
    name: 'an expired-token body as a service-error carrying the message',
    body: tokenExpired,
    expected: {
      events: [
        serviceError(
          0,
          'The security token included in the request is expired',
          { message: 'The security token included in the request is expired' },
          { serviceMessage: 'The security token included in the request is expired' },
        ),
      ],
    },
  },
  {
    name: 'a capital-Message error body as a service-error',
    body: streamNotFound,
    expected: {
      events: [
        serviceError(
          0,
          'The requested stream is not found or not active.',
          { Message: 'The requested stream is not found or not active.' },
          { serviceMessage: 'The requested stream is not found or not active.' },
        ),
      ],
    },
  },
  {
    name: 'the Coral envelope as a service-error named by its __type',
    body: coralEnvelope,
    expected: {
      events: [
        serviceError(
          0,
          'com.amazon.coral.service#SerializationException',
          {
            Output: { __type: 'com.amazon.coral.service#SerializationException', Message: null },
            Version: '1.0',
          },
          { errorType: 'com.amazon.coral.service#SerializationException' },
        ),
      ],
    },
  },
  {
    name: 'a __type error body with a message',
    body: '{"__type":"NotAuthorizedException","message":"Token expired"}',
    expected: {
      events: [
        serviceError(
          0,
          'NotAuthorizedException: Token expired',
          { __type: 'NotAuthorizedException', message: 'Token expired' },
          { serviceMessage: 'Token expired', errorType: 'NotAuthorizedException' },
        ),
      ],
    },
  },
  {
    name: 'an IDLE ack with no timecode',
    body: '{"EventType":"IDLE"}\n',
    expected: { events: [ack({ eventType: 'IDLE' })] },
  },
  {
    name: 'a bare-number FragmentNumber with all 47 digits kept',
    body: '{"EventType":"RECEIVED","FragmentTimecode":175500,"FragmentNumber":91343852333193945545068521028853425951006228697}',
    expected: {
      events: [
        ack({
          eventType: 'RECEIVED',
          fragmentTimecode: 175500,
          fragmentNumber: '91343852333193945545068521028853425951006228697',
        }),
      ],
    },
  },
  {
    name: 'a bare FragmentNumber under an escaped key name, leaving nested ones alone',
    body: '{"EventType":"BUFFERING","Fragment\\u004eumber" : 12345678901234567890123,"Nested":{"FragmentNumber":1}}',
    expected: {
      events: [
        ack({
          eventType: 'BUFFERING',
          fragmentNumber: '12345678901234567890123',
          extra: { Nested: { FragmentNumber: 1 } },
        }),
      ],
    },
  },
  {
    name: 'a negative FragmentTimecode and an empty FragmentNumber (java #277 shape)',
    body: '{"EventType":"ERROR","FragmentTimecode": -1, "FragmentNumber": "", "ErrorId": 4006}',
    expected: {
      events: [ack({ eventType: 'ERROR', fragmentTimecode: -1, fragmentNumber: '', errorId: 4006 })],
    },
  },
  {
    name: 'a negative timecode in the compact form',
    body: '{"EventType":"BUFFERING","FragmentTimecode":-2000,"FragmentNumber":"1"}',
    expected: { events: [ack({ eventType: 'BUFFERING', fragmentTimecode: -2000, fragmentNumber: '1' })] },
  },
  {
    name: 'a non-IDLE ack without FragmentTimecode',
    body: '{"EventType":"PERSISTED","FragmentNumber":"42"}',
    expected: { events: [ack({ eventType: 'PERSISTED', fragmentNumber: '42' })] },
  },
  {
    name: 'unknown keys kept in extra, braces and escaped quotes inside strings ignored',
    body: '{"EventType":"RECEIVED","FragmentTimecode":5,"Note":"a } { \\" \\\\","Nested":{"a":[1,{"b":"}"}]},"Ünï":"ç"}',
    expected: {
      events: [
        ack({
          eventType: 'RECEIVED',
          fragmentTimecode: 5,
          extra: { Note: 'a } { " \\', Nested: { a: [1, { b: '}' }] }, Ünï: 'ç' },
        }),
      ],
    },
  },
  {
    name: 'quoted numbers for FragmentTimecode and ErrorId, as PIC accepts them',
    body: '{"EventType":"ERROR","FragmentTimecode":"1000","ErrorId":"5001"}',
    expected: { events: [ack({ eventType: 'ERROR', fragmentTimecode: 1000, errorId: 5001 })] },
  },
  {
    name: 'null fields as absent',
    body: '{"EventType":"ERROR","FragmentTimecode":null,"FragmentNumber":null,"ErrorId":4000,"ErrorCode":null}',
    expected: { events: [ack({ eventType: 'ERROR', errorId: 4000 })] },
  },
  {
    name: 'a timecode with more digits than the fast path reads',
    body: '{"EventType":"BUFFERING","FragmentTimecode":1234567890123456,"FragmentNumber":"7"}',
    expected: {
      events: [ack({ eventType: 'BUFFERING', fragmentTimecode: 1234567890123456, fragmentNumber: '7' })],
    },
  },
  {
    name: 'objects with nothing between them, CRLF, tabs and leading spaces',
    body: ` \r\n\t{"EventType":"IDLE"}{"EventType":"IDLE"}\r\n\t {"EventType":"BUFFERING","FragmentTimecode":0}  `,
    expected: {
      events: [
        ack({ eventType: 'IDLE' }),
        ack({ eventType: 'IDLE' }),
        ack({ eventType: 'BUFFERING', fragmentTimecode: 0 }),
      ],
    },
  },
  {
    name: 'pretty-printed JSON in another key order',
    body: '{\n  "FragmentNumber": "9",\n  "FragmentTimecode": 10,\n  "EventType": "PERSISTED"\n}\n',
    expected: { events: [ack({ eventType: 'PERSISTED', fragmentTimecode: 10, fragmentNumber: '9' })] },
  },
  {
    name: 'an empty body as no events',
    body: '',
    expected: { events: [] },
  },
  {
    name: 'whitespace only as no events',
    body: '\n\n  \r\n',
    expected: { events: [] },
  },
  {
    name: 'an unknown EventType as a malformed-ack service-error',
    body: '{"EventType":"PAUSED","FragmentTimecode":1}',
    expected: {
      events: [
        serviceError(0, 'Malformed acknowledgement: unknown EventType "PAUSED"', {
          EventType: 'PAUSED',
          FragmentTimecode: 1,
        }),
      ],
    },
  },
  {
    name: 'a FragmentTimecode of the wrong type as a malformed-ack service-error',
    body: '{"EventType":"BUFFERING","FragmentTimecode":true}',
    expected: {
      events: [
        serviceError(0, 'Malformed acknowledgement: FragmentTimecode is not a number', {
          EventType: 'BUFFERING',
          FragmentTimecode: true,
        }),
      ],
    },
  },
  {
    name: 'an empty object as a service-error',
    body: '{}',
    expected: {
      events: [
        serviceError(
          0,
          'Object in the acknowledgement stream is not an acknowledgement: it has no EventType',
          {},
        ),
      ],
    },
  },
  {
    name: 'a service-error between acks without stopping the stream',
    body: `${bufferingC345}\n${tokenExpired}\n{"EventType":"IDLE"}`,
    expected: {
      events: [
        ack({
          eventType: 'BUFFERING',
          fragmentTimecode: 1673627041807,
          fragmentNumber: '91343852333181432412489103279736132918353155750',
        }),
        serviceError(
          bufferingC345.length + 1,
          'The security token included in the request is expired',
          { message: 'The security token included in the request is expired' },
          { serviceMessage: 'The security token included in the request is expired' },
        ),
        ack({ eventType: 'IDLE' }),
      ],
    },
  },
  {
    name: 'a stray byte after acks as a syntax error at that byte, after the acks',
    body: `{"EventType":"IDLE"}\n{"EventType":"IDLE"}\nx{"EventType":"IDLE"}`,
    expected: {
      events: [ack({ eventType: 'IDLE' }), ack({ eventType: 'IDLE' })],
      error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 42 },
    },
  },
  {
    name: 'a top-level array as a syntax error',
    body: '[{"EventType":"IDLE"}]',
    expected: { events: [], error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 0 } },
  },
  {
    name: 'a closing brace outside any object as a syntax error',
    body: '{"EventType":"IDLE"}}',
    expected: { events: [ack({ eventType: 'IDLE' })], error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 20 } },
  },
  {
    name: 'an object that is not valid JSON as a syntax error at its brace',
    body: '{"EventType":"IDLE"} {"EventType":}',
    expected: { events: [ack({ eventType: 'IDLE' })], error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 21 } },
  },
  {
    name: 'a leading-zero timecode as a syntax error, as JSON.parse would have it',
    body: '{"EventType":"BUFFERING","FragmentTimecode":0123,"FragmentNumber":"1"}',
    expected: { events: [], error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 0 } },
  },
  {
    name: 'invalid UTF-8 inside an object as a syntax error',
    body: new Uint8Array([...utf8('{"EventType":"IDLE","x":"'), 0xff, ...utf8('"}')]),
    expected: { events: [], error: { code: 'ERR_KVS_ACK_SYNTAX', offset: 0 } },
  },
  {
    name: 'a body cut inside the second object as a truncation error at its brace',
    body: `${receivedCpp1281}\n${persistedCpp981.slice(0, 40)}`,
    expected: {
      events: [
        ack({
          eventType: 'RECEIVED',
          fragmentTimecode: 175500,
          fragmentNumber: '91343852333193945545068521028853425951006228697',
        }),
      ],
      error: { code: 'ERR_KVS_ACK_TRUNCATED', offset: receivedCpp1281.length + 1 },
    },
  },
  {
    name: 'a body cut inside a string that holds a brace as a truncation error',
    body: '{"EventType":"IDLE","x":"}',
    expected: { events: [], error: { code: 'ERR_KVS_ACK_TRUNCATED', offset: 0 } },
  },
]

describe('createAckDecoder', () => {
  describe.each(cases)('decodes $name', ({ body, expected }) => {
    const bytes = typeof body === 'string' ? utf8(body) : body
    it('from one chunk', () => {
      expect(decodeChunks([bytes])).toEqual(expected)
    })
    it('split at every offset, one byte at a time and with empty reads', () => {
      expectEveryPartition(bytes, expected)
    })
  })

  it('decodes every real ack of the dossier as one body, however it is cut', () => {
    const body = [
      bufferingCpp981,
      persistedCpp981,
      receivedCpp1281,
      errorCpp226,
      bufferingC345,
      persistedC345,
      errorSeqTest,
      persistedSeqMock(1000),
    ].join('\n')
    const whole = decodeChunks([utf8(body)])
    expect(whole.error).toBeUndefined()
    expect(whole.events).toHaveLength(8)
    expectEveryPartition(utf8(body), whole)
  })

  it('keeps all 47 digits of a bare-number FragmentNumber that JSON.parse would round', () => {
    const digits = '91343852333193945545068521028853425951006228697'
    expect(String(JSON.parse(digits))).not.toBe(digits)
    const [event] = createAckDecoder().push(utf8(`{"EventType":"RECEIVED","FragmentNumber":${digits}}`))
    expect(event).toEqual(ack({ eventType: 'RECEIVED', fragmentNumber: digits }))
  })

  it('never confuses fragment numbers that share their last digits', () => {
    const numbers = [
      '11111111111111111111111111111111111111111111123',
      '22222222222222222222222222222222222222222222123',
      '123',
      '0123',
    ]
    const body = numbers.map((number) => `{"EventType":"RECEIVED","FragmentNumber":"${number}"}`).join('\n')
    const events = createAckDecoder().push(utf8(`${body}\n${body}`))
    expect(events.map((event) => event.type === 'ack' && event.ack.fragmentNumber)).toEqual([
      ...numbers,
      ...numbers,
    ])
  })

  it('returns the events completed before bad input, then throws on the next push', () => {
    const decoder = createAckDecoder()
    const events = decoder.push(utf8('{"EventType":"IDLE"}\n{"EventType":"IDLE"}\n!'))
    expect(events).toHaveLength(2)
    let thrown: unknown
    try {
      decoder.push(utf8('{"EventType":"IDLE"}'))
    } catch (error) {
      thrown = error
    }
    expect(AckSyntaxError.is(thrown)).toBe(true)
    expect((thrown as AckSyntaxError).offset).toBe(42)
    expect(() => decoder.end()).toThrow(thrown as Error)
  })

  it('throws at once from push when no event precedes the bad input in that chunk', () => {
    const decoder = createAckDecoder()
    expect(decoder.push(utf8('{"EventType":"IDLE"}'))).toHaveLength(1)
    expect(() => decoder.push(utf8(' ?'))).toThrow(AckSyntaxError)
  })

  it('throws the deferred error from end() when bad input ends the last chunk', () => {
    const decoder = createAckDecoder()
    expect(decoder.push(utf8('{"EventType":"IDLE"} ]'))).toHaveLength(1)
    expect(() => decoder.end()).toThrow(AckSyntaxError)
  })

  it('reports truncation with the pending byte count and keeps failing afterwards', () => {
    const decoder = createAckDecoder()
    decoder.push(utf8('{"EventType":"IDLE"}\n{"Event'))
    let thrown: unknown
    try {
      decoder.end()
    } catch (error) {
      thrown = error
    }
    expect(AckTruncatedError.is(thrown)).toBe(true)
    expect(thrown).toMatchObject({ offset: 21, pendingBytes: 7, code: 'ERR_KVS_ACK_TRUNCATED' })
    expect(() => decoder.push(utf8('{}'))).toThrow(thrown as Error)
  })

  it('can decode a second body after end()', () => {
    const decoder = createAckDecoder()
    expect(decoder.push(utf8('{"EventType":"IDLE"}'))).toHaveLength(1)
    expect(decoder.end()).toEqual([])
    expect(() => decoder.push(utf8('x'))).toThrow(expect.objectContaining({ offset: 0 }))
  })

  it('does not keep views of the caller buffers across pushes', () => {
    const decoder = createAckDecoder()
    const buffer = utf8(bufferingCpp981)
    const first = buffer.slice(0, 60)
    expect(decoder.push(first)).toEqual([])
    first.fill(0x20)
    const [event] = decoder.push(buffer.subarray(60))
    expect(event).toEqual(
      ack({
        eventType: 'BUFFERING',
        fragmentTimecode: 1677613819540,
        fragmentNumber: '91343852333182006801812051225829315333083406205',
      }),
    )
  })

  it('rejects a bad maxObjectBytes with a TypeError', () => {
    expect(() => createAckDecoder({ maxObjectBytes: 0 })).toThrow(
      new TypeError('maxObjectBytes must be an integer of at least 2, got 0'),
    )
    expect(() => createAckDecoder({ maxObjectBytes: 1.5 })).toThrow(TypeError)
  })

  it('rejects a chunk that is not bytes with a TypeError', () => {
    expect(() => createAckDecoder().push('{}' as unknown as Uint8Array)).toThrow(
      new TypeError('chunk must be a Uint8Array, got "{}"'),
    )
  })

  describe('maxObjectBytes', () => {
    it('accepts an object of exactly maxObjectBytes and rejects one byte more, however it is cut', () => {
      const body = utf8('{"EventType":"IDLE"}')
      expectEveryPartition(body, { events: [ack({ eventType: 'IDLE' })] }, { maxObjectBytes: body.length })
      expectEveryPartition(
        body,
        { events: [], error: { code: 'ERR_KVS_ACK_TOO_LARGE', offset: 0 } },
        { maxObjectBytes: body.length - 1 },
      )
    })

    it('applies to the service-shaped acks of the fast path too', () => {
      const body = utf8(`{"EventType":"IDLE"}\n${bufferingCpp981}`)
      expectEveryPartition(
        body,
        { events: [ack({ eventType: 'IDLE' })], error: { code: 'ERR_KVS_ACK_TOO_LARGE', offset: 21 } },
        { maxObjectBytes: 100 },
      )
    })

    it('stops a 10 MB object with no closing brace at the limit without buffering it', () => {
      const decoder = createAckDecoder()
      const chunk = new Uint8Array(16 * 1024).fill(0x20)
      chunk[0] = 0x7b
      let pushed = 0
      let thrown: unknown
      try {
        while (pushed < 10 * 1024 * 1024) {
          decoder.push(chunk)
          pushed += chunk.length
          chunk.fill(0x20, 0, 1)
        }
      } catch (error) {
        thrown = error
      }
      expect(AckObjectTooLargeError.is(thrown)).toBe(true)
      expect(thrown).toMatchObject({ offset: 0, limit: 64 * 1024, code: 'ERR_KVS_ACK_TOO_LARGE' })
      expect(pushed).toBeLessThanOrEqual(64 * 1024)
    })

    it('stops a 10 MB unterminated object that arrives in one chunk', () => {
      const chunk = new Uint8Array(10 * 1024 * 1024).fill(0x61)
      chunk.set(utf8('{"x":"'))
      expect(() => createAckDecoder().push(chunk)).toThrow(AckObjectTooLargeError)
    })
  })
})

const whitespace = fc
  .array(fc.constantFrom(' ', '\n', '\r', '\t'), { maxLength: 3 })
  .map((parts) => parts.join(''))

describe('createAckDecoder properties', () => {
  it('gives the same acks for any partition of any body and any whitespace between objects', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ackArbitrary, whitespace, fc.boolean())),
        fc.array(fc.nat()),
        (items, cuts) => {
          const text = items
            .map(([item, space, compact]) => {
              const line = new TextDecoder().decode(encodeAck(item)).trimEnd()
              return (compact ? line : JSON.stringify(JSON.parse(line), null, 1)) + space
            })
            .join('')
          const body = utf8(text)
          const outcome = decodeChunks(
            cutAt(
              body,
              cuts.map((cut) => cut % (body.length + 1)),
            ),
          )
          expect(outcome).toEqual({ events: items.map(([item]) => ({ type: 'ack', ack: item })) })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('raises only its own typed errors on random bytes, cut anywhere', () => {
    const fragments = fc.constantFrom(
      '{',
      '}',
      '"',
      '\\',
      ' ',
      '\n',
      ':',
      ',',
      '[',
      ']',
      '1',
      '-',
      'a',
      'é',
      '"EventType"',
      '"BUFFERING"',
      '"FragmentNumber":',
      '"FragmentTimecode":',
      '{"EventType":"IDLE"}',
      bufferingCpp981,
    )
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fragments, { maxLength: 40 }).map((parts) => utf8(parts.join(''))),
      fc
        .tuple(fc.array(fragments, { maxLength: 20 }), fc.uint8Array({ maxLength: 8 }))
        .map(([parts, noise]) => new Uint8Array([...utf8(parts.join('')), ...noise])),
    )
    fc.assert(
      fc.property(
        bodies,
        fc.array(fc.nat()),
        fc.integer({ min: 2, max: 200 }),
        (body, cuts, maxObjectBytes) => {
          const decoder = createAckDecoder({ maxObjectBytes })
          try {
            for (const chunk of cutAt(
              body,
              cuts.map((cut) => cut % (body.length + 1)),
            )) {
              for (const event of decoder.push(chunk)) expect(['ack', 'service-error']).toContain(event.type)
            }
            decoder.end()
          } catch (error) {
            const typed =
              AckSyntaxError.is(error) || AckTruncatedError.is(error) || AckObjectTooLargeError.is(error)
            if (!typed) throw error
            expect((error as { offset: number }).offset).toBeLessThanOrEqual(body.length)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('gives the same events and error for any partition of random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.array(fc.nat()), (body, cuts) => {
        expect(
          decodeChunks(
            cutAt(
              body,
              cuts.map((cut) => cut % (body.length + 1)),
            ),
          ),
        ).toEqual(decodeChunks([body]))
      }),
      { numRuns: 500 },
    )
  })
})
