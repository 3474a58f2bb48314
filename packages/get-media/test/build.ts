// Builds GetMedia-style documents with @kvs-streams/ebml's writer, for cases no capture has.
import {
  ElementId,
  encodeId,
  encodeVint,
  type SimpleTagInput,
  writeEbmlHeader,
  writeElement,
  writeFloat,
  writeSimpleBlock,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { join } from './helpers.ts'

export interface TrackInput {
  number: number
  type?: number
  codecId?: string
  defaultDurationNs?: number
  samplingFrequency?: number
  channels?: number
}

export interface BlockInput {
  track?: number
  timecode: number
  keyframe?: boolean
  data?: Uint8Array
  /** Write a BlockGroup instead of a SimpleBlock. */
  group?: { duration?: number; reference?: number }
  /** Raw flags for a SimpleBlock (overrides keyframe), e.g. lacing bits. */
  flags?: number
}

export interface ClusterInput {
  timecode: number
  blocks: BlockInput[]
  unknownSize?: boolean
}

export interface DocumentInput {
  timecodeScale?: number
  tracks?: TrackInput[]
  /** Tags elements before the first Cluster (each a list of SimpleTags). */
  before?: SimpleTagInput[][]
  clusters?: ClusterInput[]
  /** Tags elements after the Clusters. */
  after?: SimpleTagInput[][]
  /** Write the Segment with its size instead of the unknown size. */
  knownSizeSegment?: boolean
}

/** The KVS tags before a fragment's Cluster. */
export function kvsStartTags(fragmentNumber: string, server = '1519423069.070', producer = '1519423067.997') {
  return [
    { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: fragmentNumber },
    { name: 'AWS_KINESISVIDEO_SERVER_TIMESTAMP', value: server },
    { name: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP', value: producer },
  ]
}

/** The KVS tags after a fragment's Cluster. */
export function kvsEndTags(fragmentNumber: string, millisBehindNow = '1000') {
  return [
    { name: 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW', value: millisBehindNow },
    { name: 'AWS_KINESISVIDEO_CONTINUATION_TOKEN', value: fragmentNumber },
  ]
}

/** One EBML document: header, Segment (unknown size unless asked), Info, Tracks, Tags, Clusters, Tags. */
export function buildDocument(input: DocumentInput): Uint8Array {
  const body: Uint8Array[] = []
  body.push(
    writeElement(ElementId.Info, [writeUint(ElementId.TimecodeScale, input.timecodeScale ?? 1_000_000)]),
  )
  const tracks = input.tracks ?? [{ number: 1 }]
  body.push(
    writeElement(
      ElementId.Tracks,
      tracks.map((track) => {
        const children = [
          writeUint(ElementId.TrackNumber, track.number),
          writeUint(ElementId.TrackUID, track.number),
          writeUint(ElementId.TrackType, track.type ?? 1),
          writeString(ElementId.CodecID, track.codecId ?? 'V_MPEG4/ISO/AVC'),
        ]
        if (track.defaultDurationNs !== undefined) {
          children.push(writeUint(ElementId.DefaultDuration, track.defaultDurationNs))
        }
        if (track.samplingFrequency !== undefined || track.channels !== undefined) {
          children.push(
            writeElement(ElementId.Audio, [
              writeFloat(ElementId.SamplingFrequency, track.samplingFrequency ?? 48_000),
              writeUint(ElementId.Channels, track.channels ?? 2),
            ]),
          )
        }
        return writeElement(ElementId.TrackEntry, children)
      }),
    ),
  )
  for (const tags of input.before ?? []) body.push(writeSimpleTags(tags, { sizeWidth: 4 }))
  for (const cluster of input.clusters ?? []) body.push(buildCluster(cluster))
  for (const tags of input.after ?? []) body.push(writeSimpleTags(tags, { sizeWidth: 4 }))
  const segment = input.knownSizeSegment
    ? writeElement(ElementId.Segment, body)
    : join([writeUnknownSizeStart(ElementId.Segment, 8), ...body])
  return join([writeEbmlHeader(), segment])
}

export function buildCluster(cluster: ClusterInput): Uint8Array {
  const children = [writeUint(ElementId.Timecode, cluster.timecode), ...cluster.blocks.map(buildBlock)]
  return cluster.unknownSize
    ? join([writeUnknownSizeStart(ElementId.Cluster), ...children])
    : writeElement(ElementId.Cluster, children)
}

function buildBlock(block: BlockInput): Uint8Array {
  const data = block.data ?? Uint8Array.of(1, 2, 3)
  const track = block.track ?? 1
  if (block.group === undefined) {
    const simple = writeSimpleBlock({
      track,
      timecode: block.timecode,
      keyframe: block.keyframe ?? false,
      data,
    })
    if (block.flags !== undefined) simple[simple.length - data.length - 1] = block.flags
    return simple
  }
  const header = join([
    encodeVint(track),
    Uint8Array.of((block.timecode >> 8) & 0xff, block.timecode & 0xff, 0),
  ])
  const children = [writeElement(ElementId.Block, [header, data])]
  if (block.group.duration !== undefined)
    children.push(writeUint(ElementId.BlockDuration, block.group.duration))
  if (block.group.reference !== undefined) {
    children.push(writeElement(ElementId.ReferenceBlock, Uint8Array.of(block.group.reference & 0xff)))
  }
  return writeElement(ElementId.BlockGroup, children)
}

/** An element header with an arbitrary (even absurd) declared size, followed by nothing. */
export function elementHeader(id: number, size: number | bigint, sizeWidth = 8): Uint8Array {
  const sizeBytes = new Uint8Array(sizeWidth)
  let rest = BigInt(size)
  for (let i = sizeWidth - 1; i >= 0; i--) {
    sizeBytes[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  sizeBytes[0]! |= 0x80 >> (sizeWidth - 1)
  return join([encodeId(id), sizeBytes])
}
