import { BitReader, hex2, unescapeRbsp } from './bit-reader.ts'

/** What an AVCDecoderConfigurationRecord (Matroska `V_MPEG4/ISO/AVC` CodecPrivate, MP4 `avcC`) says. */
export interface AvcConfig {
  /** AVCProfileIndication (66 Baseline, 77 Main, 100 High, …). */
  profile: number
  /** profile_compatibility: the constraint_set flags byte. */
  compatibility: number
  /** AVCLevelIndication (31 for level 3.1). */
  level: number
  /** Bytes of each NAL unit's length prefix in the samples (lengthSizeMinusOne + 1). */
  nalLengthSize: number
  /** Sequence parameter sets, as NAL units (header byte included). */
  sps: Uint8Array[]
  /** Picture parameter sets. */
  pps: Uint8Array[]
}

/**
 * Reads an AVCDecoderConfigurationRecord; returns a sentence saying what is wrong instead when it is not
 * one (Annex-B start codes, truncated, no SPS).
 * @see ISO/IEC 14496-15 §5.3.3.1
 */
export function readAvcConfig(record: Uint8Array): AvcConfig | string {
  if (record.length >= 4 && record[0] === 0 && record[1] === 0 && (record[2] === 1 || record[3] === 1))
    return 'it is in Annex-B form (start codes), not an AVCDecoderConfigurationRecord'
  if (record.length < 7) return `it is ${record.length} bytes, shorter than an AVCDecoderConfigurationRecord`
  if (record[0] !== 1) return `its configurationVersion is ${record[0]}, not 1`
  const sps: Uint8Array[] = []
  const pps: Uint8Array[] = []
  // The SPS count is the low 5 bits of byte 5; the sets follow, each with a 16-bit length.
  let at = 6
  const readSets = (count: number, into: Uint8Array[]): string | undefined => {
    for (let i = 0; i < count; i++) {
      if (at + 2 > record.length) return 'it ends inside a parameter set length'
      const length = (record[at]! << 8) | record[at + 1]!
      at += 2
      if (at + length > record.length) return 'it ends inside a parameter set'
      into.push(record.subarray(at, at + length))
      at += length
    }
    return undefined
  }
  const spsProblem = readSets(record[5]! & 0x1f, sps)
  if (spsProblem !== undefined) return spsProblem
  if (at >= record.length) return 'it has no picture parameter set count'
  const ppsCount = record[at]!
  at++
  const ppsProblem = readSets(ppsCount, pps)
  if (ppsProblem !== undefined) return ppsProblem
  if (sps.length === 0) return 'it holds no sequence parameter set'
  return {
    profile: record[1]!,
    compatibility: record[2]!,
    level: record[3]!,
    nalLengthSize: (record[4]! & 3) + 1,
    sps,
    pps,
  }
}

/** The RFC 6381 codec string of an H.264 track: `avc1.PPCCLL` (profile, compatibility, level in hex). */
export function avcCodecString(config: AvcConfig): string {
  return `avc1.${hex2(config.profile)}${hex2(config.compatibility)}${hex2(config.level)}`
}

/** Profiles whose SPS carries chroma_format_idc and the fields after it (H.264 §7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135])

/**
 * The picture size an H.264 SPS describes (macroblocks minus the cropping window), or `undefined` when it
 * cannot be read.
 * @see ITU-T H.264 §7.3.2.1.1 and §7.4.2.1.1 (frame_crop_*_offset)
 */
export function avcPictureSize(spsNal: Uint8Array): { width: number; height: number } | undefined {
  try {
    const reader = new BitReader(unescapeRbsp(spsNal.subarray(1)))
    const profile = reader.bits(8)
    reader.skip(16) // constraint flags, level
    reader.ue() // seq_parameter_set_id
    let chromaFormat = 1
    let separateColourPlanes = 0
    if (HIGH_PROFILES.has(profile)) {
      chromaFormat = reader.ue()
      if (chromaFormat === 3) separateColourPlanes = reader.bit()
      reader.ue() // bit_depth_luma_minus8
      reader.ue() // bit_depth_chroma_minus8
      reader.bit() // qpprime_y_zero_transform_bypass_flag
      if (reader.bit() === 1) {
        const lists = chromaFormat === 3 ? 12 : 8
        for (let i = 0; i < lists; i++) if (reader.bit() === 1) skipScalingList(reader, i < 6 ? 16 : 64)
      }
    }
    reader.ue() // log2_max_frame_num_minus4
    const pocType = reader.ue()
    if (pocType === 0) reader.ue()
    else if (pocType === 1) {
      reader.bit()
      reader.se()
      reader.se()
      const cycle = reader.ue()
      for (let i = 0; i < cycle; i++) reader.se()
    }
    reader.ue() // max_num_ref_frames
    reader.bit() // gaps_in_frame_num_value_allowed_flag
    const widthInMbs = reader.ue() + 1
    const heightInMapUnits = reader.ue() + 1
    const frameMbsOnly = reader.bit()
    if (frameMbsOnly === 0) reader.bit() // mb_adaptive_frame_field_flag
    reader.bit() // direct_8x8_inference_flag
    let left = 0
    let right = 0
    let top = 0
    let bottom = 0
    if (reader.bit() === 1) {
      left = reader.ue()
      right = reader.ue()
      top = reader.ue()
      bottom = reader.ue()
    }
    const chromaArrayType = separateColourPlanes === 1 ? 0 : chromaFormat
    const subWidth = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1
    const subHeight = chromaArrayType === 1 ? 2 : 1
    const cropX = chromaArrayType === 0 ? 1 : subWidth
    const cropY = (chromaArrayType === 0 ? 1 : subHeight) * (2 - frameMbsOnly)
    return {
      width: widthInMbs * 16 - cropX * (left + right),
      height: (2 - frameMbsOnly) * heightInMapUnits * 16 - cropY * (top + bottom),
    }
  } catch {
    return undefined
  }
}

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8
  let next = 8
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + reader.se() + 256) % 256
    last = next === 0 ? last : next
  }
}
