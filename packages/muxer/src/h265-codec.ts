import { unescapeRbsp } from './bit-reader.ts'
import { sameBytes } from './bytes.ts'
import { MuxerError, messageOf } from './errors.ts'
import {
  H265Nal,
  type H265Pps,
  type H265Sps,
  type H265Vps,
  h265SlicePpsId,
  hevcDecoderConfigurationRecord,
  parseH265Pps,
  parseH265SliceHeader,
  parseH265Sps,
  parseH265Vps,
} from './h265.ts'
import { H265PictureOrder } from './picture-order.ts'
import {
  type AccessUnitInfo,
  type CodecConfig,
  nalPrefix,
  type PendingAccessUnit,
  parameterSet,
  type VideoCodec,
} from './video-codec.ts'

/** Bytes of a slice segment read for its header (the fields needed come within its first few dozen). */
const SLICE_HEADER_BYTES = 256

/** What the H.265 codec reads of an access unit's first slice segment. */
interface H265Picture {
  nalType: number
  temporalId: number
  pocLsb: number
  sps: H265Sps
}

const MISSING: AccessUnitInfo = {
  drop: 'missing-parameter-sets',
  keyframe: false,
  order: { poc: 0, reset: false },
  reorderFrames: 0,
}

/**
 * H.265 NAL unit semantics: access unit boundaries (§7.4.2.4.4), parameter sets, IRAP key frames, picture
 * order; RASL pictures of a CRA that starts the stream (or follows an end of sequence) are dropped, as a
 * decoder drops them (§8.1.3).
 */
export class H265Codec implements VideoCodec {
  readonly codec = 'h265' as const
  readonly codecId = 'V_MPEGH/ISO/HEVC'
  readonly headBytes = 3
  readonly #vps = new Map<number, H265Vps>()
  readonly #sps = new Map<number, H265Sps>()
  readonly #pps = new Map<number, H265Pps>()
  #version = 0
  readonly #order = new H265PictureOrder()
  /** No IRAP picture yet: the first one gets NoRaslOutputFlag 1. */
  #beforeFirstIrap = true
  /** The access unit being assembled holds an end of sequence NAL unit. */
  #endOfSequence = false
  /** The previous access unit ended a coded video sequence: the next IRAP gets NoRaslOutputFlag 1. */
  #afterEndOfSequence = false
  /** NoRaslOutputFlag of the latest IRAP picture: its RASL pictures are dropped when set. */
  #irapNoRaslOutput = true

  get version(): number {
    return this.#version
  }

  beginsAccessUnit(head: Uint8Array, headLength: number): boolean {
    const first = head[0]!
    if ((first & 0x80) !== 0) {
      throw new MuxerError('ERR_KVS_ANNEXB_INVALID_NAL_UNIT', 'NAL unit with forbidden_zero_bit set')
    }
    if (headLength < 2) {
      throw new MuxerError('ERR_KVS_ANNEXB_INVALID_NAL_UNIT', 'NAL unit shorter than its 2-byte header')
    }
    if ((head[1]! & 7) === 0) {
      throw new MuxerError('ERR_KVS_ANNEXB_INVALID_NAL_UNIT', 'NAL unit with nuh_temporal_id_plus1 0')
    }
    const type = (first >> 1) & 0x3f
    const layerId = ((first & 1) << 5) | (head[1]! >> 3)
    if (layerId !== 0) return false
    if (type < 32) return headLength >= 3 && (head[2]! & 0x80) !== 0
    return (
      (type >= H265Nal.Vps && type <= H265Nal.Aud) ||
      type === H265Nal.PrefixSei ||
      (type >= 41 && type <= 44) ||
      (type >= 48 && type <= 55)
    )
  }

  addNal(head: Uint8Array, parts: readonly Uint8Array[], length: number, au: PendingAccessUnit): boolean {
    const type = (head[0]! >> 1) & 0x3f
    switch (type) {
      case H265Nal.Aud:
      case H265Nal.Filler:
        return false
      case H265Nal.Vps: {
        const vps = parameterSet(() => parseH265Vps(nalPrefix(parts, length, length)), 'VPS')
        this.#store(this.#vps, vps)
        return true
      }
      case H265Nal.Sps: {
        const sps = parameterSet(() => parseH265Sps(nalPrefix(parts, length, length)), 'SPS')
        this.#store(this.#sps, sps)
        return true
      }
      case H265Nal.Pps: {
        const pps = parameterSet(() => parseH265Pps(nalPrefix(parts, length, length)), 'PPS')
        this.#store(this.#pps, pps)
        return true
      }
      case H265Nal.EndOfSequence:
      case H265Nal.EndOfBitstream:
        this.#endOfSequence = true
        return true
      default:
        if (type < 32) {
          const layerId = ((head[0]! & 1) << 5) | (head[1]! >> 3)
          if (layerId === 0 && !au.hasVcl) au.picture = this.#readPicture(type, head[1]!, parts, length)
          au.hasVcl = true
        }
        return true
    }
  }

  #store<T extends { id: number; nal: Uint8Array }>(map: Map<number, T>, set: T): void {
    const known = map.get(set.id)
    if (known === undefined || !sameBytes(known.nal, set.nal)) {
      map.set(set.id, set)
      this.#version++
    }
  }

  #readPicture(
    nalType: number,
    header1: number,
    parts: readonly Uint8Array[],
    length: number,
  ): H265Picture | undefined {
    const rbsp = unescapeRbsp(nalPrefix(parts, length, SLICE_HEADER_BYTES))
    try {
      const pps = this.#pps.get(h265SlicePpsId(rbsp, nalType))
      const sps = pps === undefined ? undefined : this.#sps.get(pps.spsId)
      if (pps === undefined || sps === undefined) return undefined
      const slice = parseH265SliceHeader(rbsp, nalType, sps, pps)
      return { nalType, temporalId: (header1 & 7) - 1, pocLsb: slice.pocLsb, sps }
    } catch (error) {
      throw new MuxerError(
        'ERR_KVS_ANNEXB_INVALID_SLICE_HEADER',
        `invalid slice segment header: ${messageOf(error)}`,
        { cause: error },
      )
    }
  }

  finishAccessUnit(au: PendingAccessUnit): AccessUnitInfo {
    const afterEndOfSequence = this.#afterEndOfSequence
    this.#afterEndOfSequence = this.#endOfSequence
    this.#endOfSequence = false
    const picture = au.picture as H265Picture | undefined
    if (picture === undefined) return MISSING
    const type = picture.nalType
    const irap = type >= H265Nal.BlaWLp && type <= 23
    let noRaslOutput = false
    if (irap) {
      noRaslOutput = type <= H265Nal.IdrNLp || this.#beforeFirstIrap || afterEndOfSequence
      this.#beforeFirstIrap = false
      this.#irapNoRaslOutput = noRaslOutput
    }
    const order = this.#order.next(
      type,
      picture.temporalId,
      picture.pocLsb,
      picture.sps.log2MaxPocLsb,
      noRaslOutput,
    )
    if ((type === H265Nal.RaslN || type === H265Nal.RaslR) && this.#irapNoRaslOutput) {
      return { drop: 'leading-picture', keyframe: false, order, reorderFrames: picture.sps.reorderFrames }
    }
    return { drop: undefined, keyframe: irap, order, reorderFrames: picture.sps.reorderFrames }
  }

  config(): CodecConfig {
    const byId = <T extends { id: number }>(map: Map<number, T>) =>
      [...map.values()].sort((a, b) => a.id - b.id)
    const vps = byId(this.#vps)
    const sps = byId(this.#sps)
    const first = sps[0]!
    const timing = vps.find((set) => set.id === first.vpsId) ?? vps[0]
    const fps =
      timing !== undefined && timing.numUnitsInTick > 0 && timing.timeScale > 0
        ? timing.timeScale / timing.numUnitsInTick
        : undefined
    return {
      codecPrivate: hevcDecoderConfigurationRecord(vps, sps, byId(this.#pps)),
      width: first.width,
      height: first.height,
      profile: first.generalProfileTierLevel[0]! & 0x1f,
      level: first.generalProfileTierLevel[11]!,
      reorderFrames: first.reorderFrames,
      fps,
    }
  }
}
