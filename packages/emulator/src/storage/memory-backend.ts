import type {
  FragmentBytes,
  FragmentInfo,
  LoadedStream,
  StorageBackend,
  StoredFragment,
  StreamRecord,
} from './types.ts'

/** Keeps streams and fragments in memory: nothing survives the process. */
export function createMemoryBackend(): StorageBackend {
  /** Fragment bytes by stream ARN, then fragment number (the ARN tells a re-created stream from the old one). */
  const fragments = new Map<string, Map<string, FragmentBytes>>()
  return {
    kind: 'memory',
    async load(): Promise<LoadedStream[]> {
      return []
    },
    async saveStream(): Promise<void> {},
    async removeStream(stream: StreamRecord): Promise<void> {
      fragments.delete(stream.streamARN)
    },
    async writeFragment(stream: StreamRecord, fragment: StoredFragment): Promise<void> {
      let byNumber = fragments.get(stream.streamARN)
      if (byNumber === undefined) fragments.set(stream.streamARN, (byNumber = new Map()))
      byNumber.set(fragment.fragmentNumber, {
        header: fragment.header,
        cluster: fragment.cluster,
        tags: fragment.tags,
      })
    },
    async readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentBytes | undefined> {
      return fragments.get(stream.streamARN)?.get(fragment.fragmentNumber)
    },
    async close(): Promise<void> {
      fragments.clear()
    },
  }
}
