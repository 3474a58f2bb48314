import { partsLength } from './parts.ts'
import type { FragmentInfo, FragmentParts, FragmentToStore } from './types.ts'

/**
 * A fragment file: the magic `KVSFRAG1`, a uint32 (big-endian) byte length of the JSON metadata, the
 * metadata (`FragmentInfo` plus the three byte lengths), then the header, cluster and tags bytes. The
 * header + cluster + tags part is itself a playable MKV document.
 */
const MAGIC = new TextEncoder().encode('KVSFRAG1')
export const FRAGMENT_FILE_PREFIX_BYTES = MAGIC.length + 4

export interface FileMetadata extends FragmentInfo {
  headerLength: number
  clusterLength: number
  tagsLength: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The file's bytes, as parts to write in order (one `writev`): the fragment's parts are not copied. */
export function encodeFragmentFile(fragment: FragmentToStore): Uint8Array[] {
  const { header, cluster, tags, ...info } = fragment
  const metadata: FileMetadata = {
    ...info,
    headerLength: header.length,
    clusterLength: partsLength(cluster),
    tagsLength: partsLength(tags),
  }
  const json = encoder.encode(JSON.stringify(metadata))
  const prefix = new Uint8Array(FRAGMENT_FILE_PREFIX_BYTES)
  prefix.set(MAGIC, 0)
  new DataView(prefix.buffer).setUint32(MAGIC.length, json.length)
  return [prefix, json, header, ...cluster, ...tags].filter((part) => part.length > 0)
}

/** Length of the metadata JSON that follows the prefix, or `undefined` when the prefix is not a fragment file's. */
export function readMetadataLength(prefix: Uint8Array): number | undefined {
  if (prefix.length < FRAGMENT_FILE_PREFIX_BYTES) return undefined
  for (let i = 0; i < MAGIC.length; i++) if (prefix[i] !== MAGIC[i]) return undefined
  return new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(MAGIC.length)
}

/** Parses the metadata JSON; `undefined` when it is not a fragment's. */
export function decodeMetadata(json: Uint8Array): FileMetadata | undefined {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(json))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const metadata = value as FileMetadata
  if (typeof metadata.fragmentNumber !== 'string' || !Number.isSafeInteger(metadata.sequence))
    return undefined
  for (const key of ['headerLength', 'clusterLength', 'tagsLength'] as const) {
    if (!Number.isSafeInteger(metadata[key]) || metadata[key] < 0) return undefined
  }
  return metadata
}

/** Splits the fragment info out of decoded metadata. */
export function infoOf(metadata: FileMetadata): FragmentInfo {
  const { headerLength: _h, clusterLength: _c, tagsLength: _t, ...info } = metadata
  return info
}

/** Where the parts of a fragment lie in its file, from its metadata. */
export interface FragmentLayout {
  /** File offset of the header; the cluster follows it, then the tags. */
  headerOffset: number
  headerLength: number
  clusterLength: number
  tagsLength: number
  /** Bytes of the whole file. */
  fileLength: number
}

/** The layout of a fragment file whose metadata JSON has `metadataLength` bytes. */
export function layoutOf(metadata: FileMetadata, metadataLength: number): FragmentLayout {
  const headerOffset = FRAGMENT_FILE_PREFIX_BYTES + metadataLength
  const { headerLength, clusterLength, tagsLength } = metadata
  return {
    headerOffset,
    headerLength,
    clusterLength,
    tagsLength,
    fileLength: headerOffset + headerLength + clusterLength + tagsLength,
  }
}

/** Cuts the bytes that follow the metadata into header, cluster and tags (views). */
export function splitBody(metadata: FileMetadata, body: Uint8Array): FragmentParts | undefined {
  const { headerLength, clusterLength, tagsLength } = metadata
  if (body.length !== headerLength + clusterLength + tagsLength) return undefined
  return {
    header: body.subarray(0, headerLength),
    cluster: [body.subarray(headerLength, headerLength + clusterLength)],
    tags: tagsLength === 0 ? [] : [body.subarray(headerLength + clusterLength)],
  }
}
