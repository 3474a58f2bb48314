import { invalidOption } from '@kvs-streams/core'
import { writeSimpleTags } from '@kvs-streams/ebml'
import { FragmentMetadataError } from './errors.ts'

/** One item of fragment metadata: an MKV SimpleTag (TagName + TagString). */
export interface FragmentMetadataTag {
  /** TagName: 1 to 128 bytes in UTF-8, not starting with `AWS`. */
  readonly name: string
  /** TagString: at most 256 bytes in UTF-8, possibly empty. */
  readonly value: string
}

/** Options of `producer.putMetadata()`. */
export interface PutMetadataOptions {
  /**
   * `false` (default): the tag goes with the current fragment only. `true`: with the current fragment and every
   * one after it, until a persistent tag of the same name replaces it or an empty value removes it.
   */
  persistent?: boolean
}

/**
 * The service's limits on fragment metadata, checked by `putMetadata()` before anything is sent (KVS answers a
 * fragment breaking them with ERROR 4009, `FRAGMENT_METADATA_LIMIT_REACHED`, and does not store it). Names and
 * values are counted in UTF-8 bytes; the `AWS` prefix is compared case-sensitively, as the AWS producers do.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html#how-meta-limits
 */
export const FRAGMENT_METADATA_LIMITS = {
  /** Tags per fragment (PIC `MAX_FRAGMENT_METADATA_COUNT`). */
  maxTags: 10,
  /** Bytes of a name (PIC `MKV_MAX_TAG_NAME_LEN`); a name also needs at least one. */
  maxNameBytes: 128,
  /** Bytes of a value (PIC `MKV_MAX_TAG_VALUE_LEN`); empty values are allowed. */
  maxValueBytes: 256,
  /** Names starting with it are the service's (PIC `AWS_INTERNAL_METADATA_PREFIX`). */
  reservedPrefix: 'AWS',
} as const

/** ErrorId KVS answers for metadata over its limits. */
const METADATA_LIMIT_ERROR_ID = 4009

const utf8 = new TextEncoder()

/** A queued tag, with whether it stays for later fragments. */
interface QueuedTag extends FragmentMetadataTag {
  readonly persistent: boolean
}

/** The tags a fragment carries, and the Tags element that carries them. */
export interface FragmentTags {
  tags: readonly FragmentMetadataTag[]
  /** A level-1 Tags element (one Tag, a SimpleTag per item, no Targets), to follow the fragment's Cluster. */
  bytes: Uint8Array
}

/**
 * The metadata queue of PIC's `putKinesisVideoFragmentMetadata`, as a pure data structure (no I/O): tags are
 * validated when put, and `take()` hands those of the next fragment out, keeping the persistent ones queued.
 * Order is PIC's: the order of the calls, a replaced persistent tag moving to the end.
 */
export class FragmentMetadataQueue {
  /** Tags for the next fragment, in the order they were put: one-shot ones leave at `take()`. */
  #queue: QueuedTag[] = []

  /** Tags queued for the next fragment. */
  get size(): number {
    return this.#queue.length
  }

  /**
   * Queues a tag for the next fragment `take()` is called for. Throws `FragmentMetadataError` (nothing queued)
   * for a tag the service would refuse, and `TypeError` for arguments of the wrong type.
   */
  put(name: string, value: string, options: PutMetadataOptions = {}): void {
    if (typeof name !== 'string') throw invalidOption('name', 'a string', name)
    if (typeof value !== 'string') throw invalidOption('value', 'a string', value)
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
    const persistent = options.persistent ?? false
    if (typeof persistent !== 'boolean') throw invalidOption('persistent', 'a boolean', persistent)
    const refused = checkFragmentMetadata(name, value)
    if (refused !== undefined) throw refused
    const queue = this.#queue
    if (persistent) {
      const existing = queue.findIndex((tag) => tag.persistent && tag.name === name)
      // An empty value cancels the persistent tag (and queues nothing, unlike a one-shot tag).
      if (value === '') {
        if (existing >= 0) queue.splice(existing, 1)
        return
      }
      if (existing >= 0) {
        queue.splice(existing, 1)
        queue.push({ name, value, persistent })
        return
      }
    }
    const { maxTags } = FRAGMENT_METADATA_LIMITS
    if (queue.length >= maxTags) {
      throw new FragmentMetadataError(
        'ERR_KVS_PRODUCER_METADATA_TOO_MANY',
        `Tag ${JSON.stringify(name)} would be tag ${queue.length + 1} of the fragment, over the service's limit ` +
          `of ${maxTags} (ErrorId ${METADATA_LIMIT_ERROR_ID}); persistent tags count in every fragment`,
        { tagName: name, errorId: METADATA_LIMIT_ERROR_ID, limit: maxTags, actual: queue.length + 1 },
      )
    }
    queue.push({ name, value, persistent })
  }

  /** The tags of the next fragment (undefined when there are none); one-shot tags leave the queue. */
  take(): FragmentTags | undefined {
    const queue = this.#queue
    if (queue.length === 0) return undefined
    const tags = queue.map(({ name, value }) => ({ name, value }))
    this.#queue = queue.filter((tag) => tag.persistent)
    return { tags, bytes: writeSimpleTags(tags) }
  }
}

/**
 * Why the service would refuse a tag on its own (name empty, over 128 bytes or starting with `AWS`, value over
 * 256 bytes), as a `FragmentMetadataError`; undefined when it is acceptable. The count per fragment is checked by
 * `putMetadata()`, which knows the queue.
 */
export function checkFragmentMetadata(name: string, value: string): FragmentMetadataError | undefined {
  const { maxNameBytes, maxValueBytes, reservedPrefix } = FRAGMENT_METADATA_LIMITS
  const errorId = METADATA_LIMIT_ERROR_ID
  if (name.length === 0) {
    return new FragmentMetadataError('ERR_KVS_PRODUCER_METADATA_NAME_EMPTY', 'A tag name cannot be empty', {
      tagName: name,
      limit: 1,
      actual: 0,
    })
  }
  const nameBytes = utf8.encode(name).length
  if (nameBytes > maxNameBytes) {
    return new FragmentMetadataError(
      'ERR_KVS_PRODUCER_METADATA_NAME_TOO_LONG',
      `Tag name ${JSON.stringify(name.slice(0, 32))}… has ${nameBytes} bytes in UTF-8, over the service's limit ` +
        `of ${maxNameBytes} (ErrorId ${errorId})`,
      { tagName: name, errorId, limit: maxNameBytes, actual: nameBytes },
    )
  }
  if (name.startsWith(reservedPrefix)) {
    return new FragmentMetadataError(
      'ERR_KVS_PRODUCER_METADATA_NAME_RESERVED',
      `Tag name ${JSON.stringify(name)} starts with ${reservedPrefix}, which the service reserves for its own ` +
        `tags (ErrorId ${errorId})`,
      { tagName: name, errorId },
    )
  }
  const valueBytes = utf8.encode(value).length
  if (valueBytes > maxValueBytes) {
    return new FragmentMetadataError(
      'ERR_KVS_PRODUCER_METADATA_VALUE_TOO_LONG',
      `The value of tag ${JSON.stringify(name)} has ${valueBytes} bytes in UTF-8, over the service's limit of ` +
        `${maxValueBytes} (ErrorId ${errorId})`,
      { tagName: name, errorId, limit: maxValueBytes, actual: valueBytes },
    )
  }
  return undefined
}
