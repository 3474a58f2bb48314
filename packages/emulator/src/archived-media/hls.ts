import type { Mp4Track } from '@kvs-streams/fmp4'
import type { FragmentInfo } from '../storage/types.ts'
import { discontinuityBefore, playlistWindow, startOf } from './selection.ts'
import type { StreamingSession } from './session-token.ts'

/** What the session resources' URLs carry: the token, URL-encoded once. */
function tokenParameter(token: string): string {
  return `SessionToken=${encodeURIComponent(token)}`
}

/** Bits per second of the heaviest fragment among the first 100 listed (BANDWIDTH must be a peak). */
export function peakBandwidth(fragments: readonly FragmentInfo[]): number {
  let peak = 0
  for (const fragment of fragments.slice(0, 100)) {
    const seconds = Math.max(fragment.durationMs, 1) / 1000
    peak = Math.max(peak, Math.ceil((fragment.sizeBytes * 8) / seconds))
  }
  return Math.max(peak, 1)
}

/**
 * The master playlist: one variant for the video track (CODECS of every track, RESOLUTION, BANDWIDTH), with
 * the audio track as an `EXT-X-MEDIA` rendition of its own media playlist, as the service lists one media
 * playlist per track. URLs are relative to the master's (`/hls/v1/`).
 * @see https://datatracker.ietf.org/doc/html/rfc8216#section-4.3.4
 */
export function masterPlaylist(
  token: string,
  tracks: readonly Mp4Track[],
  fragments: readonly FragmentInfo[],
): string {
  const video = tracks.find((track) => track.kind === 'video')!
  const audio = tracks.find((track) => track.kind === 'audio')
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS']
  const mediaUrl = (track: Mp4Track) =>
    `getHLSMediaPlaylist.m3u8?${tokenParameter(token)}&TrackNumber=${track.id}`
  if (audio !== undefined) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${mediaUrl(audio)}"`,
    )
  }
  lines.push(
    `#EXT-X-STREAM-INF:BANDWIDTH=${peakBandwidth(fragments)},CODECS="${tracks.map((track) => track.codecString).join(',')}",RESOLUTION=${video.width}x${video.height}${audio === undefined ? '' : ',AUDIO="audio"'}`,
    mediaUrl(video),
  )
  return `${lines.join('\n')}\n`
}

/**
 * A media playlist of one track, laid out as the service's (kvs-archived-media.md §3.2): VERSION 7, VOD type
 * and `EXT-X-ENDLIST` for ON_DEMAND (and a finished LIVE_REPLAY), a sliding window of the newest fragments
 * otherwise with MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE counting what left it, one `EXT-X-MAP`, then per
 * fragment the discontinuity and program date-time tags when asked for, `EXTINF` with 3 decimals and the
 * segment URL keyed by fragment number.
 */
export function mediaPlaylist(
  token: string,
  session: StreamingSession,
  track: Mp4Track,
  fragments: readonly FragmentInfo[],
  complete: boolean,
): string {
  const { first, listed } = playlistWindow(session, fragments)
  // The audio playlist skips fragments without audio frames (the service lists one playlist per track).
  const entries = listed
    .map((fragment, i) => ({ fragment, index: first + i }))
    .filter(({ fragment }) => fragment.tracks.includes(track.id))
  const seconds = (fragment: FragmentInfo) => Math.max(fragment.durationMs, 1) / 1000
  const target = Math.max(1, ...entries.map(({ fragment }) => Math.ceil(seconds(fragment))))
  // The discontinuity sequence number of the first listed segment: every discontinuity up to it (its own
  // tag is not written, the number accounts for it).
  let discontinuities = 0
  for (let i = 1; i <= first; i++) if (discontinuityBefore(session, fragments, i)) discontinuities++
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7']
  if (session.mode === 'ON_DEMAND') lines.push('#EXT-X-PLAYLIST-TYPE:VOD')
  lines.push(`#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first + 1}`)
  if (session.mode !== 'ON_DEMAND' && session.discontinuity !== 'NEVER') {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`)
  }
  lines.push(
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="getMP4InitFragment.mp4?${tokenParameter(token)}&TrackNumber=${track.id}"`,
  )
  for (const { fragment, index } of entries) {
    if (index > first && discontinuityBefore(session, fragments, index)) lines.push('#EXT-X-DISCONTINUITY')
    if (session.displayTimestamp) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(startOf(fragment, session.selector)).toISOString()}`)
    }
    lines.push(
      `#EXTINF:${seconds(fragment).toFixed(3)},`,
      `getMP4MediaFragment.mp4?FragmentNumber=${fragment.fragmentNumber}&${tokenParameter(token)}&TrackNumber=${track.id}`,
    )
  }
  if (session.mode === 'ON_DEMAND' || complete) lines.push('#EXT-X-ENDLIST')
  return `${lines.join('\n')}\n`
}
