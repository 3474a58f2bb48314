export { type ClusterChunker, type ClusterChunkerOptions, createClusterChunker } from './chunker.ts'
export { ChunkerError, type ChunkerErrorCode, type ChunkerErrorOptions } from './errors.ts'
export type {
  ChunkerEvent,
  ChunkerFragmentEvent,
  ChunkerFragmentStartEvent,
  FragmentEvent,
  FragmentStartEvent,
  HeaderEvent,
  TrackInfo,
  Violation,
  ViolationEvent,
  ViolationKind,
} from './events.ts'
export { ClusterChunkerStream, chunkClusters } from './stream.ts'
