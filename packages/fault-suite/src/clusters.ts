import { createHash } from 'node:crypto'
import { createEbmlReader, ElementId } from '@kvs-streams/ebml'

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * The Cluster elements of an MKV byte sequence, in order, as views of `bytes`: one document (a stored
 * fragment) or many concatenated (a GetMedia body, `kvs get` output). Throws when the bytes end inside an
 * element, so a truncated file is never read as whole fragments.
 */
export function clustersOf(bytes: Uint8Array): Uint8Array[] {
  const reader = createEbmlReader({ dataMode: () => 'skip' })
  const clusters: Uint8Array[] = []
  // Start offset of the Cluster being read.
  let start: number | undefined
  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.type === 'element-start' && event.id === ElementId.Cluster) start = event.offset
    if (event.type === 'element-end' && event.id === ElementId.Cluster && start !== undefined) {
      clusters.push(bytes.subarray(start, event.end))
      start = undefined
    }
  }
  return clusters
}
