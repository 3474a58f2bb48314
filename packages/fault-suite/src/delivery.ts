/** What a stream holds (or a reader got) compared with the source fragments. */
export interface Delivery {
  /** Source fragment indexes never stored. */
  missing: number[]
  /** Source fragment indexes stored more than once (once per extra copy). */
  duplicated: number[]
  /** Stored clusters that are no source fragment byte for byte (corrupt or foreign). */
  unknown: number
}

/**
 * Compares stored cluster hashes with the source's per-fragment hashes. Byte identity is hash identity: a
 * cluster changed by one byte counts as `unknown` and its fragment as `missing`.
 */
export function compareDelivery(stored: readonly string[], source: readonly string[]): Delivery {
  const indexOf = new Map(source.map((hash, index) => [hash, index]))
  const counts = new Map<number, number>()
  let unknown = 0
  for (const hash of stored) {
    const index = indexOf.get(hash)
    if (index === undefined) unknown++
    else counts.set(index, (counts.get(index) ?? 0) + 1)
  }
  const missing: number[] = []
  const duplicated: number[] = []
  for (let index = 0; index < source.length; index++) {
    const count = counts.get(index) ?? 0
    if (count === 0) missing.push(index)
    for (let extra = 1; extra < count; extra++) duplicated.push(index)
  }
  return { missing, duplicated, unknown }
}

/** Whether `stored` is exactly the source, in order: every fragment once, none repeated, none out of place. */
export function inSourceOrder(stored: readonly string[], source: readonly string[]): boolean {
  return stored.length === source.length && stored.every((hash, index) => hash === source[index])
}
