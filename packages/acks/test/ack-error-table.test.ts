import { describe, expect, it } from 'vitest'
import { ACK_ERRORS, describeAckError, isTerminalAck } from '../src/index.ts'

// The dossier's §3.3 table: ErrorId, ErrorCode, PIC retry, host alive.
const table: [number, string, boolean, boolean][] = [
  [4000, 'STREAM_READ_ERROR', true, true],
  [4001, 'MAX_FRAGMENT_SIZE_REACHED', false, false],
  [4002, 'MAX_FRAGMENT_DURATION_REACHED', false, false],
  [4003, 'MAX_CONNECTION_DURATION_REACHED', true, true],
  [4004, 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', false, false],
  [4005, 'MORE_THAN_ONE_TRACK_FOUND', false, false],
  [4006, 'INVALID_MKV_DATA', false, false],
  [4007, 'INVALID_PRODUCER_TIMESTAMP', false, false],
  [4008, 'STREAM_NOT_ACTIVE', false, true],
  [4009, 'FRAGMENT_METADATA_LIMIT_REACHED', false, false],
  [4010, 'TRACK_NUMBER_MISMATCH', false, false],
  [4011, 'FRAMES_MISSING_FOR_TRACK', false, false],
  [4012, 'MORE_THAN_ALLOWED_TRACKS_FOUND', false, false],
  [4500, 'KMS_KEY_ACCESS_DENIED', false, true],
  [4501, 'KMS_KEY_DISABLED', false, true],
  [4502, 'KMS_KEY_VALIDATION_ERROR', false, true],
  [4503, 'KMS_KEY_UNAVAILABLE', false, true],
  [4504, 'KMS_KEY_INVALID_USAGE', false, true],
  [4505, 'KMS_KEY_INVALID_STATE', false, true],
  [4506, 'KMS_KEY_NOT_FOUND', false, true],
  [4507, 'STREAM_DELETED', false, true],
  [5000, 'INTERNAL_ERROR', true, true],
  [5001, 'ARCHIVAL_ERROR', true, true],
]

describe('ACK_ERRORS', () => {
  it('holds exactly the ids of the table, 4000–4012, 4500–4507, 5000 and 5001', () => {
    expect([...ACK_ERRORS.keys()]).toEqual(table.map(([errorId]) => errorId))
  })

  it.each(table)(
    'classifies %i as %s with retry %s and host alive %s',
    (errorId, errorCode, retriable, hostAlive) => {
      expect(ACK_ERRORS.get(errorId)).toMatchObject({ errorId, errorCode, retriable, hostAlive })
      expect(ACK_ERRORS.get(errorId)?.description).not.toBe('')
      expect(describeAckError(errorId)).toBe(ACK_ERRORS.get(errorId))
    },
  )

  it('describes an unknown id as PIC does: retriable, host alive, UNKNOWN_ACK_ERROR', () => {
    expect(describeAckError(4999)).toMatchObject({
      errorId: 4999,
      errorCode: 'UNKNOWN_ACK_ERROR',
      retriable: true,
      hostAlive: true,
    })
  })

  it('treats only ERROR acks as terminal', () => {
    expect(isTerminalAck({ eventType: 'ERROR', errorId: 4004 })).toBe(true)
    for (const eventType of ['BUFFERING', 'RECEIVED', 'PERSISTED', 'IDLE'] as const) {
      expect(isTerminalAck({ eventType })).toBe(false)
    }
  })
})
