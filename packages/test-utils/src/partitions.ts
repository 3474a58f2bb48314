/** Options for {@link splits}. */
export interface SplitsOptions {
  /**
   * Largest number of two-chunk splits to yield. Inputs with more possible split offsets get this many,
   * spread evenly from offset 1 to `length - 1`. Default: every offset (`Infinity`); set it for inputs
   * over a few kilobytes, since each split re-parses the whole input.
   */
  maxOffsets?: number
  /** Whether to yield the one-byte-at-a-time partition. Default `true`. */
  oneByteAtATime?: boolean
  /** How many seeded random partitions to yield. Default `4`. */
  randomPartitions?: number
  /** Seed for the random partitions; the same seed gives the same partitions. Default `1`. */
  seed?: number
  /** Whether random partitions may contain empty chunks (as a stream may deliver). Default `false`. */
  emptyChunks?: boolean
}

/**
 * Partitions of `bytes` for checking that an incremental parser gives the same result however its input
 * is chunked. Yields, in this order:
 *
 * 1. the whole input as one chunk;
 * 2. two chunks split at every offset `1 … length - 1` (or `maxOffsets` of them, evenly spread);
 * 3. one byte at a time;
 * 4. `randomPartitions` seeded random partitions mixing tiny and large chunks.
 *
 * Every chunk is a `subarray` view of `bytes` (nothing is copied), so a parser that keeps a view past the
 * `push()` that delivered it sees the same bytes it would see from a real stream that reuses no buffers.
 * Use {@link partitionLabel} to name a failing partition.
 *
 * @example
 * for (const chunks of splits(bytes, { maxOffsets: 200 })) {
 *   expect(parseAll(chunks), partitionLabel(chunks)).toEqual(expected)
 * }
 */
export function* splits(bytes: Uint8Array, options: SplitsOptions = {}): Generator<Uint8Array[]> {
  const {
    maxOffsets = Number.POSITIVE_INFINITY,
    oneByteAtATime: byteByByte = true,
    randomPartitions = 4,
    seed = 1,
    emptyChunks = false,
  } = options
  if (!(maxOffsets >= 0)) throw new TypeError(`maxOffsets must be a number >= 0, got ${maxOffsets}`)
  if (!Number.isInteger(randomPartitions) || randomPartitions < 0) {
    throw new TypeError(`randomPartitions must be an integer >= 0, got ${randomPartitions}`)
  }
  yield [bytes]
  for (const offset of splitOffsets(bytes.length, maxOffsets)) yield splitAt(bytes, [offset])
  if (byteByByte && bytes.length > 1) yield oneByteAtATime(bytes)
  const random = mulberry32(seed)
  for (let i = 0; i < randomPartitions; i++) yield randomPartition(bytes, random, emptyChunks)
}

/** `bytes` as `length` one-byte views. */
export function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1))
  return chunks
}

/**
 * `bytes` cut at each of `offsets` (non-decreasing integers in `0 … length`) into `offsets.length + 1`
 * views. Repeated offsets, 0 and `length` give empty chunks.
 *
 * @example splitAt(bytes, [4]) // → [bytes.subarray(0, 4), bytes.subarray(4)]
 */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let start = 0
  for (const offset of offsets) {
    if (!Number.isInteger(offset) || offset < start || offset > bytes.length) {
      throw new TypeError(
        `offsets must be non-decreasing integers in 0..${bytes.length}, got ${JSON.stringify(offsets)}`,
      )
    }
    chunks.push(bytes.subarray(start, offset))
    start = offset
  }
  chunks.push(bytes.subarray(start))
  return chunks
}

/**
 * A short readable name for a partition, for assertion messages: `"1 chunk (500 B)"`, `"2 chunks 13+487"`,
 * `"500 chunks of 1 B"`, or the first chunk sizes of a longer partition.
 */
export function partitionLabel(chunks: readonly Uint8Array[]): string {
  const sizes = chunks.map((chunk) => chunk.length)
  const total = sizes.reduce((sum, size) => sum + size, 0)
  if (sizes.length === 1) return `1 chunk (${total} B)`
  if (sizes.every((size) => size === 1)) return `${sizes.length} chunks of 1 B`
  const shown = sizes.length <= 12 ? sizes.join('+') : `${sizes.slice(0, 12).join('+')}+… (${total} B)`
  return `${sizes.length} chunks ${shown}`
}

/**
 * Joins chunks into one new `Uint8Array` (one allocation, one copy per chunk), e.g. to check that a
 * partition or a chunker's output reassembles to its input. Compare large results with
 * `Buffer.prototype.equals` rather than a deep `toEqual`, which walks typed arrays element by element.
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((length, chunk) => length + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

function splitOffsets(length: number, maxOffsets: number): number[] {
  const count = length - 1
  if (count <= 0) return []
  if (count <= maxOffsets) return Array.from({ length: count }, (_, i) => i + 1)
  if (maxOffsets < 1) return []
  if (maxOffsets < 2) return [Math.ceil(length / 2)]
  const offsets = new Set<number>()
  const steps = Math.floor(maxOffsets) - 1
  for (let i = 0; i <= steps; i++) offsets.add(1 + Math.round((i * (count - 1)) / steps))
  return [...offsets]
}

function randomPartition(bytes: Uint8Array, random: () => number, emptyChunks: boolean): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let start = 0
  while (start < bytes.length) {
    if (emptyChunks && random() < 0.1) chunks.push(bytes.subarray(start, start))
    // Mostly tiny chunks (to land inside IDs and size fields), some medium, a few large.
    const roll = random()
    const limit = roll < 0.5 ? 8 : roll < 0.85 ? 256 : Math.max(256, bytes.length >> 2)
    const size = 1 + Math.floor(random() * limit)
    chunks.push(bytes.subarray(start, start + size))
    start += size
  }
  if (chunks.length === 0) chunks.push(bytes)
  return chunks
}

/** A small, fast, seedable PRNG (Mulberry32), so partitions are the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
