import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Ack, createAckDecoder, encodeAck } from '../src/index.ts'
import { ackArbitrary, utf8 } from './support.ts'
import {
  bufferingC345,
  bufferingCpp981,
  errorCpp226,
  errorSeqTest,
  persistedC345,
  persistedCpp981,
  receivedCpp1281,
} from './vectors.ts'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

function decodeOne(bytes: Uint8Array): Ack {
  const decoder = createAckDecoder()
  const events = decoder.push(bytes)
  decoder.end()
  expect(events).toHaveLength(1)
  const [event] = events
  if (event?.type !== 'ack') throw new Error(`expected an ack, got ${JSON.stringify(event)}`)
  return event.ack
}

describe('encodeAck', () => {
  it.each([bufferingCpp981, persistedCpp981, receivedCpp1281, errorCpp226, bufferingC345, persistedC345])(
    're-encodes the real ack %s byte for byte',
    (line) => {
      expect(text(encodeAck(decodeOne(utf8(line))))).toBe(`${line}\n`)
    },
  )

  it('writes ErrorCode before ErrorId, as the service does, whatever order it was read in', () => {
    expect(text(encodeAck(decodeOne(utf8(errorSeqTest))))).toBe(
      '{"EventType":"ERROR","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064","ErrorCode":"DUMMY_ERROR","ErrorId":5000}\n',
    )
  })

  it('writes an IDLE ack as {"EventType":"IDLE"}', () => {
    expect(text(encodeAck({ eventType: 'IDLE' }))).toBe('{"EventType":"IDLE"}\n')
  })

  it('writes extra keys after the wire keys, escaped', () => {
    expect(text(encodeAck({ eventType: 'RECEIVED', fragmentTimecode: -5, extra: { 'a"b': [1, 'x'] } }))).toBe(
      '{"EventType":"RECEIVED","FragmentTimecode":-5,"a\\"b":[1,"x"]}\n',
    )
  })

  it('rejects fields of the wrong type and extra keys that repeat a wire key', () => {
    expect(() => encodeAck({ eventType: 'NOPE' as 'IDLE' })).toThrow(
      new TypeError('ack.eventType must be one of BUFFERING, RECEIVED, PERSISTED, ERROR, IDLE, got "NOPE"'),
    )
    expect(() => encodeAck({ eventType: 'BUFFERING', fragmentTimecode: Number.NaN })).toThrow(
      new TypeError('ack.fragmentTimecode must be a finite number, got NaN'),
    )
    expect(() => encodeAck({ eventType: 'BUFFERING', fragmentNumber: 12 as unknown as string })).toThrow(
      TypeError,
    )
    expect(() => encodeAck({ eventType: 'BUFFERING', extra: { EventType: 'ERROR' } })).toThrow(TypeError)
  })

  it('round-trips any ack through the decoder', () => {
    fc.assert(
      fc.property(ackArbitrary, (ack) => {
        expect(decodeOne(encodeAck(ack))).toEqual(ack)
      }),
      { numRuns: 500 },
    )
  })
})
