import type { IncomingMessage } from 'node:http'
import { writeInitSegment } from '@kvs-streams/fmp4'
import { type EmulatorContext, findStream } from '../context.ts'
import { invalidArgument, ServiceError, streamNotFound } from '../errors.ts'
import { type JsonObject, jsonRoute, type Route } from '../http/router.ts'
import { optionalInteger, streamReference } from '../http/validate.ts'
import type { StreamRecord } from '../storage/types.ts'
import { buildClip } from './clip.ts'
import { dashManifest } from './dash.ts'
import { masterPlaylist, mediaPlaylist } from './hls.ts'
import { getImages } from './images.ts'
import { fragmentRuns, fragmentTracks, readStored, sameCodecs, trackSegment } from './media.ts'
import { CONTENT_TYPES, sendParts, sendText } from './respond.ts'
import {
  fragmentsInRange,
  LIVE_WINDOW_MS,
  noFragments,
  optionalEnum,
  parseSelection,
  playlistWindow,
  sessionFragments,
} from './selection.ts'
import {
  encodeSessionToken,
  type PlaybackMode,
  readSessionToken,
  type StreamingSession,
} from './session-token.ts'

const PLAYBACK_MODES = ['LIVE', 'LIVE_REPLAY', 'ON_DEMAND'] as const

function requireStream(context: EmulatorContext, input: JsonObject): StreamRecord {
  const stream = findStream(context, streamReference(input))
  if (stream === undefined) throw streamNotFound()
  return stream
}

function requireRetention(stream: StreamRecord): void {
  if (stream.dataRetentionInHours === 0) {
    throw new ServiceError(
      'NoDataRetentionException',
      400,
      `The stream ${stream.streamName} has DataRetentionInHours 0: its media is not archived, so it cannot be played back.`,
    )
  }
}

/** What the HLS and DASH session requests share: mode, selector, expiry, result cap, the session's first fragment. */
async function newSession(
  context: EmulatorContext,
  input: JsonObject,
  kind: 'hls' | 'dash',
): Promise<{ session: StreamingSession; stream: StreamRecord }> {
  const selectorMember = kind === 'hls' ? 'HLSFragmentSelector' : 'DASHFragmentSelector'
  const maxMember = kind === 'hls' ? 'MaxMediaPlaylistFragmentResults' : 'MaxManifestFragmentResults'
  const mode: PlaybackMode = optionalEnum(input, 'PlaybackMode', PLAYBACK_MODES) ?? 'LIVE'
  const selection = parseSelection(context, input, selectorMember, mode)
  if (kind === 'hls') {
    const container = optionalEnum(input, 'ContainerFormat', ['FRAGMENTED_MP4', 'MPEG_TS'] as const)
    if (container === 'MPEG_TS') {
      throw invalidArgument(
        'ContainerFormat MPEG_TS is not supported by the emulator: it packages HLS as fragmented MP4 only. Use FRAGMENTED_MP4 (the default).',
      )
    }
  }
  const discontinuity =
    (kind === 'hls'
      ? optionalEnum(input, 'DiscontinuityMode', ['ALWAYS', 'NEVER', 'ON_DISCONTINUITY'] as const)
      : undefined) ?? (selection.selector === 'SERVER_TIMESTAMP' ? 'ALWAYS' : 'NEVER')
  const displayTimestamp =
    optionalEnum(input, 'DisplayFragmentTimestamp', ['ALWAYS', 'NEVER'] as const) === 'ALWAYS'
  const displayFragmentNumber =
    kind === 'dash' && optionalEnum(input, 'DisplayFragmentNumber', ['ALWAYS', 'NEVER'] as const) === 'ALWAYS'
  const expires = optionalInteger(input, 'Expires', { min: 300, max: 43_200 }) ?? 300
  const maxResults =
    optionalInteger(input, maxMember, { min: 1, max: 5000 }) ?? (mode === 'ON_DEMAND' ? 1000 : 5)
  const stream = requireStream(context, input)
  requireRetention(stream)
  const now = context.options.clock()
  const all = context.storage.listFragments(stream.streamName)
  let first: (typeof all)[number] | undefined
  if (mode === 'LIVE') {
    if (!all.some((fragment) => fragment.serverTimestampMs >= now - LIVE_WINDOW_MS)) {
      throw noFragments('No fragments were ingested into the stream in the last 30 seconds.')
    }
    first = all[Math.max(0, all.length - maxResults)]
  } else {
    first = fragmentsInRange(all, selection)[0]
    if (first === undefined) throw noFragments('No fragments were found in the requested time range.')
  }
  await fragmentTracks(context, stream.streamARN, stream.streamName, first!, kind)
  return {
    stream,
    session: {
      kind,
      streamARN: stream.streamARN,
      streamName: stream.streamName,
      mode,
      selector: selection.selector,
      startMs: selection.startMs,
      endMs: selection.endMs,
      createdMs: now,
      expiresMs: now + expires * 1000,
      maxResults,
      discontinuity,
      displayTimestamp,
      displayFragmentNumber,
      firstSequence: first!.sequence,
    },
  }
}

/**
 * Creates an HLS streaming session from a GetHLSStreamingSessionURL input (the service's validation and
 * errors) and answers its master playlist URL. The console's own API calls it too.
 */
export async function hlsSessionUrl(
  context: EmulatorContext,
  input: JsonObject,
  request: IncomingMessage,
): Promise<string> {
  const { session } = await newSession(context, input, 'hls')
  const token = encodeSessionToken(context, session)
  return `${context.endpointFor(request)}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=${token}`
}

/** The query of a session resource request. */
function queryOf(request: IncomingMessage): URLSearchParams {
  const url = request.url ?? ''
  const at = url.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1))
}

/** The session behind a resource request, its fragments so far and its tracks (those of its first fragment). */
async function openSession(context: EmulatorContext, request: IncomingMessage, kind: 'hls' | 'dash') {
  const query = queryOf(request)
  const token = query.get('SessionToken')
  const session = readSessionToken(context, token, kind)
  const { fragments, complete } = sessionFragments(context, session)
  const first = fragments[0]
  if (first === undefined) throw noFragments('The session has no fragments any more.')
  const tracks = await fragmentTracks(context, session.streamARN, session.streamName, first, kind)
  return { query, token: token!, session, fragments, complete, tracks }
}

function trackOf<T extends { id: number }>(tracks: readonly T[], query: URLSearchParams): T {
  const value = query.get('TrackNumber')
  const number = value !== null && /^[0-9]{1,3}$/.test(value) ? Number(value) : Number.NaN
  const track = tracks.find((candidate) => candidate.id === number)
  if (track === undefined) {
    throw invalidArgument(
      `TrackNumber must be the number of one of the session's tracks (${tracks.map((candidate) => candidate.id).join(', ')}), got ${JSON.stringify(value)}.`,
    )
  }
  return track
}

/** The init and media segment resources, shared by HLS and DASH sessions. */
function segmentRoutes(context: EmulatorContext, kind: 'hls' | 'dash'): Route[] {
  const base = `/${kind}/v1`
  return [
    {
      operation: 'GetMP4InitFragment',
      method: 'GET',
      path: `${base}/getMP4InitFragment.mp4`,
      body: 'none',
      async handle({ request, response }) {
        const { query, tracks } = await openSession(context, request, kind)
        const init = writeInitSegment([trackOf(tracks, query)])
        sendParts(response, CONTENT_TYPES.mp4, [init], init.length)
      },
    },
    {
      operation: 'GetMP4MediaFragment',
      method: 'GET',
      path: `${base}/getMP4MediaFragment.mp4`,
      body: 'none',
      async handle({ request, response }) {
        const { query, session, fragments, tracks } = await openSession(context, request, kind)
        const track = trackOf(tracks, query)
        const number = query.get('FragmentNumber')
        const sequence = query.get('SequenceNumber')
        let index: number
        if (number !== null) index = fragments.findIndex((fragment) => fragment.fragmentNumber === number)
        else if (sequence !== null && /^[1-9][0-9]{0,8}$/.test(sequence)) index = Number(sequence) - 1
        else throw invalidArgument('FragmentNumber (or SequenceNumber) is required.')
        const fragment = fragments[index]
        if (fragment === undefined) {
          throw new ServiceError(
            'ResourceNotFoundException',
            404,
            'The requested fragment is not part of this streaming session.',
          )
        }
        const own = await fragmentTracks(context, session.streamARN, session.streamName, fragment, kind)
        if (!sameCodecs(own, tracks)) {
          throw new ServiceError(
            'InvalidCodecPrivateDataException',
            400,
            `The codec private data of fragment ${fragment.fragmentNumber} differs from the session's first fragment: it cannot change within a session.`,
          )
        }
        const stored = await readStored(context, session.streamName, fragment)
        const segment = trackSegment(stored, track, session.selector, fragments[index + 1], index + 1)
        sendParts(response, CONTENT_TYPES.mp4, segment.parts, segment.byteLength)
      },
    },
  ]
}

/**
 * The archived-media playback operations on the data endpoint (`POST`, JSON, SigV4): GetHLSStreamingSessionURL,
 * GetDASHStreamingSessionURL, GetClip and GetImages; and the session resources their URLs lead to (`GET`,
 * authenticated by the `SessionToken` in the URL): HLS master and media playlists, the DASH manifest, MP4
 * init and media fragments.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_Operations_Amazon_Kinesis_Video_Streams_Archived_Media.html
 */
export function archivedMediaRoutes(context: EmulatorContext): Route[] {
  return [
    jsonRoute('GetHLSStreamingSessionURL', '/getHLSStreamingSessionURL', async (input, { request }) => ({
      HLSStreamingSessionURL: await hlsSessionUrl(context, input, request),
    })),
    jsonRoute('GetDASHStreamingSessionURL', '/getDASHStreamingSessionURL', async (input, { request }) => {
      const { session } = await newSession(context, input, 'dash')
      const token = encodeSessionToken(context, session)
      return {
        DASHStreamingSessionURL: `${context.endpointFor(request)}/dash/v1/getDASHManifest.mpd?SessionToken=${token}`,
      }
    }),
    {
      operation: 'GetClip',
      path: '/getClip',
      body: 'json',
      async handle({ input, response }) {
        const selection = parseSelection(context, input, 'ClipFragmentSelector', 'CLIP')
        const stream = requireStream(context, input)
        requireRetention(stream)
        const clip = await buildClip(context, stream, selection)
        sendParts(response, CONTENT_TYPES.mp4, clip.parts, clip.byteLength)
      },
    },
    jsonRoute('GetImages', '/getImages', async (input) => {
      const stream = requireStream(context, input)
      return getImages(context, stream, input)
    }),
    {
      operation: 'GetHLSMasterPlaylist',
      method: 'GET',
      path: '/hls/v1/getHLSMasterPlaylist.m3u8',
      body: 'none',
      async handle({ request, response }) {
        const { token, tracks, fragments } = await openSession(context, request, 'hls')
        sendText(response, CONTENT_TYPES.m3u8, masterPlaylist(token, tracks, fragments))
      },
    },
    {
      operation: 'GetHLSMediaPlaylist',
      method: 'GET',
      path: '/hls/v1/getHLSMediaPlaylist.m3u8',
      body: 'none',
      async handle({ request, response }) {
        const { query, token, session, tracks, fragments, complete } = await openSession(
          context,
          request,
          'hls',
        )
        sendText(
          response,
          CONTENT_TYPES.m3u8,
          mediaPlaylist(token, session, trackOf(tracks, query), fragments, complete),
        )
      },
    },
    ...segmentRoutes(context, 'hls'),
    {
      operation: 'GetDASHManifest',
      method: 'GET',
      path: '/dash/v1/getDASHManifest.mpd',
      body: 'none',
      async handle({ request, response }) {
        const { token, session, tracks, fragments, complete } = await openSession(context, request, 'dash')
        const now = context.options.clock()
        let lastEndMs: number | undefined
        const { listed } = playlistWindow(session, fragments)
        const last = listed[listed.length - 1]
        if (last !== undefined && (session.mode === 'ON_DEMAND' || complete)) {
          const runs = fragmentRuns(
            await readStored(context, session.streamName, last),
            tracks,
            session.selector,
            undefined,
          )
          lastEndMs = Math.max(
            ...runs.map((run) => ((run.baseDecodeTime + run.duration) * 1000) / run.track.timescale),
          )
        }
        sendText(
          response,
          CONTENT_TYPES.mpd,
          dashManifest(token, session, tracks, fragments, complete, now, lastEndMs),
        )
      },
    },
    ...segmentRoutes(context, 'dash'),
  ]
}
