import { concatBytes, createEbmlReader, ElementId, readString, writeSimpleTags } from '@kvs-streams/ebml'
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
  /** The Cluster element. */
  cluster: Uint8Array
  /** The Tags elements with user metadata (reserved tags removed); empty when there are none. */
  tags: Uint8Array
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
 * Splits the bytes of one fragment (a Cluster followed by level-1 Tags, as the chunker emits it) into the
 * cluster and the producer's metadata, and checks the metadata limits: at most 10 user SimpleTags, names up to
 * 128 bytes, values up to 256 bytes, no user name starting with `AWS` (reserved `AWS_KINESISVIDEO_*` producer
 * names excepted). Tags elements holding only reserved tags are dropped; mixed ones are rewritten without them.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html
 */
export function splitFragment(bytes: Uint8Array): SplitFragment {
  const reader = createEbmlReader({ dataMode: tagData })
  let cluster = bytes.subarray(0, 0)
  const elements: TagsElement[] = []
  let current: TagsElement | undefined
  /** Open SimpleTags (they nest), innermost last. */
  const open: { name: string; value: string }[] = []
  let violation: string | undefined

  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.depth === 0) {
      if (event.type === 'element-start' && event.id === ElementId.Tags) {
        current = { start: event.offset, end: event.offset, user: [], reserved: 0 }
      } else if (event.type === 'element-end' && event.id === ElementId.Tags && current !== undefined) {
        current.end = event.end
        elements.push(current)
        current = undefined
      } else if (event.type === 'element-end' && event.id === ElementId.Cluster && cluster.length === 0) {
        cluster = bytes.subarray(event.offset, event.end)
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
  const kept: Uint8Array[] = []
  for (const element of elements) {
    if (element.user.length === 0) continue
    kept.push(
      element.reserved === 0 ? bytes.subarray(element.start, element.end) : writeSimpleTags(element.user),
    )
  }
  return {
    cluster,
    tags: kept.length === 1 ? kept[0]! : concatBytes(kept),
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
