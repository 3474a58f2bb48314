import { retainFragment } from './parts.ts'
import type {
  FragmentInfo,
  FragmentParts,
  FragmentSource,
  FragmentToStore,
  LoadedStream,
  StorageBackend,
  StreamRecord,
} from './types.ts'

/**
 * Keeps streams and fragments in memory: nothing survives the process. A fragment's bytes are kept as the parts
 * PutMedia received (views, not copied; see `retainable` for views of large buffers).
 */
export function createMemoryBackend(): StorageBackend {
  /** Fragment bytes by stream ARN, then fragment number (the ARN tells a re-created stream from the old one). */
  const fragments = new Map<string, Map<string, FragmentParts>>()
  return {
    kind: 'memory',
    async load(): Promise<LoadedStream[]> {
      return []
    },
    async saveStream(): Promise<void> {},
    async removeStream(stream: StreamRecord): Promise<void> {
      fragments.delete(stream.streamARN)
    },
    async writeFragment(stream: StreamRecord, fragment: FragmentToStore): Promise<void> {
      let byNumber = fragments.get(stream.streamARN)
      if (byNumber === undefined) fragments.set(stream.streamARN, (byNumber = new Map()))
      byNumber.set(fragment.fragmentNumber, retainFragment(fragment))
    },
    async readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentParts | undefined> {
      return fragments.get(stream.streamARN)?.get(fragment.fragmentNumber)
    },
    async openFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentSource | undefined> {
      const parts = fragments.get(stream.streamARN)?.get(fragment.fragmentNumber)
      return parts === undefined ? undefined : { kind: 'memory', ...parts }
    },
    forgetFragment(stream: StreamRecord, fragment: FragmentInfo): void {
      fragments.get(stream.streamARN)?.delete(fragment.fragmentNumber)
    },
    async close(): Promise<void> {
      fragments.clear()
    },
  }
}
