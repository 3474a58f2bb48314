export { AWS_ENVIRONMENT_VARIABLES, makeAwsHome } from './aws-home.ts'
export { perDocument, splitEbmlDocuments } from './ebml-documents.ts'
export { TimeoutError, ToolFailedError } from './errors.ts'
export { type FcPartitionOptions, fcPartition } from './fc-partition.ts'
export { type FfprobeCounts, type FfprobeStream, ffprobeCounts } from './ffprobe.ts'
export { fixturePath, readFixture } from './fixtures.ts'
export { exposeGc } from './gc.ts'
export {
  type MkvinfoBlock,
  type MkvinfoCluster,
  type MkvinfoSummary,
  type MkvinfoTrack,
  type MkvinfoTrackCounts,
  mkvinfoSummary,
  parseMkvinfo,
} from './mkvinfo.ts'
export {
  concatBytes,
  oneByteAtATime,
  partitionLabel,
  type SplitsOptions,
  splitAt,
  splits,
} from './partitions.ts'
export { hasTool, type RunOptions, type RunResult, run } from './run.ts'
export { withTimeout } from './timeout.ts'
