import { CoreStream, iterateCore } from '@kvs-streams/core'
import type { GetMediaEvent, MediaFragmentEvent } from './events.ts'
import { createFragmentMerger, type FragmentMergerOptions, type MergeEvent } from './merger.ts'
import { createGetMediaParser, type GetMediaParserOptions } from './parser.ts'

/**
 * A `CoreStream` (WHATWG pair): GetMedia body bytes in, `GetMediaEvent`s out.
 * @example response.body.pipeThrough(new GetMediaParserStream())
 */
export class GetMediaParserStream extends CoreStream<Uint8Array, GetMediaEvent> {
  constructor(options?: GetMediaParserOptions) {
    super(createGetMediaParser(options))
  }
}

/**
 * Parses a GetMedia body from an async iterable of bytes (an HTTP response body, a file stream),
 * yielding `GetMediaEvent`s; valid as a `stream.pipeline()` stage.
 */
export function parseGetMedia(
  source: AsyncIterable<Uint8Array>,
  options?: GetMediaParserOptions,
): AsyncGenerator<GetMediaEvent> {
  return iterateCore(createGetMediaParser(options), source)
}

/**
 * A `CoreStream` (WHATWG pair): raw GetMedia `fragment` events in, the merged file's `MergeEvent`s out.
 * @example body.pipeThrough(new GetMediaParserStream({ mode: 'raw' })).pipeThrough(new FragmentMergerStream())
 */
export class FragmentMergerStream extends CoreStream<MediaFragmentEvent, MergeEvent> {
  constructor(options?: FragmentMergerOptions) {
    super(createFragmentMerger(options))
  }
}

/** Merges raw GetMedia `fragment` events into one Matroska document, yielding `MergeEvent`s; a `pipeline()` stage. */
export function mergeFragments(
  source: AsyncIterable<MediaFragmentEvent>,
  options?: FragmentMergerOptions,
): AsyncGenerator<MergeEvent> {
  return iterateCore(createFragmentMerger(options), source)
}
