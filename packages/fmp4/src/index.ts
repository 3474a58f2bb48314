export { type AacConfig, aacCodecString, readAacConfig } from './aac.ts'
export { type AvcConfig, avcCodecString, avcPictureSize, readAvcConfig } from './avc.ts'
export { Fmp4Error, type Fmp4ErrorCode, type Fmp4ErrorOptions } from './errors.ts'
export type { Fmp4Event, InitSegmentEvent, MediaSegmentEvent, MediaSegmentRun } from './events.ts'
export { type HevcConfig, hevcCodecString, hevcPictureSize, readHevcConfig } from './hevc.ts'
export { writeInitSegment } from './init-segment.ts'
export { splitLacedFrames } from './lacing.ts'
export { type MediaSegmentBytes, writeMediaSegment } from './media-segment.ts'
export type { KvsFragmentTags } from './mkv-reader.ts'
export { writeMp4File } from './mp4-file.ts'
export {
  type MkvFragment,
  type ReadMkvFragmentOptions,
  readMkvFragment,
  readMkvFragments,
} from './read-fragment.ts'
export {
  buildTrackRun,
  type Mp4Frame,
  type Mp4Sample,
  type TrackRun,
  type TrackRunOptions,
} from './samples.ts'
export {
  createFmp4Segmenter,
  type Fmp4Segmenter,
  type Fmp4SegmenterOptions,
  type TracksChangePolicy,
} from './segmenter.ts'
export { Fmp4SegmenterStream, segmentFmp4 } from './stream.ts'
export { MATROSKA_CODECS, type Mp4Track, mp4MimeType, mp4TrackOf, VIDEO_TIMESCALE } from './track.ts'
