export {
  type AwsSettings,
  type AwsSettingsOptions,
  createSettingsSigner,
  KINESIS_VIDEO_SERVICE_ID,
  resolveAwsSettings,
  type SettingsSignerOptions,
  type Sourced,
} from './aws-settings.ts'
export { type BackoffOptions, backoffDelay, sleep } from './backoff.ts'
export {
  createDataEndpointResolver,
  type DataEndpointApiName,
  type DataEndpointResolver,
  type DataEndpointResolverOptions,
  DEFAULT_ENDPOINT_TTL_MS,
  type GetDataEndpointClient,
  type StreamRef,
  withEndpoint,
} from './endpoint-resolver.ts'
export {
  type AwsSettingsErrorCode,
  isTransportError,
  KvsAbortError,
  KvsConnectionError,
  KvsHttpError,
  type KvsHttpErrorOptions,
  KvsProtocolError,
  KvsSettingsError,
  KvsTimeoutError,
  type TransportError,
  type TransportErrorCode,
  type TransportErrorOptions,
} from './errors.ts'
export {
  type GetMediaForFragmentListOptions,
  type GetMediaOptions,
  getMedia,
  getMediaForFragmentList,
  START_SELECTOR_TYPES,
  type StartSelector,
} from './get-media.ts'
export type { ResponseHeaders } from './http-exchange.ts'
export {
  type Fragment,
  type FragmentSelector,
  type ListAllFragmentsOptions,
  type ListFragmentsOptions,
  type ListFragmentsOutput,
  listAllFragments,
  listFragments,
} from './list-fragments.ts'
export { type DataPlaneOptions, DEFAULT_CONNECT_TIMEOUT_MS } from './options.ts'
export {
  DEFAULT_ACK_STALENESS_MS,
  DEFAULT_PUT_MEDIA_HIGH_WATER_MARK,
  type FragmentTimecodeType,
  type LegacyChunkerEventInput,
  type PutMediaInput,
  type PutMediaOptions,
  type PutMediaResponse,
  putMedia,
} from './put-media.ts'
export { type PutMediaWebStreams, putMediaWeb } from './put-media-web.ts'
export {
  AWS_EXCEPTION_CATEGORIES,
  classifyError,
  type ErrorCategory,
  type ErrorDecision,
  exceptionCategory,
  isEndpointError,
  NETWORK_ERROR_CODES,
} from './retry.ts'
export { ResponseBody } from './signed-request.ts'
