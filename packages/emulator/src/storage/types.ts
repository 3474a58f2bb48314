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

/** The bytes of a fragment, as a backend stores them. */
export interface FragmentBytes {
  header: Uint8Array
  cluster: Uint8Array
  tags: Uint8Array
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
  /** Resolves once the fragment is durable. */
  writeFragment(stream: StreamRecord, fragment: StoredFragment): Promise<void>
  readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentBytes | undefined>
  close(): Promise<void>
}
