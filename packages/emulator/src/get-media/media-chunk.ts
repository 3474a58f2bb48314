import { concatBytes } from '@kvs-streams/core'
import {
  createEbmlReader,
  ElementId,
  writeEbmlHeader,
  writeSimpleTags,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import type { FragmentInfo } from '../storage/types.ts'

/**
 * Tag names KVS writes into GetMedia and GetMediaForFragmentList output.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export const KvsMediaTag = {
  FragmentNumber: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
  ServerTimestamp: 'AWS_KINESISVIDEO_SERVER_TIMESTAMP',
  ProducerTimestamp: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP',
  MillisBehindNow: 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW',
  ContinuationToken: 'AWS_KINESISVIDEO_CONTINUATION_TOKEN',
  ErrorId: 'AWS_KINESISVIDEO_ERROR_ID',
  ErrorCode: 'AWS_KINESISVIDEO_ERROR_CODE',
  ExceptionErrorCode: 'AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE',
  ExceptionMessage: 'AWS_KINESISVIDEO_EXCEPTION_MESSAGE',
} as const

/** KVS writes its Tags with 4-byte size fields (`12 54 C3 67 10 00 00 EB …` in real captures). */
const KVS_TAG_SIZE_WIDTH = 4

/**
 * Epoch milliseconds as KVS writes them in its tags: seconds with exactly three decimals
 * (`1519423069070` → `'1519423069.070'`).
 */
export function formatTagTimestamp(ms: number): string {
  const whole = Math.round(ms)
  const sign = whole < 0 ? '-' : ''
  const absolute = Math.abs(whole)
  return `${sign}${Math.floor(absolute / 1000)}.${String(absolute % 1000).padStart(3, '0')}`
}

/** The parts of a stored producer header that every chunk repeats, and the pre-Info Tags only the first gets. */
interface ChunkHeader {
  /** EBML header, Segment start and the level-1 elements except Tags before Info, in their order. */
  repeated: Uint8Array
  /** The same with the Tags that preceded Info/Tracks kept in place (PIC's metadata at stream start). */
  first: Uint8Array
}

/** Parsed headers by identity: fragments of one PutMedia connection share their header's bytes in memory. */
const headerCache = new WeakMap<Uint8Array, ChunkHeader>()

/**
 * Splits a stored header (EBML header, unknown-size Segment start, level-1 elements before the first Cluster,
 * as the producer sent them) into what each GetMedia chunk repeats: every element as stored (SeekHead, Void,
 * Info, Tracks, header Tags after them, as in every chunk of `output_get_media.mkv`), except Tags before Info,
 * which are fragment metadata and stay in the session's first chunk only, as in `test_mixed_tags.mkv`.
 */
export function chunkHeader(header: Uint8Array): ChunkHeader {
  const cached = headerCache.get(header)
  if (cached !== undefined) return cached
  const reader = createEbmlReader({ dataMode: () => 'skip' })
  const repeated: Uint8Array[] = []
  const first: Uint8Array[] = []
  /** End of the bytes already assigned to a part. */
  let position = 0
  /** Whether Info or Tracks was seen: later Tags are header Tags (repeated), earlier ones fragment metadata. */
  let afterInfo = false
  /** Start of the level-1 master element being read. */
  let openAt = -1
  /** Whether the Segment started: depth-1 events are then its children (before, the EBML header's). */
  let inSegment = false
  const take = (start: number, end: number, id: number) => {
    if (position < start) {
      repeated.push(header.subarray(position, start))
      first.push(header.subarray(position, start))
    }
    const bytes = header.subarray(start, end)
    if (id === ElementId.Tags && !afterInfo) first.push(bytes)
    else {
      if (id === ElementId.Info || id === ElementId.Tracks) afterInfo = true
      repeated.push(bytes)
      first.push(bytes)
    }
    position = end
  }
  let events: ReturnType<typeof reader.push>
  try {
    events = reader.push(header)
  } catch {
    // A header the PutMedia parser accepted always parses; keep the bytes as they are otherwise.
    events = []
    position = 0
  }
  for (const event of events) {
    if (event.depth === 0) {
      // The EBML header ends, or the Segment starts: both are repeated as stored.
      if (
        event.type === 'element-end' ||
        (event.type === 'element-start' && event.id === ElementId.Segment)
      ) {
        const end = event.type === 'element-end' ? event.end : event.offset + event.headerSize
        repeated.push(header.subarray(position, end))
        first.push(header.subarray(position, end))
        position = end
        if (event.type === 'element-start') inSegment = true
      }
      continue
    }
    if (event.depth !== 1 || !inSegment) continue
    if (event.type === 'element') take(event.offset, event.offset + event.headerSize + event.size, event.id)
    else if (event.type === 'element-start') openAt = event.offset
    else if (openAt >= 0) {
      take(openAt, event.end, event.id)
      openAt = -1
    }
  }
  if (position < header.length) {
    repeated.push(header.subarray(position))
    first.push(header.subarray(position))
  }
  const result = { repeated: concatBytes(repeated), first: concatBytes(first) }
  headerCache.set(header, result)
  return result
}

/** The producer header a fragment's chunk starts with. */
function headerOf(fragment: FragmentInfo, header: Uint8Array): Uint8Array {
  const parts = chunkHeader(header)
  return fragment.firstInSession === true ? parts.first : parts.repeated
}

/** The KVS Tags written before the cluster: fragment number, server and producer timestamps. */
function startTags(fragment: FragmentInfo): Uint8Array {
  return writeSimpleTags(
    [
      { name: KvsMediaTag.FragmentNumber, value: fragment.fragmentNumber },
      { name: KvsMediaTag.ServerTimestamp, value: formatTagTimestamp(fragment.serverTimestampMs) },
      { name: KvsMediaTag.ProducerTimestamp, value: formatTagTimestamp(fragment.producerTimestampMs) },
    ],
    { sizeWidth: KVS_TAG_SIZE_WIDTH },
  )
}

/**
 * What a fragment's chunk starts with, before its cluster: the producer's header (EBML header, Segment start,
 * Info, Tracks…) and the KVS Tags with the fragment number and timestamps. A GetMedia chunk is this, the
 * cluster as stored, the producer's fragment metadata, and `getMediaEndTags`; a GetMediaForFragmentList chunk
 * is the same without the end Tags.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetMediaForFragmentList.html
 */
export function chunkHead(fragment: FragmentInfo, header: Uint8Array): Uint8Array[] {
  return [headerOf(fragment, header), startTags(fragment)]
}

/** The KVS Tags that end a GetMedia chunk: MILLIS_BEHIND_NOW and the CONTINUATION_TOKEN (the fragment number). */
export function getMediaEndTags(fragment: FragmentInfo, millisBehindNow: number): Uint8Array {
  return writeSimpleTags(
    [
      { name: KvsMediaTag.MillisBehindNow, value: String(Math.max(0, Math.round(millisBehindNow))) },
      { name: KvsMediaTag.ContinuationToken, value: fragment.fragmentNumber },
    ],
    { sizeWidth: KVS_TAG_SIZE_WIDTH },
  )
}

/** An EBML document holding one Tags element: how KVS reports an error inside a media response. */
function errorDocument(tags: { name: string; value: string }[]): Uint8Array {
  return concatBytes([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment),
    writeSimpleTags(tags, { sizeWidth: KVS_TAG_SIZE_WIDTH }),
  ])
}

/** GetMedia ErrorIds and their descriptions (`AWS_KINESISVIDEO_ERROR_CODE` is "a string description"). */
export const GET_MEDIA_ERRORS = {
  3002: 'Error writing to the stream',
  4000: 'Requested fragment is not found',
  5000: 'Internal service error',
} as const

/**
 * A GetMedia error chunk: FRAGMENT_NUMBER, ERROR_ID and ERROR_CODE, no SERVER_TIMESTAMP (which is how readers
 * tell it from a fragment).
 */
export function getMediaErrorChunk(
  fragmentNumber: string,
  errorId: keyof typeof GET_MEDIA_ERRORS,
): Uint8Array {
  return errorDocument([
    { name: KvsMediaTag.FragmentNumber, value: fragmentNumber },
    { name: KvsMediaTag.ErrorId, value: String(errorId) },
    { name: KvsMediaTag.ErrorCode, value: GET_MEDIA_ERRORS[errorId] },
  ])
}

/** A GetMediaForFragmentList error chunk: FRAGMENT_NUMBER, EXCEPTION_ERROR_CODE and EXCEPTION_MESSAGE. */
export function fragmentListErrorChunk(
  fragmentNumber: string,
  errorCode: string,
  message: string,
): Uint8Array {
  return errorDocument([
    { name: KvsMediaTag.FragmentNumber, value: fragmentNumber },
    { name: KvsMediaTag.ExceptionErrorCode, value: errorCode },
    { name: KvsMediaTag.ExceptionMessage, value: message },
  ])
}
