// Cluster-by-cluster comparison of the demo's input and the MKV read back with GetMedia.
import { createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import { createEbmlReader, ElementId } from '@kvs-streams/ebml'

/** One Cluster of an MKV document, with what the chunker says about it. */
export interface InputCluster {
  /** 0-based index among the input's clusters. */
  index: number
  /** Cluster Timecode as written (TimecodeScale units). */
  timecode: number
  durationMs: number
  /** End of its latest frame, ms. */
  endMs: number
  /** The Cluster element's bytes: ID, size and children, exactly as in the input. */
  bytes: Uint8Array
}

/**
 * The Cluster elements in `bytes` (one MKV document, or the concatenated documents GetMedia returns), each as
 * its exact bytes from its ID to its last child, in order. Known- and unknown-size clusters alike.
 */
export function clusterElements(bytes: Uint8Array): Uint8Array[] {
  const reader = createEbmlReader({ dataMode: () => 'skip' })
  const clusters: Uint8Array[] = []
  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.type === 'element-end' && event.id === ElementId.Cluster) {
      clusters.push(bytes.subarray(event.offset, event.end))
    }
  }
  return clusters
}

/** The input's clusters as PutMedia sends them: the chunker's fragments, each cut to its Cluster element. */
export function inputClusters(bytes: Uint8Array): InputCluster[] {
  const chunker = createClusterChunker({ onViolation: 'emit' })
  const clusters: InputCluster[] = []
  for (const event of [...chunker.push(bytes), ...chunker.end()]) {
    if (event.type !== 'fragment') continue
    // A fragment is its Cluster plus the Tags after it; keep the Cluster.
    const [cluster] = clusterElements(concatBytes(event.parts))
    if (cluster !== undefined) {
      clusters.push({
        index: event.index,
        timecode: event.timecode,
        durationMs: event.durationMs,
        endMs: event.endMs,
        bytes: cluster,
      })
    }
  }
  return clusters
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  )
}
