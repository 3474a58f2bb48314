import type { Emulator } from '@kvs-streams/emulator'
import { expect } from 'vitest'
import { type SourceMedia, sha256 } from './media.ts'

/** SHA-256 of every stored fragment's cluster bytes, read through the emulator's storage read API. */
export async function storedClusterHashes(
  emulator: Pick<Emulator, 'storage'>,
  streamName: string,
): Promise<string[]> {
  const hashes: string[] = []
  for (const info of emulator.storage.listFragments(streamName)) {
    const fragment = await emulator.storage.readFragment(streamName, info.fragmentNumber)
    if (fragment === undefined)
      throw new Error(`fragment ${info.fragmentNumber} is listed but cannot be read`)
    hashes.push(sha256(fragment.cluster))
  }
  return hashes
}

/** What the stream holds compared with the source: fragments missing, stored twice, or unknown. */
export interface Delivery {
  missing: number[]
  duplicated: number[]
  unknown: number
}

export function compareDelivery(
  stored: readonly string[],
  media: SourceMedia,
  excluded: ReadonlySet<number>,
): Delivery {
  const indexOf = new Map(media.hashes.map((hash, index) => [hash, index]))
  const counts = new Map<number, number>()
  let unknown = 0
  for (const hash of stored) {
    const index = indexOf.get(hash)
    if (index === undefined) unknown++
    else counts.set(index, (counts.get(index) ?? 0) + 1)
  }
  const missing: number[] = []
  const duplicated: number[] = []
  for (let index = 0; index < media.hashes.length; index++) {
    const count = counts.get(index) ?? 0
    if (excluded.has(index)) {
      if (count > 0) duplicated.push(index)
    } else if (count === 0) missing.push(index)
    else if (count > 1) duplicated.push(index)
  }
  return { missing, duplicated, unknown }
}

/** Every source fragment stored exactly once, except `excluded` (reported skips), which must be absent. */
export function expectExactlyOnce(
  stored: readonly string[],
  media: SourceMedia,
  excluded: ReadonlySet<number> = new Set(),
): void {
  expect(compareDelivery(stored, media, excluded)).toEqual({ missing: [], duplicated: [], unknown: 0 })
  expect(stored).toHaveLength(media.hashes.length - excluded.size)
}
