import { coreTransformer, iterateCore } from '@kvs-streams/ebml'
import type { GetMediaEvent } from './events.ts'
import { createGetMediaParser, type GetMediaParserOptions } from './parser.ts'

/**
 * A WHATWG `TransformStream`: GetMedia body bytes in, `GetMediaEvent`s out.
 * @example response.body.pipeThrough(new GetMediaParserStream())
 */
export class GetMediaParserStream extends TransformStream<Uint8Array, GetMediaEvent> {
  constructor(options?: GetMediaParserOptions) {
    super(coreTransformer(createGetMediaParser(options)))
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
