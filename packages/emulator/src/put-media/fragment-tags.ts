import { ChunkStore } from '@kvs-streams/core'
import { createEbmlReader, type EbmlEvent, ElementId, readString, writeSimpleTags } from '@kvs-streams/ebml'
import type { FragmentMetadataTag } from '../storage/types.ts'

/** Producer → service tag names reserved by KVS (PIC `Stream.h`): they are instructions, not metadata. */
export const RESERVED_PRODUCER_TAGS: ReadonlySet<string> = new Set([
  'AWS_KINESISVIDEO_END_OF_FRAGMENT',
  'AWS_KINESISVIDEO_IMAGE_GENERATION',
  'AWS_KINESISVIDEO_IMAGE_PREFIX',
  'AWS_KINESISVIDEO_NOTIFICATION',
])

/** The tag that closes the open fragment (EoFR). */
export const END_OF_FRAGMENT_TAG = 'AWS_KINESISVIDEO_END_OF_FRAGMENT'

/** KVS fragment metadata limits (ErrorId 4009): items per fragment, name and value bytes. */
export const MAX_METADATA_TAGS = 10
export const MAX_TAG_NAME_BYTES = 128
export const MAX_TAG_VALUE_BYTES = 256

/** A fragment's bytes cut into its cluster and its producer metadata. */
export interface SplitFragment {
  /** The Cluster element: views of the parts it lies in, in order (no copy). */
  cluster: Uint8Array[]
  /**
   * The Tags elements with user metadata (reserved tags removed), in order: views of the parts for elements
   * kept as sent, new bytes for elements rewritten without their reserved tags; empty when there are none.
   */
  tags: Uint8Array[]
  /** The user SimpleTags, in order. */
  metadata: FragmentMetadataTag[]
  /** Why the metadata breaks the KVS limits (ErrorId 4009), if it does. */
  metadataViolation: string | undefined
}

const utf8 = new TextEncoder()
const tagData = (id: number) =>
  id === ElementId.TagName || id === ElementId.TagString || id === ElementId.TagBinary ? 'data' : 'skip'

interface TagsElement {
  start: number
  end: number
  user: FragmentMetadataTag[]
  reserved: number
}

/**
 * Splits one fragment (a Cluster followed by level-1 Tags, as the chunker emits it: `parts` are its bytes in
 * order, usually views of the received chunks) into the cluster and the producer's metadata, without joining
 * the parts: the cluster and the kept Tags come back as views of them. Checks the metadata limits: at most 10
 * user SimpleTags, names up to 128 bytes, values up to 256 bytes, no user name starting with `AWS` (reserved
 * `AWS_KINESISVIDEO_*` producer names excepted). Tags elements holding only reserved tags are dropped; mixed
 * ones are rewritten without them.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html
 */
export function splitFragment(parts: readonly Uint8Array[]): SplitFragment {
  const reader = createEbmlReader({ dataMode: tagData })
  const store = new ChunkStore()
  let clusterRange: [number, number] | undefined
  const elements: TagsElement[] = []
  let current: TagsElement | undefined
  /** Open SimpleTags (they nest), innermost last. */
  const open: { name: string; value: string }[] = []
  let violation: string | undefined

  const events: EbmlEvent[] = []
  for (const part of parts) {
    store.append(part)
    for (const event of reader.push(part)) events.push(event)
  }
  for (const event of reader.end()) events.push(event)
  for (const event of events) {
    if (event.depth === 0) {
      if (event.type === 'element-start' && event.id === ElementId.Tags) {
        current = { start: event.offset, end: event.offset, user: [], reserved: 0 }
      } else if (event.type === 'element-end' && event.id === ElementId.Tags && current !== undefined) {
        current.end = event.end
        elements.push(current)
        current = undefined
      } else if (
        event.type === 'element-end' &&
        event.id === ElementId.Cluster &&
        clusterRange === undefined
      ) {
        clusterRange = [event.offset, event.end]
      }
      continue
    }
    if (current === undefined) continue
    if (event.id === ElementId.SimpleTag) {
      if (event.type === 'element-start') open.push({ name: '', value: '' })
      else if (event.type === 'element-end') {
        const tag = open.pop()
        if (tag === undefined) continue
        if (RESERVED_PRODUCER_TAGS.has(tag.name)) current.reserved++
        else current.user.push(tag)
        violation ??= checkTag(tag)
      }
    } else if (event.type === 'element') {
      const tag = open[open.length - 1]
      if (tag === undefined) continue
      if (event.id === ElementId.TagName) tag.name = readString(event.data)
      else tag.value = readString(event.data)
    }
  }

  const metadata = elements.flatMap((element) => element.user)
  if (violation === undefined && metadata.length > MAX_METADATA_TAGS) {
    violation = `${metadata.length} metadata tags in one fragment, over the limit of ${MAX_METADATA_TAGS}`
  }
  const tags: Uint8Array[] = []
  for (const element of elements) {
    if (element.user.length === 0) continue
    if (element.reserved === 0) tags.push(...store.slice(element.start, element.end))
    else tags.push(writeSimpleTags(element.user))
  }
  return {
    cluster: clusterRange === undefined ? [] : store.slice(clusterRange[0], clusterRange[1]),
    tags,
    metadata,
    metadataViolation: violation,
  }
}

function checkTag(tag: FragmentMetadataTag): string | undefined {
  const nameBytes = utf8.encode(tag.name).length
  if (nameBytes > MAX_TAG_NAME_BYTES)
    return `tag name of ${nameBytes} bytes, over the limit of ${MAX_TAG_NAME_BYTES}`
  const valueBytes = utf8.encode(tag.value).length
  if (valueBytes > MAX_TAG_VALUE_BYTES) {
    return `value of tag ${tag.name} has ${valueBytes} bytes, over the limit of ${MAX_TAG_VALUE_BYTES}`
  }
  if (tag.name.startsWith('AWS') && !RESERVED_PRODUCER_TAGS.has(tag.name)) {
    return `tag name ${tag.name} starts with AWS, which is reserved`
  }
  return undefined
}
