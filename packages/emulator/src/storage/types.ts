/**
 * A stream as the control plane describes it (`StreamInfo`), plus its tags.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_StreamInfo.html
 */
export interface StreamRecord {
  streamName: string
  /** `arn:aws:kinesisvideo:{region}:{account}:stream/{name}/{creationTimeMs}` */
  streamARN: string
  /** Creation time, epoch milliseconds (the ARN's suffix). */
  creationTimeMs: number
  dataRetentionInHours: number
  deviceName: string | null
  mediaType: string | null
  kmsKeyId: string
  /** 20 letters and digits; changes on every update. */
  version: string
  tags: Record<string, string>
}

/** One SimpleTag of producer fragment metadata. */
export interface FragmentMetadataTag {
  name: string
  value: string
}

/** What is known about a stored fragment, without its bytes. */
export interface FragmentInfo {
  streamName: string
  /** 47-digit decimal fragment number, increasing per stream (compare as strings). */
  fragmentNumber: string
  /** The per-stream sequence inside the fragment number, from 1. */
  sequence: number
  /** The Cluster Timecode as sent (TimecodeScale units): the FragmentTimecode of the acks. */
  fragmentTimecode: number
  /** Nanoseconds per timecode unit in the producer's header. */
  timecodeScale: number
  timecodeType: 'ABSOLUTE' | 'RELATIVE'
  /** RELATIVE: producer start timestamp + timecode; ABSOLUTE: the timecode as ms. Epoch ms. */
  producerTimestampMs: number
  /** When the fragment's first bytes arrived, epoch ms. */
  serverTimestampMs: number
  durationMs: number
  /** Bytes of the cluster plus the producer's fragment Tags (what ListFragments calls FragmentSizeInBytes). */
  sizeBytes: number
  /** Track numbers with at least one frame in the fragment. */
  tracks: number[]
  blockCount: number
  /** Whether the fragment starts with a key frame (KVS accepts fragments that do not). */
  keyframe: boolean
  /** The producer's fragment metadata (user SimpleTags after the cluster; reserved `AWS_KINESISVIDEO_*` removed). */
  metadata: FragmentMetadataTag[]
  /**
   * True when the fragment is durable (the stream had `DataRetentionInHours > 0`); false for a fragment kept
   * only in the in-memory host buffer (retention 0: 5 minutes, lost on restart).
   */
  persisted: boolean
  /**
   * The first fragment of its PutMedia connection: GetMedia writes the Tags the producer put before Info (PIC's
   * fragment metadata at stream start) into this fragment's chunk only. Absent in files of older versions.
   */
  firstInSession?: boolean
}

/** A stored fragment with its bytes, enough to write one GetMedia chunk. */
export interface StoredFragment extends FragmentInfo {
  /**
   * The producer's MKV header of the PutMedia session: EBML header, unknown-size Segment start and the
   * level-1 elements before the first Cluster (Info, Tracks, header Tags…), as the chunker emits it.
   */
  header: Uint8Array
  /** The Cluster element, byte for byte as sent (known or unknown size). */
  cluster: Uint8Array
  /** The level-1 Tags elements that followed the cluster, without reserved producer tags; may be empty. */
  tags: Uint8Array
}

/**
 * The bytes of a fragment as they are held: the header, and the cluster and tags as parts in order (views of the
 * chunks PutMedia received, or of one read of a file), never joined on the way in.
 */
export interface FragmentParts {
  header: Uint8Array
  cluster: readonly Uint8Array[]
  tags: readonly Uint8Array[]
}

/** A fragment to store: what is known about it, and its bytes as parts. */
export interface FragmentToStore extends FragmentInfo, FragmentParts {}

/**
 * A stored fragment opened to be written out (GetMedia): its header and tags in memory, its cluster either in
 * memory (`memory`: the parts as held) or in a file, read piece by piece into the caller's buffers (`file`).
 */
export type FragmentSource = MemoryFragmentSource | FileFragmentSource

/** A fragment whose bytes are all in memory. */
export interface MemoryFragmentSource extends FragmentParts {
  readonly kind: 'memory'
}

/** A fragment in a file, open until `close()`. */
export interface FileFragmentSource {
  readonly kind: 'file'
  readonly header: Uint8Array
  readonly tags: readonly Uint8Array[]
  /** Bytes of the cluster. */
  readonly clusterLength: number
  /**
   * Reads cluster bytes from `offset` (0 is the cluster's first byte) into `buffer`, as many as fit and remain;
   * resolves how many were read. Rejects with an `EmulatorError` when the file ends early or cannot be read.
   */
  readCluster(buffer: Uint8Array, offset: number): Promise<number>
  /** Closes the file. */
  close(): Promise<void>
}

/** What a backend found when it opened: each stream with its durable fragments. */
export interface LoadedStream {
  stream: StreamRecord
  fragments: FragmentInfo[]
}

/** Persistence of streams and durable fragments (memory or disk). The storage front end serialises calls per stream. */
export interface StorageBackend {
  readonly kind: 'disk' | 'memory'
  load(): Promise<LoadedStream[]>
  saveStream(stream: StreamRecord): Promise<void>
  removeStream(stream: StreamRecord): Promise<void>
  /**
   * Stores a fragment without copying its parts; resolves once it is durable. Disk: the fragments given in the
   * same tick are written and made durable together, and none of their promises resolves before all of them are.
   */
  writeFragment(stream: StreamRecord, fragment: FragmentToStore): Promise<void>
  /** The bytes of a fragment (in memory, or read whole from its file), or `undefined` when it is gone. */
  readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentParts | undefined>
  /** A fragment opened to be written out without reading it whole, or `undefined` when it is gone. */
  openFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentSource | undefined>
  /** Lets go of a fragment held in memory (memory backend; the storage's `maxMemoryBytes` dropped it). */
  forgetFragment?(stream: StreamRecord, fragment: FragmentInfo): void
  close(): Promise<void>
}
