/**
 * H.264 syntax the Annex-B parser needs: sequence and picture parameter sets, the slice header fields that
 * decide picture order, and the AVCDecoderConfigurationRecord Matroska's `V_MPEG4/ISO/AVC` CodecPrivate holds.
 * @see ITU-T H.264 (08/2021) §7.3.2.1.1, §7.3.2.2, §7.3.3, §8.2.1; ISO/IEC 14496-15 §5.3.3.1
 */
import { BitReader, unescapeRbsp } from './bit-reader.ts'

/** nal_unit_type values (H.264 Table 7-1). */
export const H264Nal = {
  Slice: 1,
  SliceDataPartitionA: 2,
  SliceDataPartitionB: 3,
  SliceDataPartitionC: 4,
  IdrSlice: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
  SpsExtension: 13,
  Prefix: 14,
  SubsetSps: 15,
} as const

/** What the parser keeps of a sequence parameter set. */
export interface H264Sps {
  id: number
  profileIdc: number
  /** constraint_set0..5 flags and the reserved bits, as the byte after profile_idc. */
  constraintFlags: number
  levelIdc: number
  chromaFormatIdc: number
  separateColourPlane: boolean
  bitDepthLuma: number
  bitDepthChroma: number
  log2MaxFrameNum: number
  pocType: number
  log2MaxPocLsb: number
  deltaPicOrderAlwaysZero: boolean
  offsetForNonRefPic: number
  offsetForTopToBottomField: number
  offsetForRefFrame: number[]
  frameMbsOnly: boolean
  width: number
  height: number
  /**
   * Most frames that can precede a frame in decoding order and follow it in output order: VUI
   * max_num_reorder_frames, else max_dec_frame_buffering, else the level's DPB size (Annex A), 0 for POC type 2.
   */
  reorderFrames: number
  /** VUI timing: num_units_in_tick and time_scale, when present. */
  numUnitsInTick: number
  timeScale: number
  /** The NAL unit (header included), a copy. */
  nal: Uint8Array
}

/** What the parser keeps of a picture parameter set. */
export interface H264Pps {
  id: number
  spsId: number
  bottomFieldPicOrderInFramePresent: boolean
  numRefIdxL0DefaultActive: number
  numRefIdxL1DefaultActive: number
  weightedPred: boolean
  weightedBipredIdc: number
  redundantPicCntPresent: boolean
  /** The NAL unit (header included), a copy. */
  nal: Uint8Array
}

/** The slice header fields picture order depends on. */
export interface H264SliceHeader {
  firstMbInSlice: number
  sliceType: number
  ppsId: number
  frameNum: number
  fieldPic: boolean
  bottomField: boolean
  pocLsb: number
  deltaPocBottom: number
  deltaPoc0: number
  deltaPoc1: number
  /** memory_management_control_operation 5 (all references dropped, picture order restarts): when readable. */
  mmco5: boolean
}

/** MaxDpbMbs per level_idc (H.264 Table A-1); level 1b is level_idc 11 with constraint_set3 or 9. */
const MAX_DPB_MBS: Record<number, number> = {
  9: 396,
  10: 396,
  11: 900,
  12: 2376,
  13: 2376,
  20: 2376,
  21: 4752,
  22: 8100,
  30: 8100,
  31: 18000,
  32: 20480,
  40: 32768,
  41: 32768,
  42: 34816,
  50: 110400,
  51: 184320,
  52: 184320,
  60: 696320,
  61: 696320,
  62: 696320,
}

/** Profiles whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135])

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8
  let next = 8
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = reader.se()
      next = (last + delta + 256) % 256
    }
    last = next === 0 ? last : next
  }
}

function skipHrd(reader: BitReader): void {
  const cpbCount = reader.ue() + 1
  if (cpbCount > 32) throw new RangeError('cpb_cnt_minus1 over 31')
  reader.skip(8) // bit_rate_scale, cpb_size_scale
  for (let i = 0; i < cpbCount; i++) {
    reader.ue()
    reader.ue()
    reader.skip(1)
  }
  reader.skip(20) // four 5-bit lengths
}

/** Reads vui_parameters() (H.264 §E.1.1): timing and the reorder bound, into `into`. */
function readVui(
  reader: BitReader,
  into: { numUnitsInTick: number; timeScale: number; reorderFrames: number },
): void {
  if (reader.flag() && reader.bits(8) === 255) reader.skip(32) // aspect ratio, extended SAR
  if (reader.flag()) reader.skip(1) // overscan
  if (reader.flag()) {
    reader.skip(4) // video_format, video_full_range_flag
    if (reader.flag()) reader.skip(24) // colour description
  }
  if (reader.flag()) {
    reader.ue()
    reader.ue()
  }
  if (reader.flag()) {
    into.numUnitsInTick = reader.bits(32)
    into.timeScale = reader.bits(32)
    reader.skip(1) // fixed_frame_rate_flag
  }
  const nalHrd = reader.flag()
  if (nalHrd) skipHrd(reader)
  const vclHrd = reader.flag()
  if (vclHrd) skipHrd(reader)
  if (nalHrd || vclHrd) reader.skip(1) // low_delay_hrd_flag
  reader.skip(1) // pic_struct_present_flag
  if (reader.flag()) {
    reader.skip(1)
    reader.ue()
    reader.ue()
    reader.ue()
    reader.ue()
    const maxNumReorderFrames = reader.ue()
    const maxDecFrameBuffering = reader.ue()
    into.reorderFrames = Math.min(maxNumReorderFrames, maxDecFrameBuffering, 16)
  }
}

/** Parses an SPS NAL unit (header included). Throws on malformed data. */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  const reader = new BitReader(unescapeRbsp(nal, 1))
  const profileIdc = reader.bits(8)
  const constraintFlags = reader.bits(8)
  const levelIdc = reader.bits(8)
  const id = reader.ue()
  if (id > 31) throw new RangeError(`seq_parameter_set_id ${id} over 31`)
  let chromaFormatIdc = 1
  let separateColourPlane = false
  let bitDepthLuma = 8
  let bitDepthChroma = 8
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = reader.ue()
    if (chromaFormatIdc > 3) throw new RangeError(`chroma_format_idc ${chromaFormatIdc} over 3`)
    if (chromaFormatIdc === 3) separateColourPlane = reader.flag()
    bitDepthLuma = reader.ue() + 8
    bitDepthChroma = reader.ue() + 8
    reader.skip(1) // qpprime_y_zero_transform_bypass_flag
    if (reader.flag()) {
      const lists = chromaFormatIdc === 3 ? 12 : 8
      for (let i = 0; i < lists; i++) if (reader.flag()) skipScalingList(reader, i < 6 ? 16 : 64)
    }
  }
  const log2MaxFrameNum = reader.ue() + 4
  if (log2MaxFrameNum > 16) throw new RangeError('log2_max_frame_num_minus4 over 12')
  const pocType = reader.ue()
  let log2MaxPocLsb = 0
  let deltaPicOrderAlwaysZero = false
  let offsetForNonRefPic = 0
  let offsetForTopToBottomField = 0
  const offsetForRefFrame: number[] = []
  if (pocType === 0) {
    log2MaxPocLsb = reader.ue() + 4
    if (log2MaxPocLsb > 16) throw new RangeError('log2_max_pic_order_cnt_lsb_minus4 over 12')
  } else if (pocType === 1) {
    deltaPicOrderAlwaysZero = reader.flag()
    offsetForNonRefPic = reader.se()
    offsetForTopToBottomField = reader.se()
    const cycle = reader.ue()
    if (cycle > 255) throw new RangeError('num_ref_frames_in_pic_order_cnt_cycle over 255')
    for (let i = 0; i < cycle; i++) offsetForRefFrame.push(reader.se())
  } else if (pocType !== 2) {
    throw new RangeError(`pic_order_cnt_type ${pocType} over 2`)
  }
  const maxNumRefFrames = reader.ue()
  reader.skip(1) // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = reader.ue() + 1
  const heightInMapUnits = reader.ue() + 1
  const frameMbsOnly = reader.flag()
  if (!frameMbsOnly) reader.skip(1) // mb_adaptive_frame_field_flag
  reader.skip(1) // direct_8x8_inference_flag
  const frameHeightInMbs = (frameMbsOnly ? 1 : 2) * heightInMapUnits
  let width = widthInMbs * 16
  let height = frameHeightInMbs * 16
  if (reader.flag()) {
    const left = reader.ue()
    const right = reader.ue()
    const top = reader.ue()
    const bottom = reader.ue()
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1
    const subHeightC = chromaArrayType === 1 ? 2 : 1
    const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC
    const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2)
    width -= cropUnitX * (left + right)
    height -= cropUnitY * (top + bottom)
    if (width <= 0 || height <= 0) throw new RangeError('frame cropping leaves no picture')
  }
  const vui = { numUnitsInTick: 0, timeScale: 0, reorderFrames: -1 }
  try {
    if (reader.bitsLeft > 0 && reader.flag()) readVui(reader, vui)
  } catch {
    // A damaged or cut VUI (some cameras send one) leaves the picture fields above usable: go without it.
    vui.numUnitsInTick = 0
    vui.timeScale = 0
    vui.reorderFrames = -1
  }
  const { numUnitsInTick, timeScale } = vui
  let reorderFrames = vui.reorderFrames
  if (pocType === 2) reorderFrames = 0
  if (reorderFrames < 0) {
    // Intra-only profiles (constraint_set3 on High 10/4:2:2/4:4:4, CAVLC 4:4:4) never reorder.
    const intraOnly = (constraintFlags & 0x10) !== 0 && [44, 110, 122, 244].includes(profileIdc)
    const maxDpbMbs = MAX_DPB_MBS[levelIdc] ?? 696320
    reorderFrames = intraOnly
      ? 0
      : Math.max(Math.min(Math.floor(maxDpbMbs / (widthInMbs * frameHeightInMbs)), 16), maxNumRefFrames)
    reorderFrames = Math.min(reorderFrames, 16)
  }
  return {
    id,
    profileIdc,
    constraintFlags,
    levelIdc,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    pocType,
    log2MaxPocLsb,
    deltaPicOrderAlwaysZero,
    offsetForNonRefPic,
    offsetForTopToBottomField,
    offsetForRefFrame,
    frameMbsOnly,
    width,
    height,
    reorderFrames,
    numUnitsInTick,
    timeScale,
    nal: nal.slice(),
  }
}

/** Parses a PPS NAL unit (header included) up to the fields slice headers depend on. */
export function parseH264Pps(nal: Uint8Array): H264Pps {
  const reader = new BitReader(unescapeRbsp(nal, 1))
  const id = reader.ue()
  if (id > 255) throw new RangeError(`pic_parameter_set_id ${id} over 255`)
  const spsId = reader.ue()
  if (spsId > 31) throw new RangeError(`seq_parameter_set_id ${spsId} over 31`)
  reader.skip(1) // entropy_coding_mode_flag
  const bottomFieldPicOrderInFramePresent = reader.flag()
  const sliceGroups = reader.ue() + 1
  if (sliceGroups > 8) throw new RangeError('num_slice_groups_minus1 over 7')
  if (sliceGroups > 1) {
    const mapType = reader.ue()
    if (mapType === 0) {
      for (let i = 0; i < sliceGroups; i++) reader.ue()
    } else if (mapType === 2) {
      for (let i = 0; i < sliceGroups - 1; i++) {
        reader.ue()
        reader.ue()
      }
    } else if (mapType >= 3 && mapType <= 5) {
      reader.skip(1)
      reader.ue()
    } else if (mapType === 6) {
      const units = reader.ue() + 1
      const bits = Math.ceil(Math.log2(sliceGroups))
      reader.skip(units * bits)
    } else if (mapType > 6) {
      throw new RangeError(`slice_group_map_type ${mapType} over 6`)
    }
  }
  const numRefIdxL0DefaultActive = reader.ue() + 1
  const numRefIdxL1DefaultActive = reader.ue() + 1
  if (numRefIdxL0DefaultActive > 32 || numRefIdxL1DefaultActive > 32) {
    throw new RangeError('num_ref_idx_default_active_minus1 over 31')
  }
  const weightedPred = reader.flag()
  const weightedBipredIdc = reader.bits(2)
  reader.se() // pic_init_qp_minus26
  reader.se() // pic_init_qs_minus26
  reader.se() // chroma_qp_index_offset
  reader.skip(2) // deblocking_filter_control_present_flag, constrained_intra_pred_flag
  const redundantPicCntPresent = reader.flag()
  return {
    id,
    spsId,
    bottomFieldPicOrderInFramePresent,
    numRefIdxL0DefaultActive,
    numRefIdxL1DefaultActive,
    weightedPred,
    weightedBipredIdc,
    redundantPicCntPresent,
    nal: nal.slice(),
  }
}

/** The pic_parameter_set_id of a slice NAL unit's header (after first_mb_in_slice and slice_type). */
export function h264SlicePpsId(rbsp: Uint8Array): number {
  const reader = new BitReader(rbsp, 1)
  reader.ue()
  reader.ue()
  return reader.ue()
}

/**
 * Parses a slice header (from its RBSP, NAL header byte included) up to dec_ref_pic_marking. The fields up
 * to the picture order count must be there (a `BitstreamOverrun` otherwise); `mmco5` is false when the
 * header is cut short past them (only the first bytes of a slice are read).
 */
export function parseH264SliceHeader(
  rbsp: Uint8Array,
  nalType: number,
  nalRefIdc: number,
  sps: H264Sps,
  pps: H264Pps,
): H264SliceHeader {
  const reader = new BitReader(rbsp, 1)
  const firstMbInSlice = reader.ue()
  const sliceType = reader.ue() % 5
  const ppsId = reader.ue()
  if (sps.separateColourPlane) reader.skip(2)
  const frameNum = reader.bits(sps.log2MaxFrameNum)
  let fieldPic = false
  let bottomField = false
  if (!sps.frameMbsOnly) {
    fieldPic = reader.flag()
    if (fieldPic) bottomField = reader.flag()
  }
  const idr = nalType === H264Nal.IdrSlice
  if (idr) reader.ue() // idr_pic_id
  let pocLsb = 0
  let deltaPocBottom = 0
  let deltaPoc0 = 0
  let deltaPoc1 = 0
  if (sps.pocType === 0) {
    pocLsb = reader.bits(sps.log2MaxPocLsb)
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) deltaPocBottom = reader.se()
  } else if (sps.pocType === 1 && !sps.deltaPicOrderAlwaysZero) {
    deltaPoc0 = reader.se()
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) deltaPoc1 = reader.se()
  }
  const header: H264SliceHeader = {
    firstMbInSlice,
    sliceType,
    ppsId,
    frameNum,
    fieldPic,
    bottomField,
    pocLsb,
    deltaPocBottom,
    deltaPoc0,
    deltaPoc1,
    mmco5: false,
  }
  if (nalRefIdc === 0 || idr) return header
  try {
    header.mmco5 = readMmco5(reader, header.sliceType, sps, pps)
  } catch {
    // The header goes on past the bytes read, or is damaged after the fields above: no MMCO 5 assumed.
  }
  return header
}

/** Reads on from the picture order fields to dec_ref_pic_marking: whether it holds operation 5. */
function readMmco5(reader: BitReader, sliceType: number, sps: H264Sps, pps: H264Pps): boolean {
  const P = 0
  const B = 1
  const SP = 3
  if (pps.redundantPicCntPresent) reader.ue()
  if (sliceType === B) reader.skip(1) // direct_spatial_mv_pred_flag
  let l0 = pps.numRefIdxL0DefaultActive
  let l1 = pps.numRefIdxL1DefaultActive
  if (sliceType === P || sliceType === SP || sliceType === B) {
    if (reader.flag()) {
      l0 = reader.ue() + 1
      if (sliceType === B) l1 = reader.ue() + 1
    }
  }
  if (l0 > 32 || l1 > 32) throw new RangeError('num_ref_idx_active_minus1 over 31')
  // ref_pic_list_modification()
  const lists = sliceType === B ? 2 : sliceType === P || sliceType === SP ? 1 : 0
  for (let list = 0; list < lists; list++) {
    if (!reader.flag()) continue
    for (let i = 0; ; i++) {
      if (i > 64) throw new RangeError('ref_pic_list_modification too long')
      const idc = reader.ue()
      if (idc === 3) break
      if (idc > 5) throw new RangeError('modification_of_pic_nums_idc over 5')
      reader.ue()
    }
  }
  // pred_weight_table()
  if (
    (pps.weightedPred && (sliceType === P || sliceType === SP)) ||
    (pps.weightedBipredIdc === 1 && sliceType === B)
  ) {
    const chroma = !sps.separateColourPlane && sps.chromaFormatIdc !== 0
    reader.ue()
    if (chroma) reader.ue()
    for (let list = 0; list < (sliceType === B ? 2 : 1); list++) {
      const count = list === 0 ? l0 : l1
      for (let i = 0; i < count; i++) {
        if (reader.flag()) {
          reader.se()
          reader.se()
        }
        if (chroma && reader.flag()) {
          reader.se()
          reader.se()
          reader.se()
          reader.se()
        }
      }
    }
  }
  // dec_ref_pic_marking() of a non-IDR reference picture
  if (!reader.flag()) return false
  for (let i = 0; ; i++) {
    if (i > 64) throw new RangeError('dec_ref_pic_marking too long')
    const operation = reader.ue()
    if (operation === 0) return false
    if (operation === 5) return true
    if (operation > 6) throw new RangeError('memory_management_control_operation over 6')
    if (operation === 1 || operation === 3) reader.ue()
    if (operation === 2) reader.ue()
    if (operation === 3 || operation === 6) reader.ue()
    if (operation === 4) reader.ue()
  }
}

/**
 * The AVCDecoderConfigurationRecord (`avcC`) for `sps` and `pps` NAL units (headers included), with 4-byte
 * NAL unit lengths. High profiles get the chroma format and bit depth fields.
 * @see ISO/IEC 14496-15 §5.3.3.1
 */
export function avcDecoderConfigurationRecord(sps: readonly H264Sps[], pps: readonly H264Pps[]): Uint8Array {
  const first = sps[0]
  if (first === undefined) throw new RangeError('an AVCDecoderConfigurationRecord needs an SPS')
  const high = ![66, 77, 88].includes(first.profileIdc)
  let size = 7 + (high ? 4 : 0)
  for (const set of sps) size += 2 + set.nal.length
  for (const set of pps) size += 2 + set.nal.length
  const out = new Uint8Array(size)
  out[0] = 1
  out[1] = first.nal[1]!
  out[2] = first.nal[2]!
  out[3] = first.nal[3]!
  out[4] = 0xfc | 3
  out[5] = 0xe0 | sps.length
  let at = 6
  for (const set of sps) {
    out[at++] = set.nal.length >> 8
    out[at++] = set.nal.length & 0xff
    out.set(set.nal, at)
    at += set.nal.length
  }
  out[at++] = pps.length
  for (const set of pps) {
    out[at++] = set.nal.length >> 8
    out[at++] = set.nal.length & 0xff
    out.set(set.nal, at)
    at += set.nal.length
  }
  if (high) {
    out[at++] = 0xfc | first.chromaFormatIdc
    out[at++] = 0xf8 | (first.bitDepthLuma - 8)
    out[at++] = 0xf8 | (first.bitDepthChroma - 8)
    out[at++] = 0
  }
  return out
}
