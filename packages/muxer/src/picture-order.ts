/**
 * Presentation order of raw H.264/H.265 pictures, which carry no timestamps: the picture order count (POC)
 * of each picture as a decoder derives it, and a reorder queue that releases pictures in output order.
 * @see ITU-T H.264 §8.2.1, §C.4.5.3; ITU-T H.265 §8.3.1, §C.5.2
 */
import type { H264SliceHeader, H264Sps } from './h264.ts'

/** A picture's order count and whether it starts a new order (all earlier pictures are output first). */
export interface PictureOrder {
  poc: number
  reset: boolean
}

/** Derives H.264 picture order counts (types 0, 1 and 2) in decoding order. */
export class H264PictureOrder {
  /** POC type 0: PicOrderCntMsb and pic_order_cnt_lsb of the previous reference picture. */
  #prevMsb = 0
  #prevLsb = 0
  /** POC type 1: FrameNumOffset and frame_num of the previous picture. */
  #prevFrameNumOffset = 0
  #prevFrameNum = 0
  /** The previous (reference, for type 0) picture had memory_management_control_operation 5. */
  #prevMmco5 = false
  /** Type 0: TopFieldOrderCnt of the previous reference picture after its MMCO 5. */
  #prevTopAfterMmco5 = 0
  /** Type 2: pictures so far, as their order. */
  #count = 0

  /** The order of the next picture in decoding order. */
  next(header: H264SliceHeader, sps: H264Sps, idr: boolean, nalRefIdc: number): PictureOrder {
    const reset = idr || header.mmco5
    let top: number
    let bottom: number
    if (sps.pocType === 0) {
      let prevMsb = this.#prevMsb
      let prevLsb = this.#prevLsb
      if (idr) {
        prevMsb = 0
        prevLsb = 0
      } else if (this.#prevMmco5) {
        prevMsb = 0
        prevLsb = this.#prevTopAfterMmco5
      }
      const maxLsb = 2 ** sps.log2MaxPocLsb
      const lsb = header.pocLsb
      let msb = prevMsb
      if (lsb < prevLsb && prevLsb - lsb >= maxLsb / 2) msb = prevMsb + maxLsb
      else if (lsb > prevLsb && lsb - prevLsb > maxLsb / 2) msb = prevMsb - maxLsb
      top = msb + lsb
      bottom = top + header.deltaPocBottom
      if (nalRefIdc !== 0) {
        this.#prevMsb = msb
        this.#prevLsb = lsb
        this.#prevMmco5 = header.mmco5
        this.#prevTopAfterMmco5 = top - Math.min(top, bottom)
      }
    } else if (sps.pocType === 1) {
      const maxFrameNum = 2 ** sps.log2MaxFrameNum
      const prevOffset = this.#prevMmco5 ? 0 : this.#prevFrameNumOffset
      let frameNumOffset = 0
      if (!idr) frameNumOffset = this.#prevFrameNum > header.frameNum ? prevOffset + maxFrameNum : prevOffset
      const cycle = sps.offsetForRefFrame
      let absFrameNum = cycle.length !== 0 ? frameNumOffset + header.frameNum : 0
      if (nalRefIdc === 0 && absFrameNum > 0) absFrameNum--
      let expected = 0
      if (absFrameNum > 0) {
        let deltaPerCycle = 0
        for (const offset of cycle) deltaPerCycle += offset
        const cycleCount = Math.floor((absFrameNum - 1) / cycle.length)
        const inCycle = (absFrameNum - 1) % cycle.length
        expected = cycleCount * deltaPerCycle
        for (let i = 0; i <= inCycle; i++) expected += cycle[i]!
      }
      if (nalRefIdc === 0) expected += sps.offsetForNonRefPic
      top = expected + header.deltaPoc0
      bottom = top + sps.offsetForTopToBottomField + header.deltaPoc1
      this.#prevFrameNumOffset = frameNumOffset
      this.#prevFrameNum = header.mmco5 ? 0 : header.frameNum
      this.#prevMmco5 = header.mmco5
    } else {
      // Type 2: output order is decoding order.
      top = this.#count
      bottom = top
    }
    this.#count++
    // After MMCO 5 the picture's own order count becomes 0 (§8.2.1): it opens the new order.
    return { poc: header.mmco5 ? 0 : Math.min(top, bottom), reset }
  }
}

/** Derives H.265 picture order counts in decoding order. */
export class H265PictureOrder {
  /** PicOrderCntVal of prevTid0Pic: the previous TemporalId-0 picture that is no RASL, RADL or SLNR. */
  #prevTid0Poc = 0

  /**
   * The order of the next picture. `noRaslOutputFlag` is that of an IRAP picture (1 for IDR, BLA, and a
   * CRA first in the stream or after an end of sequence).
   */
  next(
    nalType: number,
    temporalId: number,
    pocLsb: number,
    log2MaxPocLsb: number,
    noRaslOutputFlag: boolean,
  ): PictureOrder {
    const irap = nalType >= 16 && nalType <= 23
    const maxLsb = 2 ** log2MaxPocLsb
    let msb = 0
    if (!(irap && noRaslOutputFlag)) {
      const prevLsb = ((this.#prevTid0Poc % maxLsb) + maxLsb) % maxLsb
      const prevMsb = this.#prevTid0Poc - prevLsb
      msb = prevMsb
      if (pocLsb < prevLsb && prevLsb - pocLsb >= maxLsb / 2) msb = prevMsb + maxLsb
      else if (pocLsb > prevLsb && pocLsb - prevLsb > maxLsb / 2) msb = prevMsb - maxLsb
    }
    const poc = msb + pocLsb
    // RADL_N 6, RADL_R 7, RASL_N 8, RASL_R 9; sub-layer non-reference pictures are the even types below 16.
    const leading = nalType >= 6 && nalType <= 9
    const subLayerNonReference = nalType < 16 && nalType % 2 === 0
    if (temporalId === 0 && !leading && !subLayerNonReference) this.#prevTid0Poc = poc
    return { poc, reset: irap && noRaslOutputFlag }
  }
}

/**
 * Releases pictures in output order, as a decoder's output process does: a picture is output once more than
 * `depth` pictures wait (the stream's reorder bound), or when a new order starts (IDR, MMCO 5, IRAP with
 * NoRaslOutputFlag), or at the end.
 */
export class ReorderQueue<T> {
  /** Pictures waiting for output, in decoding order, with their order counts. */
  #waiting: { item: T; poc: number }[] = []

  get size(): number {
    return this.#waiting.length
  }

  /** Adds a picture; `release` gets every picture that is output now, in output order. */
  push(item: T, order: PictureOrder, depth: number, release: (item: T) => void): void {
    if (order.reset) this.flush(release)
    this.#waiting.push({ item, poc: order.poc })
    while (this.#waiting.length > depth) this.#releaseFirst(release)
  }

  /** Outputs every waiting picture. */
  flush(release: (item: T) => void): void {
    while (this.#waiting.length > 0) this.#releaseFirst(release)
  }

  /** Outputs the waiting picture with the smallest order count (the earliest decoded among equals). */
  #releaseFirst(release: (item: T) => void): void {
    const waiting = this.#waiting
    let best = 0
    for (let i = 1; i < waiting.length; i++) if (waiting[i]!.poc < waiting[best]!.poc) best = i
    const [entry] = waiting.splice(best, 1)
    release(entry!.item)
  }
}
