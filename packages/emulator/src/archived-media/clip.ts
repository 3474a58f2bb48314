import { writeMp4File } from '@kvs-streams/fmp4'
import type { EmulatorContext } from '../context.ts'
import { ServiceError } from '../errors.ts'
import type { StreamRecord } from '../storage/types.ts'
import { fragmentRuns, fragmentTracks, readStored, sameCodecs } from './media.ts'
import { fragmentsInRange, noFragments, type Selection } from './selection.ts'

/** GetClip's limits: the first 200 fragments or 100 MB from the start timestamp, whichever comes first. */
export const MAX_CLIP_FRAGMENTS = 200
export const MAX_CLIP_BYTES = 100 * 1024 * 1024

/**
 * The MP4 file of a GetClip: the fragments whose start lies in the range (truncated to the service's
 * limits), their tracks after the service's requirements, frames on the selector's clock with gaps kept.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetClip.html
 */
export async function buildClip(
  context: EmulatorContext,
  stream: StreamRecord,
  selection: Selection,
): Promise<{ parts: Uint8Array[]; byteLength: number; fragments: number }> {
  const inRange = fragmentsInRange(context.storage.listFragments(stream.streamName), selection)
  if (inRange.length === 0) throw noFragments('No fragments were found in the requested time range.')
  const chosen = []
  let bytes = 0
  for (const fragment of inRange) {
    if (
      chosen.length === MAX_CLIP_FRAGMENTS ||
      (chosen.length > 0 && bytes + fragment.sizeBytes > MAX_CLIP_BYTES)
    )
      break
    chosen.push(fragment)
    bytes += fragment.sizeBytes
  }
  const tracks = await fragmentTracks(context, stream.streamARN, stream.streamName, chosen[0]!, 'clip')
  const runs = []
  for (const [i, fragment] of chosen.entries()) {
    const own = await fragmentTracks(context, stream.streamARN, stream.streamName, fragment, 'clip')
    if (!sameCodecs(own, tracks)) {
      throw new ServiceError(
        'InvalidCodecPrivateDataException',
        400,
        `The codec private data of fragment ${fragment.fragmentNumber} differs from the first fragment's of the clip.`,
      )
    }
    const stored = await readStored(context, stream.streamName, fragment)
    runs.push(fragmentRuns(stored, tracks, selection.selector, chosen[i + 1]))
  }
  const file = writeMp4File(tracks, runs)
  return { ...file, fragments: chosen.length }
}
