import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SourceMedia } from '../../src/index.ts'

/** Writes one chunk and waits for its callback (which the producer holds while its buffer is full). */
export function write(writable: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    writable.write(chunk, (error) => (error ? reject(error) : resolve()))
  })
}

export interface FeedOptions {
  paceMs?: number
  chunkBytes?: number
  /**
   * Checked after each cluster: once it returns true the feed stops there (the rest of `media` is not
   * written). For runs that must last until enough faults were injected, whatever the machine's speed.
   */
  enough?: (clustersFed: number) => boolean
}

/**
 * Writes the header and every cluster (or until `enough`) in writes of at most `chunkBytes`, pausing `paceMs`
 * after each cluster. Returns the number of clusters written.
 */
export async function feed(
  writable: Writable,
  media: SourceMedia,
  options: FeedOptions = {},
): Promise<number> {
  const { paceMs = 0, chunkBytes = 16_384, enough } = options
  await write(writable, media.header)
  let fed = 0
  for (const cluster of media.clusters) {
    for (let at = 0; at < cluster.length; at += chunkBytes)
      await write(writable, cluster.slice(at, at + chunkBytes))
    fed++
    if (enough?.(fed)) break
    if (paceMs > 0) await sleep(paceMs)
  }
  return fed
}
