import { BoxWriter } from './box-writer.ts'
import { NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS } from './boxes.ts'
import { Fmp4Error } from './errors.ts'
import type { TrackRun } from './samples.ts'

/** A media segment's bytes: the `moof` and `mdat` header, then the samples as views of their frames. */
export interface MediaSegmentBytes {
  /** In order: one buffer with `moof` and the `mdat` header, then each sample's data (no copy). */
  parts: Uint8Array[]
  byteLength: number
}

const TRUN_DATA_OFFSET = 0x1
const TRUN_DURATION = 0x100
const TRUN_SIZE = 0x200
const TRUN_FLAGS = 0x400
const TRUN_COMPOSITION_OFFSET = 0x800
const TFHD_DEFAULT_BASE_IS_MOOF = 0x02_0000

/**
 * One media segment: `moof` (`mfhd` with `sequenceNumber`, one `traf` per run: `tfhd` with
 * default-base-is-moof, `tfdt` version 1 with the run's base decode time, `trun` with each sample's
 * duration, size, flags and, when any is non-zero, composition offset; version 1 when one is negative),
 * then one `mdat` holding the runs' samples in order. The samples are not copied: `parts` lists them as
 * they were given, after one buffer with the boxes.
 * @see ISO/IEC 14496-12 §8.8.4–§8.8.12
 */
export function writeMediaSegment(sequenceNumber: number, runs: readonly TrackRun[]): MediaSegmentBytes {
  const w = new BoxWriter(256 + runs.reduce((sum, run) => sum + 16 * run.samples.length + 64, 0))
  w.start('moof')
  w.startFull('mfhd', 0, 0).u32(sequenceNumber).end()
  const dataOffsetFields: number[] = []
  const runBytes: number[] = []
  for (const run of runs) {
    const samples = run.samples
    let offsets = false
    let negative = false
    let bytes = 0
    for (const sample of samples) {
      if (sample.compositionOffset !== 0) offsets = true
      if (sample.compositionOffset < 0) negative = true
      bytes += sample.data.length
    }
    runBytes.push(bytes)
    w.start('traf')
    w.startFull('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF).u32(run.track.id).end()
    w.startFull('tfdt', 1, 0).u64(run.baseDecodeTime).end()
    const flags =
      TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | (offsets ? TRUN_COMPOSITION_OFFSET : 0)
    w.startFull('trun', negative ? 1 : 0, flags).u32(samples.length)
    dataOffsetFields.push(w.length)
    w.u32(0)
    const audio = run.track.kind === 'audio'
    for (const sample of samples) {
      w.u32(sample.duration).u32(sample.data.length)
      w.u32(audio || sample.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS)
      if (offsets) w.i32(sample.compositionOffset)
    }
    w.end() // trun
    w.end() // traf
  }
  const moofStart = w.end()
  const moofSize = w.length - moofStart
  const mdatPayload = runBytes.reduce((sum, bytes) => sum + bytes, 0)
  // Each trun's data_offset counts from the start of moof to its first sample inside mdat.
  let offset = moofSize + 8
  for (let i = 0; i < runs.length; i++) {
    w.setU32(dataOffsetFields[i]!, offset)
    offset += runBytes[i]!
  }
  w.u32(0).ascii('mdat')
  const header = w.finish()
  const mdatAt = header.length - 8
  new DataView(header.buffer, header.byteOffset).setUint32(mdatAt, checkedSize(8 + mdatPayload))
  const parts: Uint8Array[] = [header]
  for (const run of runs) for (const sample of run.samples) parts.push(sample.data)
  return { parts, byteLength: header.length + mdatPayload }
}

function checkedSize(size: number): number {
  if (size > 0xffff_ffff)
    throw new Fmp4Error('ERR_KVS_FMP4_TOO_LARGE', `an mdat of ${size} bytes needs a 64-bit size`)
  return size
}
