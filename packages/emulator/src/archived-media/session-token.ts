import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { EmulatorContext } from '../context.ts'
import { ServiceError } from '../errors.ts'

/** Playback modes of GetHLSStreamingSessionURL and GetDASHStreamingSessionURL. */
export type PlaybackMode = 'LIVE' | 'LIVE_REPLAY' | 'ON_DEMAND'
/** Where fragment timestamps come from. */
export type SelectorType = 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP'
/** HLS `DiscontinuityMode`. */
export type DiscontinuityMode = 'ALWAYS' | 'NEVER' | 'ON_DISCONTINUITY'

/**
 * Everything a streaming session is: the token carries it whole (signed), so session resources need no
 * server-side state and keep working across restarts of a disk-backed emulator.
 */
export interface StreamingSession {
  kind: 'hls' | 'dash'
  streamARN: string
  streamName: string
  mode: PlaybackMode
  selector: SelectorType
  /** Range start and end (epoch ms); absent in LIVE, end optional in LIVE_REPLAY. */
  startMs: number | undefined
  endMs: number | undefined
  /** When the session was created and when it expires, epoch ms. */
  createdMs: number
  expiresMs: number
  maxResults: number
  /** HLS only. */
  discontinuity: DiscontinuityMode
  displayTimestamp: boolean
  /** DASH only (`DisplayFragmentNumber`). */
  displayFragmentNumber: boolean
  /** LIVE: sequence of the session's first fragment (the oldest of the first playlist). */
  firstSequence: number
}

/** The compact JSON the token encodes (short keys keep URLs short). */
interface TokenBody {
  v: 1
  k: 'h' | 'd'
  a: string
  m: PlaybackMode
  s: SelectorType
  st?: number
  en?: number
  c: number
  x: number
  n: number
  d: DiscontinuityMode
  t: 0 | 1
  f: 0 | 1
  q: number
}

/**
 * The key tokens are signed with: derived from the emulator's region, account and first key pair, so an
 * emulator restarted on the same data directory accepts the tokens it gave out before.
 */
function tokenKey(context: EmulatorContext): Buffer {
  const { options } = context
  const secret = options.credentials[0]?.secretAccessKey ?? ''
  return createHash('sha256')
    .update(`kvs-emulator-session|${options.region}|${options.accountId}|${secret}`)
    .digest()
}

/**
 * A session token: the session as base64url JSON, a `.`, and its HMAC-SHA256 (base64url, 16 bytes), ending
 * in `~` like the service's. URL-safe; opaque to clients.
 */
export function encodeSessionToken(context: EmulatorContext, session: StreamingSession): string {
  const body: TokenBody = {
    v: 1,
    k: session.kind === 'hls' ? 'h' : 'd',
    a: session.streamARN,
    m: session.mode,
    s: session.selector,
    ...(session.startMs === undefined ? {} : { st: session.startMs }),
    ...(session.endMs === undefined ? {} : { en: session.endMs }),
    c: session.createdMs,
    x: session.expiresMs,
    n: session.maxResults,
    d: session.discontinuity,
    t: session.displayTimestamp ? 1 : 0,
    f: session.displayFragmentNumber ? 1 : 0,
    q: session.firstSequence,
  }
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url')
  return `${payload}.${sign(context, payload)}~`
}

function sign(context: EmulatorContext, payload: string): string {
  return createHmac('sha256', tokenKey(context))
    .update(payload)
    .digest()
    .subarray(0, 16)
    .toString('base64url')
}

/** `NotAuthorizedException` for a session resource. Players saw HTTP 403 for an expired token (kvs-archived-media.md §3). */
function notAuthorized(message: string): ServiceError {
  return new ServiceError('NotAuthorizedException', 403, message)
}

/**
 * Reads and checks the `SessionToken` of a session resource request: signed by this emulator, of the
 * session kind the path belongs to, not expired, and its stream still the one it was made for. Throws
 * `NotAuthorizedException` (403) for a missing, forged, altered or expired token or another session kind,
 * `ResourceNotFoundException` when the stream was deleted (or re-created: another ARN).
 */
export function readSessionToken(
  context: EmulatorContext,
  token: string | null,
  kind: 'hls' | 'dash',
): StreamingSession {
  if (token === null || token === '') throw notAuthorized('The SessionToken parameter is missing.')
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})~$/.exec(token)
  const expected = match === null ? undefined : Buffer.from(sign(context, match[1]!))
  if (
    match === null ||
    expected === undefined ||
    expected.length !== match[2]!.length ||
    !timingSafeEqual(expected, Buffer.from(match[2]!))
  ) {
    throw notAuthorized('The streaming session token is not valid.')
  }
  let body: TokenBody
  try {
    body = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as TokenBody
  } catch {
    throw notAuthorized('The streaming session token is not valid.')
  }
  if (body.v !== 1 || body.k !== (kind === 'hls' ? 'h' : 'd')) {
    throw notAuthorized(
      `The streaming session token is not one of a${kind === 'hls' ? 'n HLS' : ' DASH'} session.`,
    )
  }
  if (context.options.clock() >= body.x) throw notAuthorized('Streaming session token is expired.')
  const streamName = /stream\/([a-zA-Z0-9_.-]+)\/[0-9]+$/.exec(body.a)?.[1]
  const stream = streamName === undefined ? undefined : context.storage.getStream(streamName)
  if (stream === undefined || stream.streamARN !== body.a) {
    throw new ServiceError(
      'ResourceNotFoundException',
      404,
      'The stream of this streaming session is not found.',
    )
  }
  return {
    kind,
    streamARN: body.a,
    streamName: stream.streamName,
    mode: body.m,
    selector: body.s,
    startMs: body.st,
    endMs: body.en,
    createdMs: body.c,
    expiresMs: body.x,
    maxResults: body.n,
    discontinuity: body.d,
    displayTimestamp: body.t === 1,
    displayFragmentNumber: body.f === 1,
    firstSequence: body.q,
  }
}
