export { ADTS_SAMPLE_RATES, type AdtsParser, audioSpecificConfig, createAdtsParser } from './adts-parser.ts'
export { type AnnexBMuxer, type AnnexBMuxerOptions, createAnnexBMuxer } from './annexb-muxer.ts'
export { type AnnexBParser, type AnnexBParserOptions, createAnnexBParser } from './annexb-parser.ts'
export {
  type ClusterBlock,
  simpleBlockSize,
  type WrittenCluster,
  writeCluster,
} from './cluster-writer.ts'
export { detectFormat, type StreamFormat } from './detect.ts'
export { MuxerError, type MuxerErrorCode, type MuxerErrorOptions } from './errors.ts'
export type {
  AdtsEvent,
  AnnexBEvent,
  AudioConfigEvent,
  FrameEvent,
  MuxerEvent,
  VideoConfigEvent,
} from './events.ts'
export type { MuxerTrack } from './header-writer.ts'
export { createMuxer, type Muxer, type MuxerFrame, type MuxerOptions } from './muxer.ts'
export {
  AdtsParserStream,
  AnnexBMuxerStream,
  AnnexBParserStream,
  type AnnexBSources,
  MuxerStream,
  muxAnnexB,
  muxFrames,
  parseAdts,
  parseAnnexB,
} from './stream.ts'
