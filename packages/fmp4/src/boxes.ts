import type { BoxWriter } from './box-writer.ts'
import type { Mp4Track } from './track.ts'

/** The unity transformation matrix of `mvhd` and `tkhd`. */
const MATRIX = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
/** ISO 639-2 `und`, packed as three 5-bit letters. */
const LANGUAGE_UND = 0x55c4

/** Sample flags of a sync sample: sample_depends_on = 2 (depends on no other sample). */
export const SYNC_SAMPLE_FLAGS = 0x0200_0000
/** Sample flags of a non-sync sample: sample_depends_on = 1, sample_is_non_sync_sample = 1. */
export const NON_SYNC_SAMPLE_FLAGS = 0x0101_0000

/** `ftyp` with the given major brand and compatible brands. */
export function writeFtyp(w: BoxWriter, major: string, compatible: readonly string[]): void {
  w.start('ftyp').ascii(major).u32(0x200)
  for (const brand of compatible) w.ascii(brand)
  w.end()
}

/** `mvhd` version 0 with the movie timescale (1000) and duration. */
export function writeMvhd(w: BoxWriter, duration: number, nextTrackId: number): void {
  w.startFull('mvhd', 0, 0).u32(0).u32(0).u32(1000).u32(duration)
  w.u32(0x0001_0000).u16(0x0100).zeros(10)
  for (const value of MATRIX) w.u32(value)
  w.zeros(24).u32(nextTrackId)
  w.end()
}

/** Sample tables of a whole file (GetClip); an init segment's are empty. */
export interface SampleTables {
  /** `stts` entries: runs of equal durations. */
  timeToSample: [count: number, duration: number][]
  /** `ctts` entries, or `undefined` when every offset is 0. Version 1 (signed) when one is negative. */
  compositionOffsets: [count: number, offset: number][] | undefined
  /** `stss`: 1-based numbers of the sync samples, or `undefined` when every sample is one. */
  syncSamples: number[] | undefined
  sizes: number[]
  /** `stsc` entries: first chunk (1-based) and samples per chunk, each where the count changes. */
  samplesPerChunk: [firstChunk: number, samples: number][]
  /** `stco`: file offset of each chunk. */
  chunkOffsets: number[]
  /** Offsets to patch once the size of `moov` is known: where each `stco` entry was written. */
  chunkOffsetFields?: number[]
}

/**
 * One `trak`: `tkhd`, `edts` (an empty edit when the track starts after the movie, GetClip files only),
 * `mdia` with the sample entry, and the sample tables (empty for an init segment).
 */
export function writeTrak(
  w: BoxWriter,
  track: Mp4Track,
  options: { durationMs: number; mediaDuration: number; startOffsetMs?: number; tables?: SampleTables },
): void {
  w.start('trak')
  w.startFull('tkhd', 0, 0x3).u32(0).u32(0).u32(track.id).u32(0).u32(options.durationMs)
  w.zeros(8)
    .u16(0)
    .u16(0)
    .u16(track.kind === 'audio' ? 0x0100 : 0)
    .u16(0)
  for (const value of MATRIX) w.u32(value)
  w.u32(track.kind === 'video' ? track.width * 0x10000 : 0).u32(
    track.kind === 'video' ? track.height * 0x10000 : 0,
  )
  w.end()
  if (options.startOffsetMs !== undefined && options.startOffsetMs > 0) {
    // An empty edit, then the media from its start at normal rate.
    w.start('edts').startFull('elst', 0, 0).u32(2)
    w.u32(options.startOffsetMs).i32(-1).u32(0x0001_0000)
    w.u32(options.durationMs - options.startOffsetMs)
      .u32(0)
      .u32(0x0001_0000)
    w.end()
    w.end()
  }
  w.start('mdia')
  w.startFull('mdhd', 0, 0).u32(0).u32(0).u32(track.timescale).u32(options.mediaDuration)
  w.u16(LANGUAGE_UND).u16(0).end()
  const [handler, name] = track.kind === 'video' ? ['vide', 'VideoHandler'] : ['soun', 'SoundHandler']
  w.startFull('hdlr', 0, 0).u32(0).ascii(handler).zeros(12).ascii(name).u8(0).end()
  w.start('minf')
  if (track.kind === 'video') w.startFull('vmhd', 0, 1).zeros(8).end()
  else w.startFull('smhd', 0, 0).zeros(4).end()
  w.start('dinf').startFull('dref', 0, 0).u32(1).startFull('url ', 0, 1)
  w.end() // url
  w.end() // dref
  w.end() // dinf
  writeStbl(w, track, options.tables)
  w.end() // minf
  w.end() // mdia
  w.end() // trak
}

function writeStbl(w: BoxWriter, track: Mp4Track, tables: SampleTables | undefined): void {
  w.start('stbl')
  w.startFull('stsd', 0, 0).u32(1)
  writeSampleEntry(w, track)
  w.end()
  const stts = tables?.timeToSample ?? []
  w.startFull('stts', 0, 0).u32(stts.length)
  for (const [count, duration] of stts) w.u32(count).u32(duration)
  w.end()
  const ctts = tables?.compositionOffsets
  if (ctts !== undefined) {
    const signed = ctts.some(([, offset]) => offset < 0)
    w.startFull('ctts', signed ? 1 : 0, 0).u32(ctts.length)
    for (const [count, offset] of ctts) w.u32(count).i32(offset)
    w.end()
  }
  if (tables?.syncSamples !== undefined) {
    w.startFull('stss', 0, 0).u32(tables.syncSamples.length)
    for (const number of tables.syncSamples) w.u32(number)
    w.end()
  }
  const stsc = tables?.samplesPerChunk ?? []
  w.startFull('stsc', 0, 0).u32(stsc.length)
  for (const [first, samples] of stsc) w.u32(first).u32(samples).u32(1)
  w.end()
  const sizes = tables?.sizes ?? []
  w.startFull('stsz', 0, 0).u32(0).u32(sizes.length)
  for (const size of sizes) w.u32(size)
  w.end()
  const offsets = tables?.chunkOffsets ?? []
  w.startFull('stco', 0, 0).u32(offsets.length)
  if (tables !== undefined) tables.chunkOffsetFields = []
  for (const offset of offsets) {
    tables?.chunkOffsetFields?.push(w.length)
    w.u32(offset)
  }
  w.end()
  w.end() // stbl
}

function writeSampleEntry(w: BoxWriter, track: Mp4Track): void {
  if (track.kind === 'video') {
    w.start(track.codec).zeros(6).u16(1) // SampleEntry: reserved, data_reference_index
    w.zeros(16).u16(track.width).u16(track.height)
    w.u32(0x0048_0000).u32(0x0048_0000).u32(0).u16(1)
    w.zeros(32) // compressorname
    w.u16(0x0018).u16(0xffff)
    w.start(track.codec === 'avc1' ? 'avcC' : 'hvcC')
      .bytes(track.codecPrivate)
      .end()
    w.end()
    return
  }
  w.start('mp4a').zeros(6).u16(1)
  w.zeros(8)
    .u16(track.channels)
    .u16(16)
    .zeros(4)
    .u32((track.sampleRate & 0xffff) * 0x10000)
  writeEsds(w, track)
  w.end()
}

/** `esds`: an ES_Descriptor with the DecoderConfigDescriptor (MPEG-4 audio) and the AudioSpecificConfig. */
function writeEsds(w: BoxWriter, track: Mp4Track): void {
  const config = track.codecPrivate
  const decoderSpecificSize = descriptorSizeLength(config.length) + 1 + config.length
  const decoderConfigBody = 13 + decoderSpecificSize
  const decoderConfigSize = 1 + descriptorSizeLength(decoderConfigBody) + decoderConfigBody
  const slConfigSize = 3
  const esBody = 3 + decoderConfigSize + slConfigSize
  w.startFull('esds', 0, 0)
  w.u8(0x03)
  writeDescriptorSize(w, esBody)
  w.u16(track.id).u8(0)
  w.u8(0x04)
  writeDescriptorSize(w, decoderConfigBody)
  w.u8(0x40).u8(0x15).u24(0).u32(0).u32(0) // MPEG-4 audio, AudioStream, buffer size and bitrates unknown
  w.u8(0x05)
  writeDescriptorSize(w, config.length)
  w.bytes(config)
  w.u8(0x06).u8(1).u8(0x02) // SLConfigDescriptor, predefined 2 (MP4)
  w.end()
}

function descriptorSizeLength(size: number): number {
  let length = 1
  while (size >= 128 ** length) length++
  return length
}

function writeDescriptorSize(w: BoxWriter, size: number): void {
  const length = descriptorSizeLength(size)
  for (let i = length - 1; i >= 0; i--) w.u8(((size >>> (7 * i)) & 0x7f) | (i > 0 ? 0x80 : 0))
}

/** `mvex` with one `trex` per track (sample description 1, no defaults: every `trun` carries its values). */
export function writeMvex(w: BoxWriter, tracks: readonly Mp4Track[]): void {
  w.start('mvex')
  for (const track of tracks) w.startFull('trex', 0, 0).u32(track.id).u32(1).u32(0).u32(0).u32(0).end()
  w.end()
}
