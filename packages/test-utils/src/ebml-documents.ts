import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Element IDs (RFC 8794 §11.2, RFC 9559 §5.1) the walk needs, with their marker bits, as in the spec.
const EBMLHeader = 0x1a45dfa3
const Segment = 0x18538067
const Cluster = 0x1f43b675
// Top-level Segment children: an unknown-size Cluster ends where one of these (or a new EBML header) starts.
const segmentChildren = new Set([
  0x114d9b74, // SeekHead
  0x1549a966, // Info
  0x1654ae6b, // Tracks
  0x1f43b675, // Cluster
  0x1c53bb6b, // Cues
  0x1941a469, // Attachments
  0x1043a770, // Chapters
  0x1254c367, // Tags
])

/**
 * Splits a concatenation of EBML documents (KVS GetMedia output: one EBML header + Segment per fragment)
 * into one `subarray` view per document. It walks the element structure, including unknown-size Segments
 * and Clusters (which end at the next EBML header, or at a top-level Segment child), rather than searching
 * for the bytes `1A 45 DF A3`, so frame payloads that happen to contain them do not split a document.
 * A document truncated by the end of the input is returned as it is.
 *
 * This is a test-side reader for cutting fixtures; it checks only what it needs to find boundaries.
 *
 * @throws Error when a document does not start with an EBML header, or an ID or size is malformed.
 * @see https://www.rfc-editor.org/rfc/rfc8794 (EBML), https://www.rfc-editor.org/rfc/rfc9559 (Matroska)
 */
export function splitEbmlDocuments(bytes: Uint8Array): Uint8Array[] {
  const documents: Uint8Array[] = []
  let position = 0
  while (position < bytes.length) {
    const start = position
    const header = readElementHeader(bytes, position)
    if (header.id !== EBMLHeader) {
      throw new Error(`expected an EBML header at offset ${position}, found ID 0x${header.id.toString(16)}`)
    }
    position = skip(bytes, header, position)
    while (position < bytes.length) {
      const element = readElementHeader(bytes, position)
      if (element.id === EBMLHeader) break
      if (element.id === Segment && element.size === null) {
        position = skipUnknownSize(bytes, position + element.headerLength, (id) => id === EBMLHeader, true)
      } else {
        position = skip(bytes, element, position)
      }
    }
    documents.push(bytes.subarray(start, position))
  }
  return documents
}

/**
 * Runs `inspect` (e.g. `mkvinfoSummary` or `ffprobeCounts`) on each EBML document of `file` separately,
 * writing each to a temporary file first, since mkvinfo and ffprobe read a concatenated GetMedia response
 * as one damaged document. Resolves with one result per document, in order; the temporary files are
 * removed afterwards.
 *
 * @example const perFragment = await perDocument(fixturePath('kvs-getmedia/output_get_media.mkv'), mkvinfoSummary)
 */
export async function perDocument<T>(file: string, inspect: (path: string) => Promise<T>): Promise<T[]> {
  const documents = splitEbmlDocuments(new Uint8Array(await readFile(file)))
  const directory = await mkdtemp(join(tmpdir(), 'kvs-streams-documents-'))
  try {
    const results: T[] = []
    for (const [index, document] of documents.entries()) {
      const path = join(directory, `document-${index}.mkv`)
      await writeFile(path, document)
      results.push(await inspect(path))
    }
    return results
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

interface ElementHeader {
  id: number
  /** Payload size, or `null` for the reserved unknown-size value. */
  size: number | null
  headerLength: number
}

function skip(bytes: Uint8Array, element: ElementHeader, position: number): number {
  if (element.size === null) {
    throw new Error(
      `unknown-size element 0x${element.id.toString(16)} at offset ${position} is not supported here`,
    )
  }
  return Math.min(bytes.length, position + element.headerLength + element.size)
}

// Skips children from `position` until `ends(id)` or the end of input; with `inSegment`, an unknown-size
// Cluster child is walked the same way, ending at a Segment child or a new EBML header / Segment.
function skipUnknownSize(
  bytes: Uint8Array,
  position: number,
  ends: (id: number) => boolean,
  inSegment: boolean,
): number {
  while (position < bytes.length) {
    const element = readElementHeader(bytes, position)
    if (ends(element.id)) return position
    if (element.size === null && inSegment && element.id === Cluster) {
      const clusterEnds = (id: number) => id === EBMLHeader || id === Segment || segmentChildren.has(id)
      position = skipUnknownSize(bytes, position + element.headerLength, clusterEnds, false)
    } else {
      position = skip(bytes, element, position)
    }
  }
  return position
}

function readElementHeader(bytes: Uint8Array, position: number): ElementHeader {
  const id = readVint(bytes, position, 4, true)
  const size = readVint(bytes, position + id.length, 8, false)
  return { id: id.value, size: size.unknown ? null : size.value, headerLength: id.length + size.length }
}

// An EBML variable-length integer (RFC 8794 §4): the count of leading zero bits gives the length.
function readVint(bytes: Uint8Array, position: number, maxLength: number, keepMarker: boolean) {
  const first = bytes[position]
  if (first === undefined) throw new Error(`input ends inside an element header at offset ${position}`)
  const length = Math.clz32(first) - 23
  if (length < 1 || length > maxLength) {
    throw new Error(`invalid EBML ${keepMarker ? 'ID' : 'size'} at offset ${position}`)
  }
  if (position + length > bytes.length)
    throw new Error(`input ends inside an element header at offset ${position}`)
  let value = keepMarker ? first : first & (0xff >> length)
  let allOnes = value === 0xff >> length
  for (let i = 1; i < length; i++) {
    const byte = bytes[position + i]!
    value = value * 256 + byte
    allOnes &&= byte === 0xff
  }
  return { value, length, unknown: !keepMarker && allOnes }
}
