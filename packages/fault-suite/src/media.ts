import { concatBytes } from '@kvs-streams/core'
import {
  ElementId,
  writeEbmlHeader,
  writeElement,
  writeSimpleBlock,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'
import { sha256 } from './clusters.ts'
import { seededRandom } from './random.ts'

function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i += 4) {
    const value = (random() * 4_294_967_296) >>> 0
    bytes[i] = value & 0xff
    bytes[i + 1] = (value >>> 8) & 0xff
    bytes[i + 2] = (value >>> 16) & 0xff
    bytes[i + 3] = value >>> 24
  }
  return bytes
}

export interface SourceMedia {
  /** EBML header, unknown-size Segment start, Info and Tracks. */
  header: Uint8Array
  /** One known-size Cluster element per fragment. */
  clusters: Uint8Array[]
  /** Cluster Timecode of each (ms, ABSOLUTE). */
  timecodes: number[]
  /** SHA-256 of each cluster's bytes. */
  hashes: string[]
  /** Indexes of the clusters built longer than the service's 10 s fragment limit. */
  tooLong: number[]
}

export interface SourceOptions {
  fragments: number
  /** Approximate size of a cluster. Default 20,000. */
  clusterBytes?: number
  /** Media time per fragment, ms. Default 100. */
  fragmentMs?: number
  seed?: number
  /** Fragment indexes made 11 s long (ErrorId 4002 at the service); the timeline leaves room after them. */
  tooLong?: number[]
  /** Timecode of the first cluster. Default: so that the last one ends 5 s before now (ABSOLUTE). */
  startTimecode?: number
  /** PixelWidth in Tracks, to tell headers apart. Default 640. */
  width?: number
}

/**
 * Source MKV with many small fragments: EBML header, unknown-size Segment, Info (TimecodeScale 1 ms), Tracks
 * with one video track, then clusters of ~`clusterBytes` with ABSOLUTE-style timecodes ending a few seconds
 * before now, each a key frame SimpleBlock of random bytes and three more blocks.
 */
export function makeSource(options: SourceOptions): SourceMedia {
  const { fragments, clusterBytes = 20_000, fragmentMs = 100, seed = 1, tooLong = [], width = 640 } = options
  const random = seededRandom(seed)
  const longMs = 11_000
  const span = fragments * fragmentMs + tooLong.length * (longMs + fragmentMs)
  let timecode = options.startTimecode ?? Date.now() - span - 5_000
  const header = concatBytes([
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment),
    writeElement(ElementId.Info, [writeUint(ElementId.TimecodeScale, 1_000_000)]),
    writeElement(ElementId.Tracks, [
      writeElement(ElementId.TrackEntry, [
        writeUint(ElementId.TrackNumber, 1),
        writeUint(ElementId.TrackUID, 1),
        writeUint(ElementId.TrackType, 1),
        writeString(ElementId.CodecID, 'V_MPEG4/ISO/AVC'),
        writeElement(ElementId.Video, [
          writeUint(ElementId.PixelWidth, width),
          writeUint(ElementId.PixelHeight, 360),
        ]),
      ]),
    ]),
  ])
  const clusters: Uint8Array[] = []
  const timecodes: number[] = []
  const key = Math.floor(clusterBytes * 0.6)
  const delta = Math.floor((clusterBytes - key) / 3)
  for (let index = 0; index < fragments; index++) {
    const long = tooLong.includes(index)
    const step = long ? longMs / 3 : fragmentMs / 4
    const blocks = [
      writeSimpleBlock({ track: 1, timecode: 0, keyframe: true, data: randomBytes(random, key) }),
    ]
    for (let i = 1; i <= 3; i++) {
      blocks.push(
        writeSimpleBlock({ track: 1, timecode: Math.round(step * i), data: randomBytes(random, delta) }),
      )
    }
    clusters.push(writeElement(ElementId.Cluster, [writeUint(ElementId.Timecode, timecode), ...blocks]))
    timecodes.push(timecode)
    timecode += long ? longMs + fragmentMs : fragmentMs
  }
  return { header, clusters, timecodes, hashes: clusters.map(sha256), tooLong }
}
