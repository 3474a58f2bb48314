import { writeSimpleTags } from '@kvs-streams/ebml'

/** The reserved tag that tells KVS the open fragment is complete (EoFR). */
export const END_OF_FRAGMENT_TAG = 'AWS_KINESISVIDEO_END_OF_FRAGMENT'

/**
 * A level-1 Tags element holding the end-of-fragment tag with an empty value, as the Producer SDK writes it
 * (8-byte size fields). Sent after a fragment, it lets the service acknowledge the fragment at once instead of
 * when the next Cluster starts; the service does not store reserved tags.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/how-meta.html
 */
export const END_OF_FRAGMENT_TAGS: Uint8Array = writeSimpleTags([{ name: END_OF_FRAGMENT_TAG, value: '' }], {
  sizeWidth: 8,
})
