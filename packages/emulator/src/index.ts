export { type Emulator, startEmulator } from './emulator.ts'
export { EmulatorError, type EmulatorErrorCode, type EmulatorErrorOptions, ServiceError } from './errors.ts'
export { formatFragmentNumber, parseFragmentNumber } from './fragment-number.ts'
export { MAX_FRAGMENT_LIST_CONNECTIONS } from './get-media/fragment-list-connection.ts'
export { MAX_GET_MEDIA_CONNECTIONS } from './get-media/get-media-connection.ts'
export {
  EMULATOR_RESPONSE_CHANNEL,
  type EmulatorResponseMessage,
} from './http/response-channel.ts'
export { createConsoleLogger, type EmulatorLogger } from './logger.ts'
export {
  DEFAULT_CREDENTIALS,
  type EmulatorCredentials,
  type EmulatorFaults,
  type EmulatorOptions,
  type FaultsOption,
  type GetMediaFaults,
  type GetMediaFaultsOption,
  type PutMediaFaults,
} from './options.ts'
export { parseProducerStartTimestamp } from './put-media/put-media-headers.ts'
export {
  createPutMediaSession,
  type PutMediaSession,
  type PutMediaSessionOptions,
  type SessionErrorEvent,
  type SessionEvent,
  type SessionFragmentEvent,
  type SessionFragmentStartEvent,
  type SessionHeaderEvent,
} from './put-media/session.ts'
export {
  type EmulatorStorage,
  HOST_BUFFER_BYTES,
  HOST_BUFFER_MS,
  type StorageEvent,
  type StorageListener,
} from './storage/storage.ts'
export type { FragmentInfo, FragmentMetadataTag, StoredFragment, StreamRecord } from './storage/types.ts'
