/**
 * The tag names KVS writes into GetMedia / GetMediaForFragmentList output.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetMediaForFragmentList.html
 */
export const KvsTag = {
  FragmentNumber: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
  ServerTimestamp: 'AWS_KINESISVIDEO_SERVER_TIMESTAMP',
  ProducerTimestamp: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP',
  MillisBehindNow: 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW',
  ContinuationToken: 'AWS_KINESISVIDEO_CONTINUATION_TOKEN',
  ErrorId: 'AWS_KINESISVIDEO_ERROR_ID',
  ErrorCode: 'AWS_KINESISVIDEO_ERROR_CODE',
  /** GetMediaForFragmentList's error tags. */
  ExceptionErrorCode: 'AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE',
  ExceptionMessage: 'AWS_KINESISVIDEO_EXCEPTION_MESSAGE',
  /** The names GetMediaForFragmentList's documentation gives (real output uses the two above); both accepted. */
  ServerSideTimestamp: 'AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP',
  ProducerSideTimestamp: 'AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP',
} as const

/** Prefix of every tag name KVS reserves; such tags are not producer tags. */
export const KVS_TAG_PREFIX = 'AWS_KINESISVIDEO_'
