// The parsing half of @kvs-streams/get-media, published as `@kvs-streams/get-media/parser`: the GetMedia
// parser, its stream adapters, events, errors and KVS tag helpers, with no network client. Import it when
// the bytes come from elsewhere (the AWS SDK's GetMediaCommand, a file, a proxy): it loads only
// @kvs-streams/ebml, not the signer, the transport and undici that `readStream` needs.
export {
  FragmentMergeError,
  type FragmentMergeErrorCode,
  type FragmentMergeErrorOptions,
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
  FragmentMetadataTag,
  FragmentStartEvent,
  FragmentStartInfo,
  FrameEvent,
  GetMediaErrorEvent,
  GetMediaEvent,
  GetMediaServiceErrorEvent,
  MediaFragmentEvent,
  MediaFragmentStartEvent,
  TrackInfo,
} from './events.ts'
export { KVS_TAG_PREFIX, KvsTag } from './kvs-tags.ts'
export { formatKvsTimestamp, parseKvsTimestamp } from './kvs-timestamp.ts'
export {
  createFragmentMerger,
  type FragmentMerger,
  type FragmentMergerOptions,
  type MergeDataEvent,
  type MergeEvent,
  type MergePatchEvent,
  type TracksChangePolicy,
} from './merger.ts'
export {
  createGetMediaParser,
  type GetMediaParser,
  type GetMediaParserMode,
  type GetMediaParserOptions,
} from './parser.ts'
export { FragmentMergerStream, GetMediaParserStream, mergeFragments, parseGetMedia } from './stream.ts'
