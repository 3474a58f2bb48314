export { splitEbmlDocuments, perDocument } from './ebml-documents.ts'
export { TimeoutError, ToolFailedError } from './errors.ts'
export { fcPartition, type FcPartitionOptions } from './fc-partition.ts'
export { ffprobeCounts, type FfprobeCounts, type FfprobeStream } from './ffprobe.ts'
export { fixturePath, readFixture } from './fixtures.ts'
export {
  mkvinfoSummary,
  parseMkvinfo,
  type MkvinfoBlock,
  type MkvinfoCluster,
  type MkvinfoSummary,
  type MkvinfoTrack,
  type MkvinfoTrackCounts,
} from './mkvinfo.ts'
export { oneByteAtATime, partitionLabel, splitAt, splits, type SplitsOptions } from './partitions.ts'
export { hasTool, run, type RunOptions, type RunResult } from './run.ts'
export { withTimeout } from './timeout.ts'
