import { BitReader } from './bit-reader.ts'

/** What an AudioSpecificConfig (Matroska `A_AAC` CodecPrivate) says. */
export interface AacConfig {
  /** audioObjectType (2 for AAC-LC, 5 SBR, 29 PS). */
  objectType: number
  /** Sampling frequency of the core decoder, Hz. */
  sampleRate: number
  /** channelConfiguration (0: defined in the bitstream). */
  channels: number
  /** Samples per frame: 1024, or 960 with frameLengthFlag. */
  frameLength: number
}

const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

/**
 * Reads the start of an AudioSpecificConfig; returns a sentence saying what is wrong instead.
 * @see ISO/IEC 14496-3 §1.6.2.1
 */
export function readAacConfig(config: Uint8Array): AacConfig | string {
  if (config.length < 2) return `it is ${config.length} bytes, shorter than an AudioSpecificConfig`
  try {
    const reader = new BitReader(config)
    let objectType = reader.bits(5)
    if (objectType === 31) objectType = 32 + reader.bits(6)
    const index = reader.bits(4)
    const sampleRate = index === 15 ? reader.bits(24) : SAMPLE_RATES[index]
    if (sampleRate === undefined || sampleRate === 0)
      return `its sampling frequency index ${index} is reserved`
    const channels = reader.bits(4)
    let frameLength = 1024
    // GASpecificConfig's frameLengthFlag, for the object types that carry one right after the channels.
    if ([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(objectType) && reader.bit() === 1)
      frameLength = 960
    if (objectType === 0) return 'its audioObjectType is 0 (null)'
    return { objectType, sampleRate, channels, frameLength }
  } catch {
    return 'it ends early'
  }
}

/** The RFC 6381 codec string of an AAC track: `mp4a.40.<audioObjectType>` (`mp4a.40.2` for AAC-LC). */
export function aacCodecString(config: AacConfig): string {
  return `mp4a.40.${config.objectType}`
}
