import { ToolFailedError } from './errors.ts'
import { run } from './run.ts'

/** A track entry as mkvinfo shows it. */
export interface MkvinfoTrack {
  /** TrackNumber, the number blocks refer to. */
  number: number
  /** CodecID, e.g. `V_MPEG4/ISO/AVC`, `A_AAC` (NUL padding removed by mkvinfo). */
  codecId: string
  /** `video`, `audio`, `subtitles`, … */
  type: string
}

/** One SimpleBlock or BlockGroup. */
export interface MkvinfoBlock {
  kind: 'simple-block' | 'block-group'
  track: number
  /** SimpleBlock key flag; for a BlockGroup, true when it has no ReferenceBlock. */
  key: boolean
  /** Frames in the block (more than 1 when laced). */
  frames: number
  /** Absolute block time in nanoseconds (cluster time + relative time, scaled). */
  timestampNs: number
}

/** One Cluster. */
export interface MkvinfoCluster {
  /** The Cluster's Timestamp (Timecode) element value, in TimestampScale units (milliseconds by default). */
  timecode: number
  /** The size field of the Cluster element (payload bytes), or `null` for unknown size. */
  size: number | null
  simpleBlocks: number
  blockGroups: number
  blocks: MkvinfoBlock[]
}

/** Block counts of one track. */
export interface MkvinfoTrackCounts {
  simpleBlocks: number
  blockGroups: number
  /** Frames over all of the track's blocks (counts each laced frame). */
  frames: number
  /** Blocks flagged key (SimpleBlock) or without ReferenceBlock (BlockGroup). */
  keyBlocks: number
}

/** What mkvinfo saw in a file; see {@link mkvinfoSummary}. */
export interface MkvinfoSummary {
  /** Segments mkvinfo showed. A concatenated file still shows 1: see `resyncs`. */
  segments: number
  /** Each Segment's size field, `null` for unknown size. */
  segmentSizes: (number | null)[]
  /**
   * "Resyncing successful" warnings. mkvinfo treats the EBML header of each further document in a
   * concatenated GetMedia response as damage and resyncs to the next level-1 element, so this is
   * documents − 1 there (and counts of tracks and clusters run across documents).
   */
  resyncs: number
  /** TimestampScale of the (first) Segment, nanoseconds per tick. */
  timestampScale: number
  /** Track entries, first occurrence of each track number (GetMedia repeats Tracks per document). */
  tracks: MkvinfoTrack[]
  clusters: number
  /** Each cluster's Timestamp element value, in file order. */
  clusterTimecodes: number[]
  /** Each cluster's size field, `null` for unknown size. */
  clusterSizes: (number | null)[]
  clusterDetails: MkvinfoCluster[]
  simpleBlocks: number
  blockGroups: number
  /** Counts per track number. */
  perTrack: Record<number, MkvinfoTrackCounts>
}

/**
 * Clusters, blocks and tracks of `file`, read by mkvinfo (mkvtoolnix), an implementation nobody here wrote.
 * Runs `mkvinfo --ui-language en_US -v -z <file>`: `-v` lists every SimpleBlock and BlockGroup (plain
 * `mkvinfo` stops at the first Cluster; `-a` adds only Cues and SeekHead entries) and `-z` adds each
 * element's size, or "size is unknown".
 *
 * For concatenated documents (KVS GetMedia output) see `resyncs`, and use {@link perDocument} to get one
 * summary per EBML document.
 *
 * @throws ToolFailedError when mkvinfo exits with status 2 (could not read the file); status 1 (warnings,
 * e.g. resyncs) is accepted.
 */
export async function mkvinfoSummary(
  file: string,
  options: { timeoutMs?: number } = {},
): Promise<MkvinfoSummary> {
  const args = ['--ui-language', 'en_US', '-v', '-z', file]
  const result = await run('mkvinfo', args, { timeoutMs: options.timeoutMs ?? 60_000 })
  if (result.code !== 0 && result.code !== 1) {
    throw new ToolFailedError(`mkvinfo ${args.join(' ')}`, result.code, result.stderr || result.stdout)
  }
  return parseMkvinfo(result.stdout)
}

/**
 * Parses the text `mkvinfo --ui-language en_US -v -z` prints (see {@link mkvinfoSummary}); exported so the
 * parsing itself can be tested on stored output.
 */
export function parseMkvinfo(text: string): MkvinfoSummary {
  const summary: MkvinfoSummary = {
    segments: 0,
    segmentSizes: [],
    resyncs: 0,
    timestampScale: 1_000_000,
    tracks: [],
    clusters: 0,
    clusterTimecodes: [],
    clusterSizes: [],
    clusterDetails: [],
    simpleBlocks: 0,
    blockGroups: 0,
    perTrack: {},
  }
  let scaleSeen = false
  let track: Partial<MkvinfoTrack> | undefined
  let cluster: MkvinfoCluster | undefined
  let group: MkvinfoBlock | undefined
  const finishTrack = () => {
    if (track?.number !== undefined && !summary.tracks.some((known) => known.number === track?.number)) {
      summary.tracks.push({ number: track.number, codecId: track.codecId ?? '', type: track.type ?? '' })
    }
    track = undefined
  }
  const addBlock = (block: MkvinfoBlock) => {
    if (cluster === undefined) return
    cluster.blocks.push(block)
    if (block.kind === 'simple-block') cluster.simpleBlocks++
    else cluster.blockGroups++
  }

  for (const line of text.split('\n')) {
    if (/Resyncing successful/.test(line)) summary.resyncs++
    const match = /^([| ]*)\+ (.*?)(?: size (?:is unknown|\d+ data size (\d+)))?$/.exec(line)
    if (match === null) continue
    const level = match[1]!.length
    const body = match[2]!
    const dataSize = match[3] === undefined ? null : Number(match[3])
    if (level <= 2) finishTrack()
    if (level <= 1) {
      cluster = undefined
      group = undefined
    }

    if (level === 0 && body.startsWith('Segment:')) {
      summary.segments++
      summary.segmentSizes.push(dataSize)
    } else if (level === 1 && body === 'Cluster') {
      cluster = { timecode: 0, size: dataSize, simpleBlocks: 0, blockGroups: 0, blocks: [] }
      summary.clusterDetails.push(cluster)
    } else if (level === 2 && body.startsWith('Timestamp scale: ') && !scaleSeen) {
      summary.timestampScale = Number(body.slice('Timestamp scale: '.length))
      scaleSeen = true
    } else if (level === 2 && body === 'Track') {
      track = {}
    } else if (level === 3 && track !== undefined && body.startsWith('Track number: ')) {
      track.number = Number.parseInt(body.slice('Track number: '.length), 10)
    } else if (level === 3 && track !== undefined && body.startsWith('Codec ID: ')) {
      track.codecId = body.slice('Codec ID: '.length)
    } else if (level === 3 && track !== undefined && body.startsWith('Track type: ')) {
      track.type = body.slice('Track type: '.length)
    } else if (cluster !== undefined && level === 2) {
      group = undefined
      if (body.startsWith('Cluster timestamp: ')) {
        cluster.timecode = Math.round(
          parseTime(body.slice('Cluster timestamp: '.length)) / summary.timestampScale,
        )
      } else if (body.startsWith('Simple block: ')) {
        addBlock(parseBlock('simple-block', body))
      } else if (body === 'Block group') {
        group = { kind: 'block-group', track: 0, key: true, frames: 0, timestampNs: 0 }
        addBlock(group)
      }
    } else if (group !== undefined && level === 3) {
      if (body.startsWith('Block: '))
        Object.assign(group, parseBlock('block-group', body), { key: group.key })
      else if (body.startsWith('Reference block: ')) group.key = false
    }
  }
  finishTrack()

  for (const { timecode, size, simpleBlocks, blockGroups, blocks } of summary.clusterDetails) {
    summary.clusterTimecodes.push(timecode)
    summary.clusterSizes.push(size)
    summary.simpleBlocks += simpleBlocks
    summary.blockGroups += blockGroups
    for (const block of blocks) {
      const counts = (summary.perTrack[block.track] ??= {
        simpleBlocks: 0,
        blockGroups: 0,
        frames: 0,
        keyBlocks: 0,
      })
      if (block.kind === 'simple-block') counts.simpleBlocks++
      else counts.blockGroups++
      counts.frames += block.frames
      if (block.key) counts.keyBlocks++
    }
  }
  summary.clusters = summary.clusterDetails.length
  return summary
}

// "Simple block: key, track number 1, 1 frame(s), timestamp 00:00:00.021000000"
// "Block: track number 2, 8 frame(s), timestamp 00:00:00.170000000"
function parseBlock(kind: MkvinfoBlock['kind'], body: string): MkvinfoBlock {
  const match = /^[A-Za-z ]+: (.*?)track number (\d+), (\d+) frame\(s\), timestamp (-?[\d:.]+)/.exec(body)
  if (match === null) throw new Error(`mkvinfo block line not understood: ${body}`)
  return {
    kind,
    track: Number(match[2]),
    key: /\bkey\b/.test(match[1]!),
    frames: Number(match[3]),
    timestampNs: parseTime(match[4]!),
  }
}

// mkvinfo prints times as [-]HH:MM:SS.nnnnnnnnn.
function parseTime(text: string): number {
  const match = /^(-?)(\d+):(\d+):(\d+)(?:\.(\d+))?/.exec(text)
  if (match === null) throw new Error(`mkvinfo time not understood: ${text}`)
  const fraction = (match[5] ?? '').padEnd(9, '0').slice(0, 9)
  const ns = (Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4])) * 1e9 + Number(fraction)
  return match[1] === '-' ? -ns : ns
}
