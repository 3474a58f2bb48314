import { chunkClusters } from '@kvs-streams/chunker'

/**
 * Epoch ms of 2000-01-01T00:00:00Z. An ABSOLUTE fragment timecode before it is not a wall-clock time: it is a
 * file's own timeline (clusters from 0), which KVS would store in 1970.
 */
export const EARLIEST_ABSOLUTE_TIMESTAMP_MS = Date.UTC(2000, 0, 1)

/**
 * How far ahead of the producer's clock a fragment's producer timestamp may be, ms. KVS refuses fragments
 * from the future (ERROR ack 4007 once a recording sent faster than real time runs about a minute ahead).
 */
export const MAX_FUTURE_TIMESTAMP_MS = 30_000

/** Options of `producerStartForFile`. */
export interface ProducerStartForFileOptions {
  /** Current time, epoch ms. Default `Date.now()`. */
  now?: number
}

/**
 * The `producerStartTimestamp` for sending a recording (RELATIVE timecodes) faster than real time: the time
 * that makes its last frame end now, so no fragment is dated in the future. A live source, sent as it is
 * captured, needs none: the default start (now) fits it. `kvs put FILE` uses this.
 *
 * @param source The file's bytes (a `fs.createReadStream`, any async iterable of chunks); read to the end.
 *   When the bytes are not readable Matroska, the media read up to the fault counts.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export async function producerStartForFile(
  source: AsyncIterable<Uint8Array>,
  options: ProducerStartForFileOptions = {},
): Promise<number> {
  const now = options.now ?? Date.now()
  let end = 0
  try {
    for await (const event of chunkClusters(source, { onViolation: 'emit' })) {
      if (event.type === 'fragment') end = Math.max(end, event.endMs)
    }
  } catch {
    // The producer reports unusable input when the same bytes are written to it.
  }
  return now - Math.ceil(end)
}
