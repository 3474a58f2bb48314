import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import {
  avcPictureSize,
  Fmp4Error,
  hevcCodecString,
  mp4MimeType,
  mp4TrackOf,
  readAacConfig,
  readAvcConfig,
  readHevcConfig,
  readMkvFragment,
} from '../src/index.ts'
import { encode } from './support/media.ts'

function tracksOf(bytes: Uint8Array) {
  return readMkvFragment([bytes]).tracks
}

describe('codec strings and sample entry facts from CodecPrivate', () => {
  it('reads H.264 profile, compatibility and level from avcC: Main 1.3 and High 1.3 of the fixtures', () => {
    const main = mp4TrackOf(tracksOf(readFixture('generated', 'h264-only.mkv'))[0]!)
    expect(main).toMatchObject({
      codec: 'avc1',
      codecString: 'avc1.4d400d',
      width: 320,
      height: 240,
      timescale: 90_000,
    })
    const [video, audio] = tracksOf(readFixture('generated', 'ffmpeg-h264-aac.mkv')).map(mp4TrackOf)
    expect(video?.codecString).toBe('avc1.64000d')
    expect(audio).toMatchObject({
      codec: 'mp4a',
      codecString: 'mp4a.40.2',
      sampleRate: 48_000,
      channels: 2,
      timescale: 48_000,
      frameLength: 1024,
    })
    expect(mp4MimeType([video!, audio!])).toBe('video/mp4; codecs="avc1.64000d,mp4a.40.2"')
    expect(mp4MimeType([audio!])).toBe('audio/mp4; codecs="mp4a.40.2"')
  })

  it('reads the picture size from the SPS, cropping included (426x240 is coded as 432x240)', async () => {
    const { bytes } = await encode('crop.mkv', {
      seconds: 0.2,
      size: '426x240',
      video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    })
    const entry = tracksOf(bytes)[0]!
    const config = readAvcConfig(entry.codecPrivate!)
    if (typeof config === 'string') throw new Error(config)
    expect(avcPictureSize(config.sps[0]!)).toEqual({ width: 426, height: 240 })
    // The SPS wins over PixelWidth/PixelHeight, which a producer may get wrong.
    expect(mp4TrackOf({ ...entry, width: 1, height: 1 })).toMatchObject({ width: 426, height: 240 })
  })

  it('makes an hvc1 codec string and picture size from an x265 hvcC', async () => {
    const { bytes } = await encode('hevc.mkv', {
      seconds: 0.2,
      size: '640x360',
      video: [
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-x265-params',
        'log-level=error:bframes=0',
        '-pix_fmt',
        'yuv420p',
      ],
    })
    const track = mp4TrackOf(tracksOf(bytes)[0]!)
    expect(track).toMatchObject({ codec: 'hvc1', codecId: 'V_MPEGH/ISO/HEVC', width: 640, height: 360 })
    // Main profile (1), compatibility flags bits 1 and 2 (reversed: 6), Main tier, level from x265, constraints.
    expect(track.codecString).toMatch(/^hvc1\.1\.6\.L\d+(\.[0-9A-F]{1,2})*$/)
    const config = readHevcConfig(track.codecPrivate)
    if (typeof config === 'string') throw new Error(config)
    expect(track.codecString).toBe(hevcCodecString(config))
    expect(track.codecString.split('.')[3]).toBe(`L${config.level}`)
  })

  it('formats the hvc1 string as ISO/IEC 14496-15 Annex E does for its examples', () => {
    const base = { profileSpace: 0, tier: 0, nalLengthSize: 4, nalUnits: [] }
    // Main profile, level 3.1, progressive_source_flag set (0xB0 first constraint byte): hvc1.1.6.L93.B0.
    expect(
      hevcCodecString({
        ...base,
        profile: 1,
        compatibility: 0x6000_0000,
        level: 93,
        constraints: new Uint8Array([0xb0, 0, 0, 0, 0, 0]),
      }),
    ).toBe('hvc1.1.6.L93.B0')
    // Main 10, High tier, level 5.1, no constraint bytes: hvc1.2.4.H153.
    expect(
      hevcCodecString({
        ...base,
        tier: 1,
        profile: 2,
        compatibility: 0x2000_0000,
        level: 153,
        constraints: new Uint8Array(6),
      }),
    ).toBe('hvc1.2.4.H153')
  })

  it('reads AudioSpecificConfig: object type, sampling index, channels, 960-sample frames', () => {
    expect(readAacConfig(new Uint8Array([0x11, 0x90]))).toEqual({
      objectType: 2,
      sampleRate: 48_000,
      channels: 2,
      frameLength: 1024,
    })
    expect(readAacConfig(new Uint8Array([0x12, 0x08]))).toEqual({
      objectType: 2,
      sampleRate: 44_100,
      channels: 1,
      frameLength: 1024,
    })
    expect(readAacConfig(new Uint8Array([0x11, 0x94]))).toMatchObject({ frameLength: 960 })
    expect(readAacConfig(new Uint8Array([0x17, 0x10]))).toBe('its sampling frequency index 14 is reserved')
    expect(readAacConfig(new Uint8Array([0x11]))).toBe('it is 1 bytes, shorter than an AudioSpecificConfig')
  })
})

describe('tracks MP4 cannot describe', () => {
  const entry = tracksOf(readFixture('generated', 'h264-only.mkv'))[0]!

  function refusal(run: () => unknown): Fmp4Error {
    try {
      run()
    } catch (error) {
      if (Fmp4Error.is(error)) return error
      throw error
    }
    throw new Error('expected an Fmp4Error')
  }

  it('refuses a codec other than H.264, H.265 and AAC, naming the track and CodecID', () => {
    const error = refusal(() => mp4TrackOf({ ...entry, codecId: 'V_VP8' }))
    expect(error).toMatchObject({ code: 'ERR_KVS_FMP4_UNSUPPORTED_CODEC', trackNumber: 1, codecId: 'V_VP8' })
    expect(error.message).toContain('"V_VP8"')
  })

  it('refuses a track without CodecPrivate', () => {
    const { codecPrivate: _dropped, ...bare } = entry
    expect(refusal(() => mp4TrackOf(bare))).toMatchObject({
      code: 'ERR_KVS_FMP4_MISSING_CODEC_PRIVATE',
      trackNumber: 1,
    })
  })

  it('refuses Annex-B, truncated and wrong-version CodecPrivate with a reason', () => {
    const annexB = refusal(() =>
      mp4TrackOf({ ...entry, codecPrivate: new Uint8Array([0, 0, 0, 1, 0x67, 0x42, 0, 0x1e]) }),
    )
    expect(annexB.code).toBe('ERR_KVS_FMP4_INVALID_CODEC_PRIVATE')
    expect(annexB.message).toContain('Annex-B')
    const truncated = entry.codecPrivate!.subarray(0, 10)
    expect(refusal(() => mp4TrackOf({ ...entry, codecPrivate: truncated })).message).toContain(
      'ends inside a parameter set',
    )
    const version2 = new Uint8Array(entry.codecPrivate!)
    version2[0] = 2
    expect(refusal(() => mp4TrackOf({ ...entry, codecPrivate: version2 })).message).toContain(
      'configurationVersion is 2',
    )
    expect(
      refusal(() =>
        mp4TrackOf({ number: 2, type: 2, codecId: 'A_AAC', codecPrivate: new Uint8Array([0x17, 0x10]) }),
      ).code,
    ).toBe('ERR_KVS_FMP4_INVALID_CODEC_PRIVATE')
  })
})
