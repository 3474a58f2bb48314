import { BitReader, unescapeRbsp } from './bit-reader.ts'

/** What an HEVCDecoderConfigurationRecord (Matroska `V_MPEGH/ISO/HEVC` CodecPrivate, MP4 `hvcC`) says. */
export interface HevcConfig {
  /** general_profile_space (0–3). */
  profileSpace: number
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  tier: number
  /** general_profile_idc (1 Main, 2 Main 10, …). */
  profile: number
  /** general_profile_compatibility_flags, 32 bits. */
  compatibility: number
  /** general_constraint_indicator_flags, 6 bytes. */
  constraints: Uint8Array
  /** general_level_idc (30 × level: 93 for 3.1). */
  level: number
  /** Bytes of each NAL unit's length prefix in the samples. */
  nalLengthSize: number
  /** Every parameter set NAL unit of the record's arrays, with its type (32 VPS, 33 SPS, 34 PPS, …). */
  nalUnits: { type: number; data: Uint8Array }[]
}

const HEVC_SPS = 33

/**
 * Reads an HEVCDecoderConfigurationRecord; returns a sentence saying what is wrong instead when it is not
 * one.
 * @see ISO/IEC 14496-15 §8.3.3.1
 */
export function readHevcConfig(record: Uint8Array): HevcConfig | string {
  if (record.length >= 4 && record[0] === 0 && record[1] === 0 && (record[2] === 1 || record[3] === 1))
    return 'it is in Annex-B form (start codes), not an HEVCDecoderConfigurationRecord'
  if (record.length < 23)
    return `it is ${record.length} bytes, shorter than an HEVCDecoderConfigurationRecord`
  if (record[0] !== 1) return `its configurationVersion is ${record[0]}, not 1`
  const nalUnits: { type: number; data: Uint8Array }[] = []
  let at = 23
  for (let array = 0; array < record[22]!; array++) {
    if (at + 3 > record.length) return 'it ends inside a NAL unit array header'
    const type = record[at]! & 0x3f
    const count = (record[at + 1]! << 8) | record[at + 2]!
    at += 3
    for (let i = 0; i < count; i++) {
      if (at + 2 > record.length) return 'it ends inside a NAL unit length'
      const length = (record[at]! << 8) | record[at + 1]!
      at += 2
      if (at + length > record.length) return 'it ends inside a NAL unit'
      nalUnits.push({ type, data: record.subarray(at, at + length) })
      at += length
    }
  }
  if (!nalUnits.some((unit) => unit.type === HEVC_SPS)) return 'it holds no sequence parameter set'
  return {
    profileSpace: record[1]! >>> 6,
    tier: (record[1]! >>> 5) & 1,
    profile: record[1]! & 0x1f,
    compatibility: ((record[2]! << 24) | (record[3]! << 16) | (record[4]! << 8) | record[5]!) >>> 0,
    constraints: record.subarray(6, 12),
    level: record[12]!,
    nalLengthSize: (record[21]! & 3) + 1,
    nalUnits,
  }
}

/**
 * The RFC 6381 codec string of an H.265 track with parameter sets in the sample entry: `hvc1.` profile
 * space letter and profile, the compatibility flags bit-reversed in hex, tier letter and level, then the
 * constraint bytes in hex without trailing zero bytes (`hvc1.1.6.L93.B0`).
 * @see ISO/IEC 14496-15 Annex E.3
 */
export function hevcCodecString(config: HevcConfig): string {
  let reversed = 0
  for (let bit = 0; bit < 32; bit++) if ((config.compatibility >>> bit) & 1) reversed |= 1 << (31 - bit)
  const space = ['', 'A', 'B', 'C'][config.profileSpace] ?? ''
  const constraints = [...config.constraints]
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop()
  return [
    `hvc1.${space}${config.profile}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${config.tier === 1 ? 'H' : 'L'}${config.level}`,
    ...constraints.map((byte) => byte.toString(16).toUpperCase()),
  ].join('.')
}

/**
 * The picture size an H.265 SPS describes (pic_width/height_in_luma_samples minus the conformance window),
 * or `undefined` when it cannot be read.
 * @see ITU-T H.265 §7.3.2.2.1 and §7.3.3 (profile_tier_level)
 */
export function hevcPictureSize(spsNal: Uint8Array): { width: number; height: number } | undefined {
  try {
    const reader = new BitReader(unescapeRbsp(spsNal.subarray(2)))
    reader.skip(4) // sps_video_parameter_set_id
    const maxSubLayersMinus1 = reader.bits(3)
    reader.skip(1) // sps_temporal_id_nesting_flag
    reader.skip(88 + 8) // general profile (88 bits) and general_level_idc
    const profilePresent: number[] = []
    const levelPresent: number[] = []
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      profilePresent.push(reader.bit())
      levelPresent.push(reader.bit())
    }
    if (maxSubLayersMinus1 > 0) reader.skip(2 * (8 - maxSubLayersMinus1))
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      if (profilePresent[i] === 1) reader.skip(88)
      if (levelPresent[i] === 1) reader.skip(8)
    }
    reader.ue() // sps_seq_parameter_set_id
    const chromaFormat = reader.ue()
    if (chromaFormat === 3) reader.bit() // separate_colour_plane_flag
    const width = reader.ue()
    const height = reader.ue()
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
    const subWidth = chromaFormat === 1 || chromaFormat === 2 ? 2 : 1
    const subHeight = chromaFormat === 1 ? 2 : 1
    return { width: width - subWidth * (left + right), height: height - subHeight * (top + bottom) }
  } catch {
    return undefined
  }
}
