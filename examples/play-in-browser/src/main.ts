// Plays the emulator's HLS with hls.js in headless Chromium: a recording on demand, or a stream while it is
// being put (LIVE). The page counts the frames the video element presents (requestVideoFrameCallback) and
// every hls.js error; the run ends once playback has advanced `watchSeconds`.
//   this file: emulator (CORS on) ← PutMedia (transport, one fragment at a time for LIVE)
//              ← GetHLSStreamingSessionURL (the AWS SDK); a page on an origin of its own loads hls.js
// Run: pnpm --filter @kvs-streams/example-play-in-browser... build && \
//   pnpm --filter @kvs-streams/example-play-in-browser start [--live] [file.mkv]
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  CreateStreamCommand,
  GetDataEndpointCommand,
  KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video'
import {
  GetHLSStreamingSessionURLCommand,
  KinesisVideoArchivedMediaClient,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { type ChunkerFragmentEvent, createClusterChunker } from '@kvs-streams/chunker'
import { startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { putMedia } from '@kvs-streams/transport'
import { chromium } from 'playwright-core'

/** The default input: a real KVS capture, 8 fragments of 2 s of H.264 (High, 1280x720). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)
/** Debian's Chromium (`apt-get install chromium`); `CHROMIUM_PATH` overrides it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hlsScript = fileURLToPath(import.meta.resolve('hls.js/dist/hls.min.js'))

/** What the page reports. */
export interface PlaybackReport {
  /** `MediaSource.isTypeSupported` of the session's codecs (from the master playlist). */
  supported: boolean
  codecs: string
  /** `video.currentTime` when playback first advanced, and now. */
  firstTime: number
  currentTime: number
  /** Frames the video element presented (requestVideoFrameCallback). */
  frames: number
  /** Media segments hls.js loaded, and the audio tracks it found. */
  fragmentsLoaded: number
  audioTracks: number
  /** Every hls.js ERROR event: `type/details (fatal)`. */
  errors: string[]
}

/** Options of {@link playInChromium}. */
export interface PlaybackOptions {
  file?: string
  /** `LIVE`: the stream is put one fragment per fragment duration while the page plays it. Default `ON_DEMAND`. */
  mode?: 'ON_DEMAND' | 'LIVE'
  /** How far playback must advance, seconds. Default 5. */
  watchSeconds?: number
  print?: (line: string) => void
}

const PAGE = `<!doctype html>
<meta charset="utf-8"><title>kvs-streams HLS</title>
<video id="video" muted playsinline></video>
<script src="/hls.js"></script>
<script>
  const source = new URLSearchParams(location.search).get('src')
  const report = { supported: false, codecs: '', firstTime: -1, currentTime: 0, frames: 0, fragmentsLoaded: 0, audioTracks: 0, errors: [] }
  window.kvsPlayback = report
  const video = document.getElementById('video')
  const hls = new Hls({ lowLatencyMode: false })
  hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    report.codecs = data.levels.map((level) => [level.videoCodec, level.audioCodec].filter(Boolean).join(',')).join(' ')
    report.supported = MediaSource.isTypeSupported('video/mp4; codecs="' + report.codecs.split(' ')[0] + '"')
    video.play()
  })
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_event, data) => { report.audioTracks = data.audioTracks.length })
  hls.on(Hls.Events.FRAG_LOADED, () => { report.fragmentsLoaded++ })
  hls.on(Hls.Events.ERROR, (_event, data) => { report.errors.push(data.type + '/' + data.details + (data.fatal ? ' (fatal)' : '')) })
  const count = () => { report.frames++; video.requestVideoFrameCallback(count) }
  video.requestVideoFrameCallback(count)
  video.addEventListener('timeupdate', () => {
    report.currentTime = video.currentTime
    if (report.firstTime < 0 && video.currentTime > 0) report.firstTime = video.currentTime
  })
  hls.loadSource(source)
  hls.attachMedia(video)
</script>
`

/** The file's header and fragments. */
async function fragmentsOf(file: string): Promise<{ header: Uint8Array; fragments: ChunkerFragmentEvent[] }> {
  const chunker = createClusterChunker()
  const events = [...chunker.push(new Uint8Array(await readFile(file))), ...chunker.end()]
  const header = events.find((event) => event.type === 'header')
  if (header === undefined || header.type !== 'header') throw new Error(`${file}: no Matroska header`)
  return {
    header: header.bytes,
    fragments: events.filter((event): event is ChunkerFragmentEvent => event.type === 'fragment'),
  }
}

/**
 * Starts an emulator, puts `file` into a stream (all of it for ON_DEMAND; for LIVE the first fragment, then
 * one more each fragment duration, as a camera would), asks for an HLS session with the AWS SDK, and plays it
 * with hls.js in headless Chromium until `video.currentTime` has advanced `watchSeconds` (or a fatal error).
 */
export async function playInChromium(options: PlaybackOptions = {}): Promise<PlaybackReport> {
  const print = options.print ?? (() => {})
  const mode = options.mode ?? 'ON_DEMAND'
  const { header, fragments } = await fragmentsOf(options.file ?? defaultFile)
  const emulator = await startEmulator({ cors: true })
  const site = createServer(async (request, response) => {
    if (request.url?.startsWith('/hls.js')) {
      response.writeHead(200, { 'content-type': 'text/javascript' })
      response.end(await readFile(hlsScript))
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(PAGE)
    }
  })
  site.listen(0, '127.0.0.1')
  await once(site, 'listening')
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--no-first-run'],
  })
  let feeding: Promise<void> = Promise.resolve()
  try {
    const credentials = { ...emulator.credentials[0]! }
    const control = new KinesisVideoClient({ endpoint: emulator.url, region: emulator.region, credentials })
    await control.send(new CreateStreamCommand({ StreamName: 'camera', DataRetentionInHours: 24 }))
    const durationMs = fragments.reduce((sum, fragment) => sum + fragment.durationMs, 0)
    // ON_DEMAND: the recording ends a minute ago; LIVE: its producer time runs with the clock from now.
    const startMs = mode === 'LIVE' ? Date.now() : Date.now() - 60_000 - durationMs
    const signer = createKvsSigner({ region: emulator.region, credentials })
    const upload = putMedia({
      endpoint: emulator.url,
      streamName: 'camera',
      signer,
      producerStartTimestamp: startMs,
    })
    const persisted: string[] = []
    let pending = ''
    upload.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines.filter((text) => text.trim() !== '')) {
        const ack = JSON.parse(line) as { EventType: string; FragmentNumber?: string }
        if (ack.EventType === 'ERROR') throw new Error(`PutMedia: ${line}`)
        if (ack.EventType === 'PERSISTED') persisted.push(ack.FragmentNumber!)
      }
    })
    const closed = once(upload, 'close')
    const write = (bytes: Uint8Array) => new Promise<void>((resolve) => upload.write(bytes, () => resolve()))
    await write(header)
    const firstLive = mode === 'LIVE' ? 2 : fragments.length
    for (const fragment of fragments.slice(0, firstLive)) for (const part of fragment.parts) await write(part)
    if (mode === 'ON_DEMAND') upload.end()
    // Fragments are stored when the next one starts (or the body ends).
    while (persisted.length < (mode === 'LIVE' ? 1 : fragments.length))
      await new Promise((r) => setTimeout(r, 20))
    if (mode === 'LIVE') {
      feeding = (async () => {
        for (const fragment of fragments.slice(firstLive)) {
          await new Promise((resolve) => setTimeout(resolve, fragment.durationMs))
          for (const part of fragment.parts) await write(part)
          print(`put fragment ${fragment.index}`)
        }
        upload.end()
        await closed
      })()
    }

    const { DataEndpoint } = await control.send(
      new GetDataEndpointCommand({ StreamName: 'camera', APIName: 'GET_HLS_STREAMING_SESSION_URL' }),
    )
    const media = new KinesisVideoArchivedMediaClient({
      endpoint: DataEndpoint!,
      region: emulator.region,
      credentials,
    })
    const { HLSStreamingSessionURL: url } = await media.send(
      new GetHLSStreamingSessionURLCommand({
        StreamName: 'camera',
        PlaybackMode: mode,
        ...(mode === 'ON_DEMAND'
          ? {
              HLSFragmentSelector: {
                FragmentSelectorType: 'PRODUCER_TIMESTAMP',
                TimestampRange: {
                  StartTimestamp: new Date(startMs - 1000),
                  EndTimestamp: new Date(startMs + durationMs + 1000),
                },
              },
            }
          : { MaxMediaPlaylistFragmentResults: 3 }),
      }),
    )
    print(`${mode} session: ${url}`)
    const page = await browser.newPage()
    page.on('console', (message) => print(`[page ${message.type()}] ${message.text()}`))
    const { port } = site.address() as AddressInfo
    await page.goto(`http://127.0.0.1:${port}/?src=${encodeURIComponent(url!)}`)
    const watch = options.watchSeconds ?? 5
    await page.waitForFunction(
      (seconds) => {
        const report = (window as unknown as { kvsPlayback: PlaybackReport }).kvsPlayback
        return (
          report.errors.some((error) => error.endsWith('(fatal)')) ||
          (report.firstTime >= 0 && report.currentTime - report.firstTime >= seconds)
        )
      },
      watch,
      { timeout: 60_000 + watch * 2000, polling: 100 },
    )
    const report = await page.evaluate(
      () => (window as unknown as { kvsPlayback: PlaybackReport }).kvsPlayback,
    )
    print(
      `played ${(report.currentTime - report.firstTime).toFixed(1)} s (${report.codecs}): ${report.frames} frames presented, ${report.fragmentsLoaded} segments loaded, ${report.errors.length} hls.js errors`,
    )
    return report
  } finally {
    await browser.close()
    site.close()
    await feeding.catch(() => {})
    await emulator.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    options: { live: { type: 'boolean' } },
    allowPositionals: true,
  })
  await playInChromium({
    mode: values.live ? 'LIVE' : 'ON_DEMAND',
    ...(positionals[0] === undefined ? {} : { file: positionals[0] }),
    print: (line) => console.log(line),
  })
}
