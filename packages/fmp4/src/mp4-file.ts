import { BoxWriter } from './box-writer.ts'
import { type SampleTables, writeFtyp, writeMvhd, writeTrak } from './boxes.ts'
import { Fmp4Error } from './errors.ts'
import type { MediaSegmentBytes } from './media-segment.ts'
import type { TrackRun } from './samples.ts'
import type { Mp4Track } from './track.ts'

/**
 * A whole, non-fragmented MP4 file (`ftyp`, `moov` first so players can start before the end, then one
 * `mdat`), as GetClip returns: `runs` are the fragments in order, each with one run per track (a track may
 * be missing from a fragment). Every run is one chunk; a gap between two runs of a track lengthens the
 * sample before it, so the file's timeline keeps the fragments' times; a track starting after the
 * earliest one gets an empty edit. The sample data is not copied: `parts` lists it after the boxes.
 * @see ISO/IEC 14496-12 §8.6 (sample tables), §8.6.6 (edit lists)
 */
export function writeMp4File(
  tracks: readonly Mp4Track[],
  runs: readonly (readonly TrackRun[])[],
): MediaSegmentBytes {
  if (tracks.length === 0)
    throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', 'an MP4 file needs at least one track')
  const perTrack = new Map<number, TrackRun[]>(tracks.map((track) => [track.id, []]))
  /** Chunks in file order: the runs of each fragment, track by track. */
  const chunks: TrackRun[] = []
  for (const fragment of runs) {
    for (const run of fragment) {
      if (run.samples.length === 0) continue
      const list = perTrack.get(run.track.id)
      if (list === undefined) {
        throw new Fmp4Error(
          'ERR_KVS_FMP4_NO_TRACK',
          `a run of track ${run.track.id}, which is not among the tracks`,
          {
            trackNumber: run.track.id,
          },
        )
      }
      list.push(run)
      chunks.push(run)
    }
  }
  const startSeconds = (track: Mp4Track) => {
    const first = perTrack.get(track.id)![0]
    return first === undefined ? Number.POSITIVE_INFINITY : first.baseDecodeTime / track.timescale
  }
  const movieStart = Math.min(...tracks.map(startSeconds))
  const chunkOffsets = new Map<TrackRun, number>()
  let mdatBytes = 0
  for (const chunk of chunks) {
    chunkOffsets.set(chunk, mdatBytes)
    for (const sample of chunk.samples) mdatBytes += sample.data.length
  }

  const layouts = tracks.map((track) => {
    const list = perTrack.get(track.id)!
    const tables: SampleTables = {
      timeToSample: [],
      compositionOffsets: [],
      syncSamples: [],
      sizes: [],
      samplesPerChunk: [],
      chunkOffsets: [],
    }
    let anyOffset = false
    let allSync = true
    let number = 0
    let mediaDuration = 0
    list.forEach((run, index) => {
      const next = list[index + 1]
      tables.chunkOffsets.push(chunkOffsets.get(run)!)
      const lastPerChunk = tables.samplesPerChunk[tables.samplesPerChunk.length - 1]
      if (lastPerChunk === undefined || lastPerChunk[1] !== run.samples.length)
        tables.samplesPerChunk.push([index + 1, run.samples.length])
      run.samples.forEach((sample, i) => {
        number++
        let duration = sample.duration
        // The last sample of a run lasts until the next run of the track starts (a gap stays a gap in time).
        if (i === run.samples.length - 1 && next !== undefined) {
          const gap = next.baseDecodeTime - (run.baseDecodeTime + run.duration)
          if (duration + gap > 0) duration += gap
        }
        mediaDuration += duration
        pushRun(tables.timeToSample, duration)
        pushRun(tables.compositionOffsets!, sample.compositionOffset)
        if (sample.compositionOffset !== 0) anyOffset = true
        if (sample.keyframe) tables.syncSamples!.push(number)
        else allSync = false
        tables.sizes.push(sample.data.length)
      })
    })
    if (!anyOffset) tables.compositionOffsets = undefined
    if (allSync) tables.syncSamples = undefined
    const startOffsetMs = list.length === 0 ? 0 : Math.round((startSeconds(track) - movieStart) * 1000)
    const durationMs = startOffsetMs + Math.round((mediaDuration / track.timescale) * 1000)
    return { track, tables, mediaDuration, startOffsetMs, durationMs }
  })

  const w = new BoxWriter(
    4096 + chunks.length * 32 + layouts.reduce((sum, l) => sum + l.tables.sizes.length * 12, 0),
  )
  writeFtyp(w, 'isom', ['isom', 'iso2', 'avc1', 'mp41'])
  w.start('moov')
  const movieDurationMs = Math.max(0, ...layouts.map((layout) => layout.durationMs))
  writeMvhd(w, movieDurationMs, Math.max(...tracks.map((track) => track.id)) + 1)
  for (const layout of layouts) {
    writeTrak(w, layout.track, {
      durationMs: layout.durationMs,
      mediaDuration: layout.mediaDuration,
      startOffsetMs: layout.startOffsetMs,
      tables: layout.tables,
    })
  }
  w.end()
  w.u32(0).ascii('mdat')
  const header = w.finish()
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  if (8 + mdatBytes > 0xffff_ffff || header.length + mdatBytes > 0xffff_ffff) {
    throw new Fmp4Error(
      'ERR_KVS_FMP4_TOO_LARGE',
      `an MP4 file of ${header.length + mdatBytes} bytes needs 64-bit offsets`,
    )
  }
  view.setUint32(header.length - 8, 8 + mdatBytes)
  // Chunk offsets were written relative to the mdat payload: make them file offsets now moov's size is known.
  for (const layout of layouts) {
    layout.tables.chunkOffsetFields?.forEach((field, i) => {
      view.setUint32(field, header.length + layout.tables.chunkOffsets[i]!)
    })
  }
  const parts: Uint8Array[] = [header]
  for (const chunk of chunks) for (const sample of chunk.samples) parts.push(sample.data)
  return { parts, byteLength: header.length + mdatBytes }
}

function pushRun(entries: [number, number][], value: number): void {
  const last = entries[entries.length - 1]
  if (last !== undefined && last[1] === value) last[0]++
  else entries.push([1, value])
}
