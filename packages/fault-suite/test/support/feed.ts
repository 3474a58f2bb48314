import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SourceMedia } from '../../src/index.ts'

/** Writes one chunk and waits for its callback (which the producer holds while its buffer is full). */
export function write(writable: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    writable.write(chunk, (error) => (error ? reject(error) : resolve()))
  })
}

/** Writes the header and every cluster in writes of at most `chunkBytes`, pausing `paceMs` after each cluster. */
export async function feed(
  writable: Writable,
  media: SourceMedia,
  options: { paceMs?: number; chunkBytes?: number } = {},
): Promise<void> {
  const { paceMs = 0, chunkBytes = 16_384 } = options
  await write(writable, media.header)
  for (const cluster of media.clusters) {
    for (let at = 0; at < cluster.length; at += chunkBytes)
      await write(writable, cluster.slice(at, at + chunkBytes))
    if (paceMs > 0) await sleep(paceMs)
  }
}
