import { unescapeRbsp } from './bit-reader.ts'
import { sameBytes } from './bytes.ts'
import { MuxerError, messageOf } from './errors.ts'
import {
  avcDecoderConfigurationRecord,
  H264Nal,
  type H264Pps,
  type H264SliceHeader,
  type H264Sps,
  h264SlicePpsId,
  parseH264Pps,
  parseH264SliceHeader,
  parseH264Sps,
} from './h264.ts'
import { H264PictureOrder } from './picture-order.ts'
import {
  type AccessUnitInfo,
  type CodecConfig,
  nalPrefix,
  type PendingAccessUnit,
  parameterSet,
  type VideoCodec,
} from './video-codec.ts'

/** Bytes of a slice NAL unit read for its header: enough for any header short of huge weight tables. */
const SLICE_HEADER_BYTES = 1024

const DROPPED: AccessUnitInfo = {
  drop: 'missing-parameter-sets',
  keyframe: false,
  order: { poc: 0, reset: false },
  reorderFrames: 0,
}

/** What the H.264 codec reads of an access unit's first slice. */
interface H264Picture {
  idr: boolean
  nalRefIdc: number
  header: H264SliceHeader
  sps: H264Sps
}

/**
 * H.264 NAL unit semantics: access unit boundaries (§7.4.1.2.3), parameter sets, IDR key frames, picture order.
 * @see ITU-T H.264 §7.4.1.2.3
 */
export class H264Codec implements VideoCodec {
  readonly codec = 'h264' as const
  readonly codecId = 'V_MPEG4/ISO/AVC'
  readonly headBytes = 2
  /** Parameter sets by id, as last received. */
  readonly #sps = new Map<number, H264Sps>()
  readonly #pps = new Map<number, H264Pps>()
  #version = 0
  readonly #order = new H264PictureOrder()

  get version(): number {
    return this.#version
  }

  beginsAccessUnit(head: Uint8Array, headLength: number): boolean {
    const byte = head[0]!
    if ((byte & 0x80) !== 0) {
      throw new MuxerError('ERR_KVS_ANNEXB_INVALID_NAL_UNIT', 'NAL unit with forbidden_zero_bit set')
    }
    const type = byte & 0x1f
    switch (type) {
      case H264Nal.Slice:
      case H264Nal.SliceDataPartitionA:
      case H264Nal.IdrSlice:
        // first_mb_in_slice == 0 (ue(v) 0 is the single bit 1): the first slice of a new picture.
        return headLength >= 2 && (head[1]! & 0x80) !== 0
      case H264Nal.Aud:
      case H264Nal.Sps:
      case H264Nal.Pps:
      case H264Nal.Sei:
      case H264Nal.Prefix:
      case H264Nal.SubsetSps:
      case 16:
      case 17:
      case 18:
        return true
      default:
        return false
    }
  }

  addNal(head: Uint8Array, parts: readonly Uint8Array[], length: number, au: PendingAccessUnit): boolean {
    const type = head[0]! & 0x1f
    switch (type) {
      case H264Nal.Aud:
      case H264Nal.Filler:
        return false
      case H264Nal.Sps: {
        const sps = parameterSet(() => parseH264Sps(nalPrefix(parts, length, length)), 'SPS')
        const known = this.#sps.get(sps.id)
        if (known === undefined || !sameBytes(known.nal, sps.nal)) {
          this.#sps.set(sps.id, sps)
          this.#version++
        }
        return true
      }
      case H264Nal.Pps: {
        const pps = parameterSet(() => parseH264Pps(nalPrefix(parts, length, length)), 'PPS')
        const known = this.#pps.get(pps.id)
        if (known === undefined || !sameBytes(known.nal, pps.nal)) {
          this.#pps.set(pps.id, pps)
          this.#version++
        }
        return true
      }
      case H264Nal.Slice:
      case H264Nal.SliceDataPartitionA:
      case H264Nal.IdrSlice: {
        if (!au.hasVcl) au.picture = this.#readPicture(head[0]!, parts, length)
        else if (type === H264Nal.IdrSlice && au.picture !== undefined) (au.picture as H264Picture).idr = true
        au.hasVcl = true
        return true
      }
      case H264Nal.SliceDataPartitionB:
      case H264Nal.SliceDataPartitionC:
        au.hasVcl = true
        return true
      default:
        return true
    }
  }

  /** Reads the first slice of a picture; undefined when its parameter sets have not been received. */
  #readPicture(header: number, parts: readonly Uint8Array[], length: number): H264Picture | undefined {
    const type = header & 0x1f
    const nalRefIdc = (header >> 5) & 3
    const rbsp = unescapeRbsp(nalPrefix(parts, length, SLICE_HEADER_BYTES))
    let ppsId: number
    try {
      ppsId = h264SlicePpsId(rbsp)
    } catch (error) {
      throw sliceError(error)
    }
    const pps = this.#pps.get(ppsId)
    const sps = pps === undefined ? undefined : this.#sps.get(pps.spsId)
    if (pps === undefined || sps === undefined) return undefined
    let slice: H264SliceHeader
    try {
      slice = parseH264SliceHeader(rbsp, type, nalRefIdc, sps, pps)
    } catch (error) {
      throw sliceError(error)
    }
    if (slice.fieldPic) {
      throw new MuxerError(
        'ERR_KVS_ANNEXB_UNSUPPORTED',
        'field-coded (interlaced, field_pic_flag 1) pictures are not supported: encode progressive frames',
      )
    }
    return { idr: type === H264Nal.IdrSlice, nalRefIdc, header: slice, sps }
  }

  finishAccessUnit(au: PendingAccessUnit): AccessUnitInfo {
    const picture = au.picture as H264Picture | undefined
    if (picture === undefined) return DROPPED
    return {
      drop: undefined,
      keyframe: picture.idr,
      order: this.#order.next(picture.header, picture.sps, picture.idr, picture.nalRefIdc),
      reorderFrames: picture.sps.reorderFrames,
    }
  }

  config(): CodecConfig {
    const sps = [...this.#sps.values()].sort((a, b) => a.id - b.id)
    const pps = [...this.#pps.values()].sort((a, b) => a.id - b.id)
    const first = sps[0]!
    const fps =
      first.numUnitsInTick > 0 && first.timeScale > 0
        ? first.timeScale / (2 * first.numUnitsInTick)
        : undefined
    return {
      codecPrivate: avcDecoderConfigurationRecord(sps, pps),
      width: first.width,
      height: first.height,
      profile: first.profileIdc,
      level: first.levelIdc,
      reorderFrames: first.reorderFrames,
      fps,
    }
  }
}

function sliceError(error: unknown): MuxerError {
  if (MuxerError.is(error)) return error
  return new MuxerError('ERR_KVS_ANNEXB_INVALID_SLICE_HEADER', `invalid slice header: ${messageOf(error)}`, {
    cause: error,
  })
}
