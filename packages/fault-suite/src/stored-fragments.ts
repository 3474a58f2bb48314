import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { clustersOf, sha256 } from './clusters.ts'

/** One fragment as stored, read without the emulator's code. */
export interface StoredCluster {
  /** The fragment number (the file name), 47 decimal digits. */
  fragmentNumber: string
  cluster: Uint8Array
  hash: string
}

/** What a walk of a data directory found besides fragments. */
export interface DiskWalk {
  fragments: StoredCluster[]
  /** Fragment files that are not one whole MKV document with one Cluster (should never happen). */
  corrupt: string[]
  /** Temporary files a kill -9 left behind (the emulator drops them on start; not fragments). */
  temporary: number
}

const MAGIC = 'KVSFRAG1'

/**
 * Reads every fragment of `streamName` straight from an emulator data directory, with its own parse of the
 * files: `streams/<stream>/fragments/<fragment number>.kvsf`, each the 8-byte magic `KVSFRAG1`, a big-endian
 * uint32 length of a JSON metadata block, the metadata, then an MKV document (header, Cluster, Tags). The
 * Cluster is found by an EBML walk of that document (`@kvs-streams/ebml`'s reader), not by the metadata's
 * lengths. Fragments come in fragment-number order (the storage order). Stream names here are plain
 * (`[A-Za-z0-9_.-]`), so the directory is the name.
 */
export async function readStoredFragments(dataDir: string, streamName: string): Promise<DiskWalk> {
  const directory = join(dataDir, 'streams', streamName, 'fragments')
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { fragments: [], corrupt: [], temporary: 0 }
    throw error
  }
  const walk: DiskWalk = { fragments: [], corrupt: [], temporary: 0 }
  const files = names.filter((name) => name.endsWith('.kvsf')).sort()
  walk.temporary = names.filter((name) => name.endsWith('.tmp')).length
  for (const name of files) {
    const file = await readFile(join(directory, name))
    const fragmentNumber = name.slice(0, -'.kvsf'.length)
    const magic = file.subarray(0, 8).toString('latin1')
    if (file.length < 12 || magic !== MAGIC) {
      walk.corrupt.push(name)
      continue
    }
    const metadataLength = file.readUInt32BE(8)
    let clusters: Uint8Array[]
    try {
      clusters = clustersOf(file.subarray(12 + metadataLength))
    } catch {
      walk.corrupt.push(name)
      continue
    }
    if (clusters.length !== 1) {
      walk.corrupt.push(name)
      continue
    }
    const cluster = clusters[0]!
    walk.fragments.push({ fragmentNumber, cluster, hash: sha256(cluster) })
  }
  return walk
}
