export {
  GetMediaParseError,
  type GetMediaParseErrorCode,
  type GetMediaParseErrorOptions,
  GetMediaServiceError,
  type GetMediaServiceErrorOptions,
} from './errors.ts'
export type {
  FragmentEndEvent,
  FragmentEndInfo,
  FragmentEvent,
  FragmentStartEvent,
  FragmentStartInfo,
  FrameEvent,
  GetMediaErrorEvent,
  GetMediaEvent,
  TrackInfo,
} from './events.ts'
export { KVS_TAG_PREFIX, KvsTag } from './kvs-tags.ts'
export { formatKvsTimestamp, parseKvsTimestamp } from './kvs-timestamp.ts'
export {
  createGetMediaParser,
  type GetMediaParser,
  type GetMediaParserMode,
  type GetMediaParserOptions,
} from './parser.ts'
export {
  ReadStreamError,
  type ReadStreamErrorCode,
  type ReadStreamErrorOptions,
  type ReadStreamEvent,
  type ReadStreamFrameEvent,
  type ReadStreamOptions,
  type ReadStreamRawEvent,
  type ReconnectEvent,
  readStream,
} from './read-stream.ts'
export { GetMediaParserStream, parseGetMedia } from './stream.ts'
