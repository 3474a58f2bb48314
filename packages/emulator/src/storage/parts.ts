import { concatBytes } from '@kvs-streams/core'
import type { FragmentParts } from './types.ts'

/**
 * Buffers at most this large are kept whole behind any view of them. PutMedia bodies arrive in chunks of at most
 * 64 KiB that each own their memory (Node's HTTP parser copies every body chunk into a buffer of its own
 * size), so views of them are always kept as they are.
 */
const SMALL_BUFFER_BYTES = 64 * 1024

/** Total bytes of some parts. */
export function partsLength(parts: readonly Uint8Array[]): number {
  let length = 0
  for (const part of parts) length += part.length
  return length
}

/** Parts as one array: the part itself when there is one (no copy), else a new array. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : concatBytes(parts)
}

/** Bytes a fragment holds: header, cluster and tags. */
export function fragmentLength(fragment: FragmentParts): number {
  return fragment.header.length + partsLength(fragment.cluster) + partsLength(fragment.tags)
}

/**
 * Parts to keep in memory for long (memory storage, the host buffer of retention-0 streams). A view keeps the
 * whole buffer it is a view of alive: a part that covers less than half of a buffer larger than 64 KiB is copied
 * into memory of its own, so that a small piece does not pin a large buffer; every other part is kept as the
 * view it is (no copy). Each part so pins at most the larger of 64 KiB and twice its own size.
 */
export function retainable(parts: readonly Uint8Array[]): Uint8Array[] {
  return parts.map((part) =>
    part.buffer.byteLength > SMALL_BUFFER_BYTES && part.byteLength * 2 < part.buffer.byteLength
      ? new Uint8Array(part)
      : part,
  )
}

/** A fragment's bytes ready to be kept in memory (see `retainable`). */
export function retainFragment(fragment: FragmentParts): FragmentParts {
  return {
    header: retainable([fragment.header])[0]!,
    cluster: retainable(fragment.cluster),
    tags: retainable(fragment.tags),
  }
}
