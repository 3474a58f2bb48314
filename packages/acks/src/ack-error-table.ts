/** What an `ErrorId` means and how the Producer SDK (PIC) reacts to it. */
export interface AckErrorInfo {
  errorId: number
  /** The `ErrorCode` string the service sends with this id (AWS SDK v1 name where there is one). */
  errorCode: string
  description: string
  /**
   * PIC `serviceCallResultRetry`: `true` → resend the fragment; `false` → skip the fragment's frames and
   * move on (resending the same bytes would fail the same way).
   */
  retriable: boolean
  /**
   * PIC `CONNECTION_DROPPED_HOST_ALIVE`: `true` → the host is fine; on reconnect roll back only to the
   * fragment after the last RECEIVED ack. `false` → roll back by the replay duration.
   */
  hostAlive: boolean
}

type Row = [errorId: number, errorCode: string, description: string, retriable: boolean, hostAlive: boolean]

// Sources: AWS SDK v1 AckErrorCode, PIC StreamEvent.c serviceCallResultRetry and Include_i.h
// CONNECTION_DROPPED_HOST_ALIVE, the PutMedia API reference (descriptions).
const rows: Row[] = [
  [4000, 'STREAM_READ_ERROR', 'Error reading the data stream', true, true],
  [4001, 'MAX_FRAGMENT_SIZE_REACHED', 'Fragment is larger than the limit (50 MB)', false, false],
  [4002, 'MAX_FRAGMENT_DURATION_REACHED', 'Fragment is longer than the limit (10 s)', false, false],
  [
    4003,
    'MAX_CONNECTION_DURATION_REACHED',
    'Connection is older than the maximum allowed duration',
    true,
    true,
  ],
  [
    4004,
    'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
    'Fragment timecode is lower than the previous one (out of order within a PutMedia session)',
    false,
    false,
  ],
  [4005, 'MORE_THAN_ONE_TRACK_FOUND', 'More than one track in the MKV (deprecated)', false, false],
  [4006, 'INVALID_MKV_DATA', 'Input could not be parsed as valid MKV', false, false],
  [
    4007,
    'INVALID_PRODUCER_TIMESTAMP',
    'Invalid producer timestamp (e.g. too far in the future)',
    false,
    false,
  ],
  [4008, 'STREAM_NOT_ACTIVE', 'Stream is not active (not ACTIVE yet, or deleted)', false, true],
  [
    4009,
    'FRAGMENT_METADATA_LIMIT_REACHED',
    'Fragment metadata limit reached (count, name or value length)',
    false,
    false,
  ],
  [4010, 'TRACK_NUMBER_MISMATCH', "A block's track number is not in the Tracks header", false, false],
  [4011, 'FRAMES_MISSING_FOR_TRACK', 'No frame for at least one declared track', false, false],
  [4012, 'MORE_THAN_ALLOWED_TRACKS_FOUND', 'More than the allowed number of tracks (3)', false, false],
  [4500, 'KMS_KEY_ACCESS_DENIED', 'Access to the stream KMS key was denied', false, true],
  [4501, 'KMS_KEY_DISABLED', 'The stream KMS key is disabled', false, true],
  [4502, 'KMS_KEY_VALIDATION_ERROR', 'The stream KMS key failed validation', false, true],
  [4503, 'KMS_KEY_UNAVAILABLE', 'The stream KMS key is unavailable', false, true],
  [4504, 'KMS_KEY_INVALID_USAGE', 'The stream KMS key is not usable for this operation', false, true],
  [4505, 'KMS_KEY_INVALID_STATE', 'The stream KMS key is in an invalid state', false, true],
  [4506, 'KMS_KEY_NOT_FOUND', 'The stream KMS key was not found', false, true],
  [4507, 'STREAM_DELETED', 'The stream is being or has been deleted', false, true],
  [5000, 'INTERNAL_ERROR', 'Internal service error', true, true],
  [5001, 'ARCHIVAL_ERROR', 'The service failed to persist fragments to storage', true, true],
]

/**
 * Every known PutMedia `ErrorId` (4000–4012, 4500–4507, 5000, 5001) with its `ErrorCode`, meaning and the
 * Producer SDK's retry and host-alive classification. 4008: the API reference says "stream deleted", the
 * SDK docs "stream not active yet"; 4012 and 4507 have no AWS SDK v1 name (PIC names used).
 *
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export const ACK_ERRORS: ReadonlyMap<number, AckErrorInfo> = new Map(
  rows.map(([errorId, errorCode, description, retriable, hostAlive]) => [
    errorId,
    Object.freeze({ errorId, errorCode, description, retriable, hostAlive }),
  ]),
)

/**
 * Looks up an `ErrorId`. Unknown ids are treated as PIC does (`SERVICE_CALL_RESULT_UNKNOWN_ACK_ERROR`):
 * retriable, host alive, `errorCode` `'UNKNOWN_ACK_ERROR'`.
 */
export function describeAckError(errorId: number): AckErrorInfo {
  return (
    ACK_ERRORS.get(errorId) ?? {
      errorId,
      errorCode: 'UNKNOWN_ACK_ERROR',
      description: `Unknown acknowledgement ErrorId ${errorId}`,
      retriable: true,
      hostAlive: true,
    }
  )
}
