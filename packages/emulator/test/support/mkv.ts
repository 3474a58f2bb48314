import { concatBytes } from '@kvs-streams/core'
import {
  ElementId,
  type SimpleTagInput,
  writeEbmlHeader,
  writeElement,
  writeSimpleBlock,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'

export interface TrackSpec {
  number: number
  /** 1 video, 2 audio. */
  type: number
  codecId: string
}

export interface BlockSpec {
  track: number
  /** Relative to the cluster, in TimecodeScale units (ms by default). */
  timecode: number
  keyframe?: boolean
  size?: number
}

export interface ClusterSpec {
  timecode: number
  blocks: BlockSpec[]
  /** Level-1 Tags written right after the cluster (producer fragment metadata). */
  tags?: SimpleTagInput[][]
  unknownSize?: boolean
}

export const VIDEO: TrackSpec = { number: 1, type: 1, codecId: 'V_MPEG4/ISO/AVC' }
export const AUDIO: TrackSpec = { number: 2, type: 2, codecId: 'A_AAC' }

/** The EBML header, unknown-size Segment start, Info and Tracks of a producer stream. */
export function mkvHeader(tracks: TrackSpec[] = [VIDEO], timecodeScale = 1_000_000): Uint8Array {
  return concatBytes([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment),
    writeElement(ElementId.Info, [
      writeUint(ElementId.TimecodeScale, timecodeScale),
      writeString(ElementId.MuxingApp, 'kvs-streams test'),
      writeString(ElementId.WritingApp, 'kvs-streams test'),
    ]),
    writeElement(
      ElementId.Tracks,
      tracks.map((track) =>
        writeElement(ElementId.TrackEntry, [
          writeUint(ElementId.TrackNumber, track.number),
          writeUint(ElementId.TrackUID, track.number),
          writeUint(ElementId.TrackType, track.type),
          writeString(ElementId.CodecID, track.codecId),
        ]),
      ),
    ),
  ])
}

/** One Cluster (and the Tags after it). */
export function mkvCluster(cluster: ClusterSpec): Uint8Array {
  const body = [
    writeUint(ElementId.Timecode, cluster.timecode),
    ...cluster.blocks.map((block) =>
      writeSimpleBlock({
        track: block.track,
        timecode: block.timecode,
        keyframe: block.keyframe ?? false,
        data: new Uint8Array(block.size ?? 32).fill(block.track),
      }),
    ),
  ]
  const element = cluster.unknownSize
    ? concatBytes([writeUnknownSizeStart(ElementId.Cluster), ...body])
    : writeElement(ElementId.Cluster, body)
  return concatBytes([element, ...(cluster.tags ?? []).map((tags) => writeSimpleTags(tags))])
}

/** A video cluster of `frames` frames, `frameMs` apart, the first a key frame. */
export function videoCluster(timecode: number, frames = 3, frameMs = 33): ClusterSpec {
  return {
    timecode,
    blocks: Array.from({ length: frames }, (_, i) => ({
      track: 1,
      timecode: i * frameMs,
      keyframe: i === 0,
    })),
  }
}

/** A whole PutMedia body. */
export function mkvStream(clusters: ClusterSpec[], tracks: TrackSpec[] = [VIDEO]): Uint8Array {
  return concatBytes([mkvHeader(tracks), ...clusters.map(mkvCluster)])
}

/** `count` one-second video fragments starting at `startTimecode`. */
export function videoStream(count: number, startTimecode = 0): Uint8Array {
  return mkvStream(Array.from({ length: count }, (_, i) => videoCluster(startTimecode + i * 1000)))
}
