import type { Mp4Track } from '@kvs-streams/fmp4'
import type { FragmentInfo } from '../storage/types.ts'
import { peakBandwidth } from './hls.ts'
import { DISCONTINUITY_THRESHOLD_MS, playlistWindow, startOf } from './selection.ts'
import type { StreamingSession } from './session-token.ts'

/**
 * Namespace of the `kvs:ts` and `kvs:fn` attributes. The service's URI is not documented
 * (kvs-archived-media.md §4); players ignore attributes of foreign namespaces.
 */
export const KVS_DASH_NAMESPACE = 'https://kinesisvideo.amazonaws.com/dash'

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** An ISO 8601 duration in seconds with milliseconds: `PT12.345S`. */
function duration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(3)}S`
}

/**
 * The MPD of a DASH session: one Period, one AdaptationSet per track, each with a SegmentTemplate whose
 * SegmentTimeline lists the fragments (decode times on the epoch timeline of the media segments, in the
 * track's timescale); `$Number$` is the fragment's position in the session, as the service numbers DASH
 * segments. ON_DEMAND is a `static` MPD starting at its first fragment (`presentationTimeOffset`); LIVE and
 * LIVE_REPLAY are `dynamic`, anchored at the epoch so the timeline is wall-clock time, refreshed every second.
 * `DisplayFragmentTimestamp` / `DisplayFragmentNumber` add `kvs:ts` / `kvs:fn` to each `S`. `lastEndMs` is where
 * the last fragment's samples end (a fragment's length leaves out a last frame of unknown duration).
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_GetDASHStreamingSessionURL.html
 */
export function dashManifest(
  token: string,
  session: StreamingSession,
  tracks: readonly Mp4Track[],
  fragments: readonly FragmentInfo[],
  complete: boolean,
  nowMs: number,
  lastEndMs: number | undefined,
): string {
  const { first, listed } = playlistWindow(session, fragments)
  const dynamic = session.mode !== 'ON_DEMAND' && !complete
  const starts = listed.map((fragment) => startOf(fragment, session.selector))
  const ends = listed.map((fragment, i) => {
    const next = starts[i + 1]
    const own = starts[i]! + Math.max(fragment.durationMs, 1)
    return next !== undefined && Math.abs(next - own) <= DISCONTINUITY_THRESHOLD_MS ? next : own
  })
  const firstStart = starts[0] ?? 0
  // The media's own end when known (the last fragment's samples, audio included), else its listed duration.
  const lastEnd = Math.max(lastEndMs ?? 0, ends[ends.length - 1] ?? firstStart)
  const token_ = escapeXml(encodeURIComponent(token))
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:kvs="${KVS_DASH_NAMESPACE}" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2.000S" ` +
      (dynamic
        ? `type="dynamic" availabilityStartTime="1970-01-01T00:00:00Z" publishTime="${new Date(nowMs).toISOString()}" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="${duration(lastEnd - firstStart)}" suggestedPresentationDelay="PT3S">`
        : `type="static" mediaPresentationDuration="${duration(lastEnd - firstStart)}">`),
    `  <Period id="1" start="PT0S">`,
  ]
  for (const track of tracks) {
    const scale = track.timescale / 1000
    const ticks = (ms: number) => Math.round(ms * scale)
    const attributes =
      track.kind === 'video'
        ? `contentType="video" mimeType="video/mp4" width="${track.width}" height="${track.height}"`
        : `contentType="audio" mimeType="audio/mp4" lang="und"`
    lines.push(
      `    <AdaptationSet id="${track.id}" ${attributes} segmentAlignment="true" startWithSAP="1">`,
      `      <Representation id="${track.id}" codecs="${track.codecString}" bandwidth="${peakBandwidth(listed)}"${track.kind === 'audio' ? ` audioSamplingRate="${track.sampleRate}"` : ''}>`,
    )
    if (track.kind === 'audio') {
      lines.push(
        `        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${track.channels}"/>`,
      )
    }
    lines.push(
      `        <SegmentTemplate timescale="${track.timescale}"${dynamic ? '' : ` presentationTimeOffset="${ticks(firstStart)}"`} startNumber="${first + 1}" initialization="getMP4InitFragment.mp4?SessionToken=${token_}&amp;TrackNumber=${track.id}" media="getMP4MediaFragment.mp4?SequenceNumber=$Number$&amp;SessionToken=${token_}&amp;TrackNumber=${track.id}">`,
      '          <SegmentTimeline>',
    )
    listed.forEach((fragment, i) => {
      const t = ticks(starts[i]!)
      const extra = [
        ...(session.displayTimestamp ? [`kvs:ts="${new Date(starts[i]!).toISOString()}"`] : []),
        ...(session.displayFragmentNumber ? [`kvs:fn="${fragment.fragmentNumber}"`] : []),
      ]
      lines.push(
        `            <S t="${t}" d="${ticks(ends[i]!) - t}"${extra.length === 0 ? '' : ` ${extra.join(' ')}`}/>`,
      )
    })
    lines.push(
      '          </SegmentTimeline>',
      '        </SegmentTemplate>',
      '      </Representation>',
      '    </AdaptationSet>',
    )
  }
  lines.push('  </Period>', '</MPD>')
  return `${lines.join('\n')}\n`
}
