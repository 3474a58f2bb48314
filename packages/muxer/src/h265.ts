/**
 * H.265 syntax the Annex-B parser needs: video, sequence and picture parameter sets, the slice segment header
 * up to slice_pic_order_cnt_lsb, and the HEVCDecoderConfigurationRecord Matroska's `V_MPEGH/ISO/HEVC`
 * CodecPrivate holds.
 * @see ITU-T H.265 (08/2021) §7.3.1.2, §7.3.2.1–7.3.2.3, §7.3.6.1, §8.3.1; ISO/IEC 14496-15 §8.3.3.1
 */
import { BitReader, unescapeRbsp } from './bit-reader.ts'

/** nal_unit_type values (H.265 Table 7-1). */
export const H265Nal = {
  RadlN: 6,
  RaslN: 8,
  RaslR: 9,
  BlaWLp: 16,
  BlaNLp: 18,
  IdrWRadl: 19,
  IdrNLp: 20,
  Cra: 21,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  EndOfSequence: 36,
  EndOfBitstream: 37,
  Filler: 38,
  PrefixSei: 39,
  SuffixSei: 40,
} as const

/** What the parser keeps of a video parameter set. */
export interface H265Vps {
  id: number
  /** vps_timing_info: num_units_in_tick and time_scale, 0 when absent. */
  numUnitsInTick: number
  timeScale: number
  nal: Uint8Array
}

/** What the parser keeps of a sequence parameter set. */
export interface H265Sps {
  id: number
  vpsId: number
  maxSubLayers: number
  temporalIdNesting: boolean
  /** general_profile_space … general_level_idc: the 12 bytes of the general profile_tier_level. */
  generalProfileTierLevel: Uint8Array
  chromaFormatIdc: number
  separateColourPlane: boolean
  width: number
  height: number
  bitDepthLuma: number
  bitDepthChroma: number
  log2MaxPocLsb: number
  /** sps_max_num_reorder_pics of the highest sub-layer. */
  reorderFrames: number
  nal: Uint8Array
}

/** What the parser keeps of a picture parameter set. */
export interface H265Pps {
  id: number
  spsId: number
  dependentSliceSegmentsEnabled: boolean
  outputFlagPresent: boolean
  numExtraSliceHeaderBits: number
  nal: Uint8Array
}

/** The slice segment header fields picture order depends on. */
export interface H265SliceHeader {
  firstSliceSegmentInPic: boolean
  ppsId: number
  /** slice_pic_order_cnt_lsb (0 for IDR pictures). */
  pocLsb: number
}

/** Skips profile_tier_level(1, maxSubLayersMinus1) after its 12 general bytes (H.265 §7.3.3). */
function skipSubLayers(reader: BitReader, maxSubLayersMinus1: number): void {
  const profilePresent: boolean[] = []
  const levelPresent: boolean[] = []
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(reader.flag())
    levelPresent.push(reader.flag())
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) reader.skip(2)
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) reader.skip(88)
    if (levelPresent[i]) reader.skip(8)
  }
}

/** Parses a VPS NAL unit (2-byte header included) up to its timing information. */
export function parseH265Vps(nal: Uint8Array): H265Vps {
  const reader = new BitReader(unescapeRbsp(nal, 2))
  const id = reader.bits(4)
  reader.skip(2) // vps_base_layer_internal_flag, vps_base_layer_available_flag
  reader.skip(6) // vps_max_layers_minus1
  const maxSubLayersMinus1 = reader.bits(3)
  reader.skip(1 + 16) // vps_temporal_id_nesting_flag, vps_reserved_0xffff_16bits
  reader.skip(96)
  skipSubLayers(reader, maxSubLayersMinus1)
  let numUnitsInTick = 0
  let timeScale = 0
  try {
    const orderingInfo = reader.flag()
    for (let i = orderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
      reader.ue()
      reader.ue()
      reader.ue()
    }
    const maxLayerId = reader.bits(6)
    const layerSets = reader.ue() + 1
    if (layerSets > 1024) throw new RangeError('vps_num_layer_sets_minus1 over 1023')
    reader.skip((layerSets - 1) * (maxLayerId + 1))
    if (reader.flag()) {
      numUnitsInTick = reader.bits(32)
      timeScale = reader.bits(32)
    }
  } catch {
    // Timing is optional: a VPS cut short after its profile is still usable.
  }
  return { id, numUnitsInTick, timeScale, nal: nal.slice() }
}

/** Parses an SPS NAL unit (2-byte header included) up to sps_max_num_reorder_pics. */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  const rbsp = unescapeRbsp(nal, 2)
  const reader = new BitReader(rbsp)
  const vpsId = reader.bits(4)
  const maxSubLayersMinus1 = reader.bits(3)
  if (maxSubLayersMinus1 > 6) throw new RangeError('sps_max_sub_layers_minus1 over 6')
  const temporalIdNesting = reader.flag()
  reader.skip(96)
  const generalProfileTierLevel = rbsp.slice(1, 13)
  skipSubLayers(reader, maxSubLayersMinus1)
  const id = reader.ue()
  if (id > 15) throw new RangeError(`sps_seq_parameter_set_id ${id} over 15`)
  const chromaFormatIdc = reader.ue()
  if (chromaFormatIdc > 3) throw new RangeError(`chroma_format_idc ${chromaFormatIdc} over 3`)
  const separateColourPlane = chromaFormatIdc === 3 ? reader.flag() : false
  let width = reader.ue()
  let height = reader.ue()
  if (reader.flag()) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1
    const subHeightC = chromaArrayType === 1 ? 2 : 1
    const left = reader.ue()
    const right = reader.ue()
    const top = reader.ue()
    const bottom = reader.ue()
    width -= subWidthC * (left + right)
    height -= subHeightC * (top + bottom)
  }
  if (width <= 0 || height <= 0) throw new RangeError('no picture: width or height 0')
  const bitDepthLuma = reader.ue() + 8
  const bitDepthChroma = reader.ue() + 8
  if (bitDepthLuma > 16 || bitDepthChroma > 16) throw new RangeError('bit depth over 16')
  const log2MaxPocLsb = reader.ue() + 4
  if (log2MaxPocLsb > 16) throw new RangeError('log2_max_pic_order_cnt_lsb_minus4 over 12')
  const orderingInfo = reader.flag()
  let reorderFrames = 0
  for (let i = orderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    reader.ue() // sps_max_dec_pic_buffering_minus1
    reorderFrames = reader.ue()
    reader.ue() // sps_max_latency_increase_plus1
  }
  if (reorderFrames > 16) throw new RangeError('sps_max_num_reorder_pics over 16')
  return {
    id,
    vpsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    generalProfileTierLevel,
    chromaFormatIdc,
    separateColourPlane,
    width,
    height,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxPocLsb,
    reorderFrames,
    nal: nal.slice(),
  }
}

/** Parses a PPS NAL unit (2-byte header included) up to num_extra_slice_header_bits. */
export function parseH265Pps(nal: Uint8Array): H265Pps {
  const reader = new BitReader(unescapeRbsp(nal, 2))
  const id = reader.ue()
  if (id > 63) throw new RangeError(`pps_pic_parameter_set_id ${id} over 63`)
  const spsId = reader.ue()
  if (spsId > 15) throw new RangeError(`pps_seq_parameter_set_id ${spsId} over 15`)
  const dependentSliceSegmentsEnabled = reader.flag()
  const outputFlagPresent = reader.flag()
  const numExtraSliceHeaderBits = reader.bits(3)
  return {
    id,
    spsId,
    dependentSliceSegmentsEnabled,
    outputFlagPresent,
    numExtraSliceHeaderBits,
    nal: nal.slice(),
  }
}

/** The slice_pic_parameter_set_id of a slice segment (RBSP with its 2-byte NAL header). */
export function h265SlicePpsId(rbsp: Uint8Array, nalType: number): number {
  const reader = new BitReader(rbsp, 2)
  reader.skip(1)
  if (nalType >= 16 && nalType <= 23) reader.skip(1)
  return reader.ue()
}

/** Parses the first slice segment header of a picture up to slice_pic_order_cnt_lsb. */
export function parseH265SliceHeader(
  rbsp: Uint8Array,
  nalType: number,
  sps: H265Sps,
  pps: H265Pps,
): H265SliceHeader {
  const reader = new BitReader(rbsp, 2)
  const firstSliceSegmentInPic = reader.flag()
  if (nalType >= 16 && nalType <= 23) reader.skip(1) // no_output_of_prior_pics_flag
  const ppsId = reader.ue()
  if (!firstSliceSegmentInPic) return { firstSliceSegmentInPic, ppsId, pocLsb: 0 }
  reader.skip(pps.numExtraSliceHeaderBits)
  reader.ue() // slice_type
  if (pps.outputFlagPresent) reader.skip(1)
  if (sps.separateColourPlane) reader.skip(2)
  const idr = nalType === H265Nal.IdrWRadl || nalType === H265Nal.IdrNLp
  const pocLsb = idr ? 0 : reader.bits(sps.log2MaxPocLsb)
  return { firstSliceSegmentInPic, ppsId, pocLsb }
}

/**
 * The HEVCDecoderConfigurationRecord (`hvcC`) for the parameter sets (NAL units with headers), with 4-byte
 * NAL unit lengths. Profile, tier, level, chroma format and bit depths come from the first SPS.
 * @see ISO/IEC 14496-15 §8.3.3.1
 */
export function hevcDecoderConfigurationRecord(
  vps: readonly H265Vps[],
  sps: readonly H265Sps[],
  pps: readonly H265Pps[],
): Uint8Array {
  const first = sps[0]
  if (first === undefined) throw new RangeError('an HEVCDecoderConfigurationRecord needs an SPS')
  const arrays: [number, readonly { nal: Uint8Array }[]][] = [
    [32, vps],
    [33, sps],
    [34, pps],
  ]
  let size = 23
  for (const [, sets] of arrays) {
    if (sets.length === 0) continue
    size += 3
    for (const set of sets) size += 2 + set.nal.length
  }
  const out = new Uint8Array(size)
  out[0] = 1
  out.set(first.generalProfileTierLevel, 1) // profile space, tier, profile, compatibility, constraints, level
  out[13] = 0xf0 // min_spatial_segmentation_idc 0
  out[14] = 0x00
  out[15] = 0xfc // parallelismType 0
  out[16] = 0xfc | first.chromaFormatIdc
  out[17] = 0xf8 | (first.bitDepthLuma - 8)
  out[18] = 0xf8 | (first.bitDepthChroma - 8)
  out[19] = 0 // avgFrameRate
  out[20] = 0
  out[21] = ((first.maxSubLayers & 7) << 3) | (first.temporalIdNesting ? 4 : 0) | 3
  let count = 0
  for (const [, sets] of arrays) if (sets.length > 0) count++
  out[22] = count
  let at = 23
  for (const [type, sets] of arrays) {
    if (sets.length === 0) continue
    // array_completeness 0: the stream may repeat parameter sets in band (they stay in the key frames).
    out[at++] = type
    out[at++] = sets.length >> 8
    out[at++] = sets.length & 0xff
    for (const set of sets) {
      out[at++] = set.nal.length >> 8
      out[at++] = set.nal.length & 0xff
      out.set(set.nal, at)
      at += set.nal.length
    }
  }
  return out
}
