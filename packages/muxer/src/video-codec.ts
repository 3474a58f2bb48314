import { MuxerError, messageOf } from './errors.ts'
import type { PictureOrder } from './picture-order.ts'

/** An access unit being assembled by the Annex-B parser: its NAL units, and what the codec read of them. */
export interface PendingAccessUnit {
  /** 4-byte NAL unit lengths and NAL unit bytes (views), in order. */
  parts: Uint8Array[]
  byteLength: number
  /** Stream offset of the first NAL unit's first byte. */
  offset: number
  /** Whether a VCL NAL unit (a slice) has been added: the next picture's first NAL unit ends this one. */
  hasVcl: boolean
  /** What the codec read of the first slice (its header, its parameter sets), or undefined. */
  picture: unknown
}

/** What the codec makes of a complete access unit. */
export interface AccessUnitInfo {
  /**
   * Why nothing can decode it, when nothing can: its slices refer to parameter sets not received, or it is a
   * RASL picture of a CRA that starts the stream (H.265). Undefined for a picture that is kept.
   */
  drop: 'missing-parameter-sets' | 'leading-picture' | undefined
  /** IDR (H.264) or IRAP (H.265). */
  keyframe: boolean
  order: PictureOrder
  /** The reorder bound of the picture's SPS. */
  reorderFrames: number
}

/** The stream configuration a codec derives from its current parameter sets. */
export interface CodecConfig {
  codecPrivate: Uint8Array
  width: number
  height: number
  profile: number
  level: number
  reorderFrames: number
  /** Frames per second from the stream's timing information, or undefined. */
  fps: number | undefined
}

/** The codec-specific half of the Annex-B parser (H.264 or H.265 NAL unit semantics). */
export interface VideoCodec {
  readonly codec: 'h264' | 'h265'
  readonly codecId: string
  /** Bytes of a NAL unit's start that decide whether it begins a new access unit. */
  readonly headBytes: number
  /**
   * From a NAL unit's first bytes (`headLength` of them, fewer than `headBytes` only for a shorter NAL unit):
   * whether it begins a new access unit, should the current one hold a picture. Throws for a forbidden bit.
   */
  beginsAccessUnit(head: Uint8Array, headLength: number): boolean
  /**
   * Takes a complete NAL unit (`parts`, `length` bytes). Returns whether it goes into the access unit
   * (delimiters and filler data do not) and marks `au.hasVcl` for slices. Throws on a malformed parameter set
   * or slice header.
   */
  addNal(head: Uint8Array, parts: readonly Uint8Array[], length: number, au: PendingAccessUnit): boolean
  /** The access unit is complete: its order, key-frame flag, or that it is dropped. */
  finishAccessUnit(au: PendingAccessUnit): AccessUnitInfo
  /** Increases whenever a stored parameter set changes. */
  readonly version: number
  /** The configuration from the current parameter sets. */
  config(): CodecConfig
}

/** The first `count` bytes of a NAL unit held in parts (a view when the first part holds them all). */
export function nalPrefix(parts: readonly Uint8Array[], length: number, count: number): Uint8Array {
  const size = Math.min(length, count)
  const first = parts[0]
  if (first !== undefined && first.length >= size) return first.subarray(0, size)
  const out = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    if (at >= size) break
    const take = Math.min(part.length, size - at)
    out.set(part.subarray(0, take), at)
    at += take
  }
  return out
}

/** Runs a parameter set parser; anything it throws becomes `ERR_KVS_ANNEXB_INVALID_PARAMETER_SET`. */
export function parameterSet<T>(parse: () => T, name: string): T {
  try {
    return parse()
  } catch (error) {
    throw new MuxerError('ERR_KVS_ANNEXB_INVALID_PARAMETER_SET', `invalid ${name}: ${messageOf(error)}`, {
      cause: error,
    })
  }
}
