import { describe, expect, it } from 'vitest'
import type { H264SliceHeader, H264Sps } from '../src/h264.ts'
import { H264PictureOrder, H265PictureOrder, type PictureOrder, ReorderQueue } from '../src/picture-order.ts'

const sps = (fields: Partial<H264Sps>) =>
  ({
    pocType: 0,
    log2MaxPocLsb: 4,
    log2MaxFrameNum: 4,
    offsetForRefFrame: [],
    offsetForNonRefPic: 0,
    offsetForTopToBottomField: 0,
    ...fields,
  }) as H264Sps
const slice = (fields: Partial<H264SliceHeader>) =>
  ({
    frameNum: 0,
    pocLsb: 0,
    deltaPocBottom: 0,
    deltaPoc0: 0,
    deltaPoc1: 0,
    mmco5: false,
    ...fields,
  }) as H264SliceHeader

describe('ReorderQueue', () => {
  const release = (pictures: [number, boolean][], depth: number) => {
    const queue = new ReorderQueue<number>()
    const out: number[] = []
    for (const [i, [poc, reset]] of pictures.entries()) {
      queue.push(i, { poc, reset } as PictureOrder, depth, (item) => out.push(item))
    }
    queue.flush((item) => out.push(item))
    return out
  }

  it('outputs pictures by order count once more than `depth` wait', () => {
    // I0 P6 B2 B4 (decoding order) → I0 B2 B4 P6.
    expect(
      release(
        [
          [0, true],
          [6, false],
          [2, false],
          [4, false],
        ],
        2,
      ),
    ).toEqual([0, 2, 3, 1])
  })

  it('outputs everything waiting when a new order starts', () => {
    expect(
      release(
        [
          [0, true],
          [4, false],
          [2, false],
          [0, true],
          [2, false],
        ],
        2,
      ),
    ).toEqual([0, 2, 1, 3, 4])
  })

  it('keeps decoding order with depth 0', () => {
    expect(
      release(
        [
          [0, true],
          [9, false],
          [3, false],
        ],
        0,
      ),
    ).toEqual([0, 1, 2])
  })
})

describe('H264PictureOrder', () => {
  it('type 0: follows pic_order_cnt_lsb across its wrap (PicOrderCntMsb)', () => {
    const order = new H264PictureOrder()
    const set = sps({ log2MaxPocLsb: 4 })
    const pocs = [0, 4, 8, 12, 0, 4, 2].map(
      (lsb, i) => order.next(slice({ pocLsb: lsb }), set, i === 0, lsb === 2 ? 0 : 1).poc,
    )
    expect(pocs).toEqual([0, 4, 8, 12, 16, 20, 18])
  })

  it('type 0: MMCO 5 starts a new order, the picture itself at 0', () => {
    const order = new H264PictureOrder()
    const set = sps({ log2MaxPocLsb: 8 })
    expect(order.next(slice({ pocLsb: 0 }), set, true, 1)).toEqual({ poc: 0, reset: true })
    expect(order.next(slice({ pocLsb: 10 }), set, false, 1)).toEqual({ poc: 10, reset: false })
    expect(order.next(slice({ pocLsb: 20, mmco5: true }), set, false, 1)).toEqual({ poc: 0, reset: true })
    expect(order.next(slice({ pocLsb: 4 }), set, false, 1)).toEqual({ poc: 4, reset: false })
  })

  it('type 1: expected order counts from the reference frame cycle', () => {
    const order = new H264PictureOrder()
    const set = sps({ pocType: 1, offsetForRefFrame: [4], offsetForNonRefPic: -2, log2MaxFrameNum: 4 })
    const pocs = [
      order.next(slice({ frameNum: 0 }), set, true, 1).poc,
      order.next(slice({ frameNum: 1 }), set, false, 1).poc,
      order.next(slice({ frameNum: 2 }), set, false, 0).poc,
      order.next(slice({ frameNum: 2 }), set, false, 1).poc,
    ]
    // A non-reference picture counts from the reference before it, plus offset_for_non_ref_pic.
    expect(pocs).toEqual([0, 4, 2, 8])
  })

  it('type 2: decoding order', () => {
    const order = new H264PictureOrder()
    const set = sps({ pocType: 2 })
    expect([0, 1, 2].map((i) => order.next(slice({ frameNum: i }), set, i === 0, 1).poc)).toEqual([0, 1, 2])
  })
})

describe('H265PictureOrder', () => {
  it('counts from the previous TemporalId-0 picture, resets at an IRAP with NoRaslOutputFlag', () => {
    const order = new H265PictureOrder()
    expect(order.next(19, 0, 0, 4, true)).toEqual({ poc: 0, reset: true })
    expect(order.next(1, 0, 6, 4, false).poc).toBe(6)
    expect(order.next(1, 0, 12, 4, false).poc).toBe(12)
    // pic_order_cnt_lsb wraps at 16: 2 after 12 is 18.
    expect(order.next(1, 0, 2, 4, false).poc).toBe(18)
    // A sub-layer non-reference picture (type 0) does not move the reference point.
    expect(order.next(0, 0, 15, 4, false).poc).toBe(15)
    expect(order.next(1, 0, 6, 4, false).poc).toBe(22)
    // A CRA without NoRaslOutputFlag continues the count.
    expect(order.next(21, 0, 10, 4, false)).toEqual({ poc: 26, reset: false })
  })
})
