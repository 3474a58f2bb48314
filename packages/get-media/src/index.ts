export * from './parse.ts'
export {
  ReadStreamError,
  type ReadStreamErrorCode,
  type ReadStreamErrorOptions,
  type ReadStreamEvent,
  type ReadStreamFrameEvent,
  type ReadStreamOptions,
  type ReadStreamRawEvent,
  type ReadStreamRetryOptions,
  type ReconnectEvent,
  readStream,
} from './read-stream.ts'
