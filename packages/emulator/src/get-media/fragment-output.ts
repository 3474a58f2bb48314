import { partsLength } from '../storage/parts.ts'
import type { FileFragmentSource, FragmentSource } from '../storage/types.ts'
import type { MediaResponse } from './media-response.ts'

/**
 * Bytes of the buffers a cluster is read into from its file: a 1 s fragment of a 1 Mbps stream (~125 KB) takes
 * one read.
 */
export const PIECE_BYTES = 128 * 1024
/** Buffers kept for reuse when no write holds them (shared by every media response of the process). */
const MAX_FREE_PIECES = 16
const freePieces: Uint8Array[] = []

function takePiece(): Uint8Array {
  return freePieces.pop() ?? new Uint8Array(PIECE_BYTES)
}

function returnPiece(piece: Uint8Array): void {
  if (freePieces.length < MAX_FREE_PIECES) freePieces.push(piece)
}

/**
 * A read from a fragment file failed after part of its chunk was written: the response cannot go on (the
 * client has an incomplete chunk), and it was destroyed.
 */
export class BrokenChunkError extends Error {
  override name = 'BrokenChunkError'
}

/**
 * Writes one fragment's chunk: `head`, the cluster, the fragment's metadata Tags, then `tail`. Resolves false
 * when the response is over. A cluster held in memory is written as the parts it is held in (one HTTP chunk,
 * no copy). A cluster in a file is read with positional reads into a reusable buffer, piece by piece, each
 * piece written and taken by the socket before the buffer is read into again, so no fragment is read whole
 * into new memory; Node has no `sendfile` to a socket, so the bytes go page cache → buffer → socket.
 * Rejects when the file cannot be read: before any byte of the chunk was written, with the read's error (an
 * error chunk can follow), else with a `BrokenChunkError` once the response is destroyed.
 */
export async function writeFragmentChunk(
  media: MediaResponse,
  source: FragmentSource,
  head: readonly Uint8Array[],
  tail: readonly Uint8Array[],
): Promise<boolean> {
  if (source.kind === 'memory') {
    return media.writeChunk([...head, ...source.cluster, ...source.tags, ...tail])
  }
  return writeFromFile(media, source, head, tail)
}

async function writeFromFile(
  media: MediaResponse,
  source: FileFragmentSource,
  head: readonly Uint8Array[],
  tail: readonly Uint8Array[],
): Promise<boolean> {
  const piece = takePiece()
  /** Resolves once the socket has taken the piece's last write: it can then be read into again, or pooled. */
  let taken: Promise<void> = Promise.resolve()
  let before = head
  let offset = 0
  let started = false
  try {
    do {
      await taken
      let read: number
      try {
        read = await source.readCluster(piece, offset)
      } catch (error) {
        if (!started) throw error
        media.destroy()
        throw new BrokenChunkError(`the fragment's file could not be read: ${String(error)}`, {
          cause: error,
        })
      }
      offset += read
      if (!started) {
        media.startFragment(
          partsLength(head) + source.clusterLength + partsLength(source.tags) + partsLength(tail),
        )
        started = true
      }
      const last = offset >= source.clusterLength
      const parts = [...before, piece.subarray(0, read), ...(last ? [...source.tags, ...tail] : [])]
      before = []
      let written!: () => void
      taken = new Promise((resolve) => (written = resolve))
      if (!(await media.write(parts, written))) return false
    } while (offset < source.clusterLength)
    return true
  } finally {
    void taken.then(() => returnPiece(piece))
  }
}
