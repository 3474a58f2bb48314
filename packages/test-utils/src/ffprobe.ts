import { ToolFailedError } from './errors.ts'
import { run } from './run.ts'

/** One stream as ffprobe reports it. */
export interface FfprobeStream {
  /** Stream index in the container (0-based, in ffprobe's order). */
  index: number
  /** ffprobe's codec name: `h264`, `aac`, `vp9`, `opus`, … */
  codec: string
  /** `video`, `audio`, `subtitle`, `data`, … */
  codecType: string
}

/** Streams and packet counts of a media file, as read by ffprobe. */
export interface FfprobeCounts {
  streams: FfprobeStream[]
  /** Packets ffprobe read per stream (`nb_read_packets`), indexed like `streams`. */
  packetsPerStream: number[]
}

/**
 * Streams and packets per stream of `file`, from
 * `ffprobe -v error -count_packets -show_streams -of json`: a reading by a demuxer nobody here wrote, to
 * assert parsers and chunkers against. A laced Matroska block counts as one packet per frame.
 *
 * Note: on concatenated GetMedia output ffprobe resyncs past each new EBML header and counts the packets
 * of all documents under the first document's streams; use {@link perDocument} for per-document numbers.
 *
 * @throws ToolFailedError when ffprobe exits non-zero.
 */
export async function ffprobeCounts(
  file: string,
  options: { timeoutMs?: number } = {},
): Promise<FfprobeCounts> {
  const args = ['-v', 'error', '-count_packets', '-show_streams', '-of', 'json', file]
  const result = await run('ffprobe', args, { timeoutMs: options.timeoutMs ?? 60_000 })
  if (result.code !== 0) throw new ToolFailedError(`ffprobe ${args.join(' ')}`, result.code, result.stderr)
  const parsed = JSON.parse(result.stdout) as {
    streams?: { index: number; codec_name?: string; codec_type?: string; nb_read_packets?: string }[]
  }
  const streams = parsed.streams ?? []
  return {
    streams: streams.map((stream) => ({
      index: stream.index,
      codec: stream.codec_name ?? 'unknown',
      codecType: stream.codec_type ?? 'unknown',
    })),
    packetsPerStream: streams.map((stream) => Number(stream.nb_read_packets ?? 0)),
  }
}
