import { CoreStream, iterateCore } from '@kvs-streams/core'
import { type AdtsParser, createAdtsParser } from './adts-parser.ts'
import { type AnnexBMuxerOptions, createAnnexBMuxer } from './annexb-muxer.ts'
import { type AnnexBParserOptions, createAnnexBParser } from './annexb-parser.ts'
import type { AdtsEvent, AnnexBEvent, MuxerEvent } from './events.ts'
import { createMuxer, type MuxerFrame, type MuxerOptions } from './muxer.ts'

/** A `CoreStream` (WHATWG pair): Annex-B bytes in, `config` and `frame` events out. */
export class AnnexBParserStream extends CoreStream<Uint8Array, AnnexBEvent> {
  constructor(options?: AnnexBParserOptions) {
    super(createAnnexBParser(options))
  }
}

/** Parses an Annex-B byte stream from an async iterable (a file stream, stdin, …), yielding its events. */
export function parseAnnexB(
  source: AsyncIterable<Uint8Array>,
  options?: AnnexBParserOptions,
): AsyncGenerator<AnnexBEvent> {
  return iterateCore(createAnnexBParser(options), source)
}

/** A `CoreStream` (WHATWG pair): ADTS bytes in, `config` and `frame` events out. */
export class AdtsParserStream extends CoreStream<Uint8Array, AdtsEvent> {
  constructor() {
    super(createAdtsParser())
  }
}

/** Parses an ADTS byte stream from an async iterable, yielding its events. */
export function parseAdts(source: AsyncIterable<Uint8Array>): AsyncGenerator<AdtsEvent> {
  return iterateCore<Uint8Array, AdtsEvent>(createAdtsParser() as AdtsParser, source)
}

/** A `CoreStream` (WHATWG pair): frames in, the `header` and `fragment` events of KVS-ready MKV out. */
export class MuxerStream extends CoreStream<MuxerFrame, MuxerEvent> {
  constructor(options: MuxerOptions) {
    super(createMuxer(options))
  }
}

/** Muxes frames from an async iterable, yielding the `header` and `fragment` events of KVS-ready MKV. */
export function muxFrames(
  source: AsyncIterable<MuxerFrame>,
  options: MuxerOptions,
): AsyncGenerator<MuxerEvent> {
  return iterateCore(createMuxer(options), source)
}

/** A `CoreStream` (WHATWG pair): raw H.264/H.265 (Annex-B) bytes in, KVS-ready MKV events out (video only). */
export class AnnexBMuxerStream extends CoreStream<Uint8Array, MuxerEvent> {
  constructor(options?: Omit<AnnexBMuxerOptions, 'audio'>) {
    super(videoOnly(options))
  }
}

/** The video and, optionally, the ADTS audio byte streams of `muxAnnexB`. */
export interface AnnexBSources {
  video: AsyncIterable<Uint8Array>
  audio?: AsyncIterable<Uint8Array> | undefined
}

/**
 * Muxes raw H.264/H.265 (Annex-B) bytes, and optionally ADTS AAC bytes, into KVS-ready MKV events. Given one
 * async iterable (valid as a `pipeline()` stage) it is the video; given `{ video, audio }`, both are read,
 * one chunk at a time from whichever is behind in time, so neither runs ahead in memory.
 */
export async function* muxAnnexB(
  source: AsyncIterable<Uint8Array> | AnnexBSources,
  options: Omit<AnnexBMuxerOptions, 'audio'> = {},
): AsyncGenerator<MuxerEvent> {
  const sources: AnnexBSources =
    Symbol.asyncIterator in source
      ? { video: source as AsyncIterable<Uint8Array> }
      : (source as AnnexBSources)
  if (sources.audio === undefined) {
    yield* iterateCore(videoOnly(options), sources.video)
    return
  }
  const core = createAnnexBMuxer({ ...options, audio: true })
  const video = sources.video[Symbol.asyncIterator]()
  const audio = sources.audio[Symbol.asyncIterator]()
  let videoDone = false
  let audioDone = false
  try {
    while (!videoDone || !audioDone) {
      let events: MuxerEvent[]
      if (!audioDone && (videoDone || core.nextInput === 'audio')) {
        const next = await audio.next()
        if (next.done) {
          audioDone = true
          events = core.endAudio()
        } else events = core.pushAudio(next.value)
      } else {
        const next = await video.next()
        if (next.done) {
          videoDone = true
          events = []
        } else events = core.push(next.value)
      }
      for (let i = 0; i < events.length; i++) yield events[i]!
    }
    // A failure after some events is thrown by the core's next call: `end()` again when it returned events.
    const events = core.end()
    for (let i = 0; i < events.length; i++) yield events[i]!
    if (events.length > 0) yield* core.end()
  } finally {
    if (!videoDone) await video.return?.()
    if (!audioDone) await audio.return?.()
  }
}

function videoOnly(options: Omit<AnnexBMuxerOptions, 'audio'> = {}) {
  if ((options as AnnexBMuxerOptions).audio) {
    throw new TypeError(
      'audio must be false for a single byte stream: give muxAnnexB() { video, audio } sources',
    )
  }
  return createAnnexBMuxer(options)
}
