import { type Arbitrary, array, constant, integer, uniqueArray } from 'fast-check'
import { splitAt } from './partitions.ts'

/** Options for {@link fcPartition}. */
export interface FcPartitionOptions {
  /** Most chunks in one partition. Default `64`. */
  maxChunks?: number
  /** Whether partitions may contain empty chunks. Default `false`. */
  emptyChunks?: boolean
}

/**
 * A fast-check arbitrary producing partitions of `bytes`: arrays of `subarray` views that concatenate to
 * `bytes`. It shrinks towards fewer cuts at smaller offsets, so a failure reports a minimal chunking.
 *
 * @example
 * fc.assert(fc.property(fcPartition(bytes), (chunks) => {
 *   expect(parseAll(chunks)).toEqual(expected)
 * }))
 */
export function fcPartition(bytes: Uint8Array, options: FcPartitionOptions = {}): Arbitrary<Uint8Array[]> {
  const { maxChunks = 64, emptyChunks = false } = options
  if (!Number.isInteger(maxChunks) || maxChunks < 1) {
    throw new TypeError(`maxChunks must be an integer >= 1, got ${maxChunks}`)
  }
  const maxLength = maxChunks - 1
  if (emptyChunks) {
    return array(integer({ min: 0, max: bytes.length }), { maxLength }).map((cuts) =>
      splitAt(
        bytes,
        [...cuts].sort((a, b) => a - b),
      ),
    )
  }
  if (bytes.length < 2) return constant([bytes])
  return uniqueArray(integer({ min: 1, max: bytes.length - 1 }), { maxLength }).map((cuts) =>
    splitAt(
      bytes,
      [...cuts].sort((a, b) => a - b),
    ),
  )
}
