import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SourceMedia } from './media.ts'

/** Writes one chunk and waits for its callback (which the producer holds while its buffer is full). */
export function write(writable: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    writable.write(chunk, (error) => (error ? reject(error) : resolve()))
  })
}

export interface FeedOptions {
  /** Pause after each cluster, ms. Default 0. */
  paceMs?: number
  /** Cut clusters into writes of at most this many bytes (fresh copies, like a file stream). Default: whole clusters. */
  chunkBytes?: number
}

/** Writes the header and every cluster at a controlled pace; does not end the writable. */
export async function feed(writable: Writable, media: SourceMedia, options: FeedOptions = {}): Promise<void> {
  const { paceMs = 0, chunkBytes } = options
  await write(writable, media.header)
  for (const cluster of media.clusters) {
    if (chunkBytes === undefined) await write(writable, cluster)
    else
      for (let at = 0; at < cluster.length; at += chunkBytes)
        await write(writable, cluster.slice(at, at + chunkBytes))
    if (paceMs > 0) await sleep(paceMs)
  }
}
