import type { TrackInfo } from '@kvs-streams/chunker'
import { invalidOption, numberOption } from '@kvs-streams/core'
import {
  ElementId,
  writeEbmlHeader,
  writeElement,
  writeFloat,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from '@kvs-streams/ebml'

/**
 * A track of the muxer's output. `codec: 'h264' | 'h265' | 'aac'` sets the CodecID and track type; any other
 * codec gives `codecId` and `trackType`. The `config` events of the Annex-B and ADTS parsers have the fields of
 * a track (`createMuxer({ tracks: [videoConfig, audioConfig] })`).
 */
export interface MuxerTrack {
  codec?: 'h264' | 'h265' | 'aac' | undefined
  /** Matroska CodecID (at most 32 characters, a KVS limit), e.g. `V_VP9`; implied by `codec`. */
  codecId?: string | undefined
  /** `'video'`, `'audio'` or a Matroska TrackType number; implied by `codec`. */
  trackType?: 'video' | 'audio' | number | undefined
  /** CodecPrivate (at most 1 MiB, a KVS limit): avcC, hvcC, AudioSpecificConfig, … */
  codecPrivate?: Uint8Array | undefined
  /** TrackNumber blocks refer to. Default: the track's position in `tracks`, from 1. */
  number?: number | undefined
  /** Track Name (at most 32 characters, a KVS limit). */
  name?: string | undefined
  /** Video picture size (required for video tracks). */
  width?: number | undefined
  height?: number | undefined
  /** Audio sampling frequency, Hz, and channel count (required for audio tracks). */
  sampleRate?: number | undefined
  channels?: number | undefined
  /** Duration of one frame, ms: written as DefaultDuration, and counted in each fragment's end time. */
  frameDurationMs?: number | undefined
}

/** Matroska TrackType numbers. */
const VIDEO = 1
const AUDIO = 2

const CODECS: Record<string, { codecId: string; type: number } | undefined> = {
  h264: { codecId: 'V_MPEG4/ISO/AVC', type: VIDEO },
  h265: { codecId: 'V_MPEGH/ISO/HEVC', type: VIDEO },
  aac: { codecId: 'A_AAC', type: AUDIO },
}

const MAX_CODEC_PRIVATE = 1024 * 1024

/** Checks the declared tracks and resolves their numbers, types and CodecIDs. Throws `TypeError`. */
export function resolveTracks(tracks: readonly MuxerTrack[]): TrackInfo[] {
  if (!Array.isArray(tracks) || tracks.length === 0) {
    throw invalidOption('tracks', 'a non-empty array of tracks', tracks)
  }
  if (tracks.length > 3) throw invalidOption('tracks', 'at most 3 tracks (a KVS limit, ErrorId 4012)', tracks)
  const numbers = new Set<number>()
  return tracks.map((track, index) => {
    const name = `tracks[${index}]`
    if (typeof track !== 'object' || track === null) throw invalidOption(name, 'a track', track)
    const known =
      typeof track.codec === 'string' && Object.hasOwn(CODECS, track.codec) ? CODECS[track.codec] : undefined
    if (track.codec !== undefined && known === undefined) {
      throw invalidOption(`${name}.codec`, "'h264', 'h265' or 'aac'", track.codec)
    }
    const codecId = track.codecId ?? known?.codecId
    if (typeof codecId !== 'string' || codecId.length === 0 || codecId.length > 32) {
      throw invalidOption(`${name}.codecId`, 'a CodecID of 1 to 32 characters', codecId)
    }
    let type: number | undefined = known?.type
    if (track.trackType !== undefined) {
      type = track.trackType === 'video' ? VIDEO : track.trackType === 'audio' ? AUDIO : track.trackType
    }
    if (!Number.isInteger(type) || type! < 1 || type! > 254) {
      throw invalidOption(
        `${name}.trackType`,
        "'video', 'audio' or a TrackType from 1 to 254",
        track.trackType,
      )
    }
    const number = track.number ?? index + 1
    if (!Number.isSafeInteger(number) || number < 1 || numbers.has(number)) {
      throw invalidOption(`${name}.number`, 'a positive integer no other track has', number)
    }
    numbers.add(number)
    const info: TrackInfo = { number, type: type!, codecId }
    if (track.codecPrivate !== undefined) {
      if (!(track.codecPrivate instanceof Uint8Array) || track.codecPrivate.length > MAX_CODEC_PRIVATE) {
        throw invalidOption(`${name}.codecPrivate`, 'a Uint8Array of at most 1 MiB', track.codecPrivate)
      }
      info.codecPrivate = new Uint8Array(track.codecPrivate)
    }
    if (track.name !== undefined) {
      if (typeof track.name !== 'string' || track.name.length > 32) {
        throw invalidOption(`${name}.name`, 'a string of at most 32 characters', track.name)
      }
      info.name = track.name
    }
    if (type === VIDEO) {
      for (const field of ['width', 'height'] as const) {
        info[field] = numberOption(
          `${name}.${field}`,
          track[field],
          'a positive integer (video tracks need it)',
          {
            integer: true,
            above: 0,
          },
        )
      }
    } else if (type === AUDIO) {
      info.samplingFrequency = numberOption(
        `${name}.sampleRate`,
        track.sampleRate,
        'a positive number (audio tracks need it)',
        { above: 0 },
      )
      info.channels = numberOption(
        `${name}.channels`,
        track.channels,
        'a positive integer (audio tracks need it)',
        {
          integer: true,
          above: 0,
        },
      )
    }
    if (track.frameDurationMs !== undefined) {
      const frameDurationMs = numberOption(
        `${name}.frameDurationMs`,
        track.frameDurationMs,
        'a positive number',
        {
          above: 0,
        },
      )
      info.defaultDurationNs = Math.round(frameDurationMs * 1_000_000)
    }
    return info
  })
}

/** What goes in the header besides the tracks. */
export interface HeaderOptions {
  /** Nanoseconds per timecode unit. */
  timecodeScale: number
  /** Info/Title, when given. */
  title?: string | undefined
  /** Info/WritingApp. */
  writingApp: string
}

/**
 * The bytes a PutMedia session starts with: the EBML header, the Segment start with the unknown size, Info
 * (TimecodeScale, MuxingApp, WritingApp, Title) and Tracks.
 */
export function writeHeader(tracks: readonly TrackInfo[], options: HeaderOptions): Uint8Array {
  const info = writeElement(ElementId.Info, [
    writeUint(ElementId.TimecodeScale, options.timecodeScale),
    writeString(ElementId.MuxingApp, 'kvs-streams muxer'),
    writeString(ElementId.WritingApp, options.writingApp),
    ...(options.title === undefined ? [] : [writeString(ElementId.Title, options.title)]),
  ])
  const entries = tracks.map((track) => {
    const children = [
      writeUint(ElementId.TrackNumber, track.number),
      writeUint(ElementId.TrackUID, track.number),
      writeUint(ElementId.TrackType, track.type),
      writeUint(ElementId.FlagLacing, 0),
    ]
    if (track.name !== undefined) children.push(writeString(ElementId.Name, track.name))
    children.push(writeString(ElementId.CodecID, track.codecId))
    if (track.codecPrivate !== undefined)
      children.push(writeElement(ElementId.CodecPrivate, track.codecPrivate))
    if (track.defaultDurationNs !== undefined) {
      children.push(writeUint(ElementId.DefaultDuration, track.defaultDurationNs))
    }
    if (track.type === VIDEO) {
      children.push(
        writeElement(ElementId.Video, [
          writeUint(ElementId.PixelWidth, track.width!),
          writeUint(ElementId.PixelHeight, track.height!),
        ]),
      )
    } else if (track.type === AUDIO) {
      children.push(
        writeElement(ElementId.Audio, [
          writeFloat(ElementId.SamplingFrequency, track.samplingFrequency!),
          writeUint(ElementId.Channels, track.channels!),
        ]),
      )
    }
    return writeElement(ElementId.TrackEntry, children)
  })
  const parts = [
    writeEbmlHeader(),
    writeUnknownSizeStart(ElementId.Segment, 8),
    info,
    writeElement(ElementId.Tracks, entries),
  ]
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
