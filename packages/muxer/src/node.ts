import type { Transform } from 'node:stream'
import { coreNodeTransform } from '@kvs-streams/core/node'
import { createAdtsParser } from './adts-parser.ts'
import { type AnnexBMuxerOptions, createAnnexBMuxer } from './annexb-muxer.ts'
import { type AnnexBParserOptions, createAnnexBParser } from './annexb-parser.ts'
import { createMuxer, type MuxerOptions } from './muxer.ts'

/** A Node `Transform`: Annex-B bytes in, `config` and `frame` events out (object mode). */
export function createAnnexBParserTransform(options?: AnnexBParserOptions): Transform {
  return coreNodeTransform(createAnnexBParser(options))
}

/** A Node `Transform`: ADTS bytes in, `config` and `frame` events out (object mode). */
export function createAdtsParserTransform(): Transform {
  return coreNodeTransform(createAdtsParser())
}

/** A Node `Transform`: frames in (object mode), the `header` and `fragment` events of KVS-ready MKV out. */
export function createMuxerTransform(options: MuxerOptions): Transform {
  return coreNodeTransform(createMuxer(options), { writableObjectMode: true })
}

/**
 * A Node `Transform`: raw H.264/H.265 (Annex-B) bytes in, KVS-ready MKV events out (object mode), ready for
 * the producer or `putMedia`. Video only: for ADTS audio too, use `muxAnnexB({ video, audio })`.
 */
export function createAnnexBMuxerTransform(options: Omit<AnnexBMuxerOptions, 'audio'> = {}): Transform {
  if ((options as AnnexBMuxerOptions).audio) {
    throw new TypeError(
      'audio must be false for a single byte stream: give muxAnnexB() { video, audio } sources',
    )
  }
  return coreNodeTransform(createAnnexBMuxer(options))
}
