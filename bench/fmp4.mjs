// MKV → fragmented MP4 (@kvs-streams/fmp4, built package) against the GetMedia parser it is built on, on the
// same bytes in the same run (issue 15).
//
// Inputs: (1) a real KVS GetMedia capture (fixtures/kvs-getmedia/kinesis_video_renderer_example_output.mkv,
// 8 fragments of H.264 with 10–30 KB frames) repeated to ~100 MB in memory: the result's fmp4_vs_parser;
// (2) the 1 MB-cluster bench file (H.264 640x360 + AAC, ~200 MB, bench/lib/media.mjs) cut by the chunker
// into KVS fragments and written back as a GetMedia-style body (one EBML document per fragment: the header,
// then the Cluster), cached in bench/.cache/. Both sides get it in memory as 1 MiB views:
//   - baseline: the GetMedia parser (`@kvs-streams/get-media/parser`), counting frame events;
//   - candidate: the fMP4 segmenter, one init segment and one moof+mdat per fragment, counting bytes out
//     (the media segments' parts: box headers plus views of the frames, as a server would writev them).
// Rounds alternate (compareRounds), medians after a warm-up. fmp4_vs_parser = parser time / segmenter time
// (throughput ratio; goal ≥ 0.5). Also printed, not in the result: the segmenter when every segment is joined
// into one buffer (a consumer that needs contiguous bytes pays this copy). The output is checked once: one
// segment per fragment, and the mdat payloads add up to the frames the parser reads.
//
// Live edge (hls_live_edge_ms, goal ≤ 500 ms on loopback): the emulator in this process, a LIVE HLS session,
// fragments of the bench file put one at a time with the transport's PutMedia; from each fragment's PERSISTED
// ack, the LIVE media playlist is fetched back to back until it lists that fragment. The median over 30
// fragments is the result (max printed). It measures the emulator's path from storage to playlist plus one
// loopback GET, not a player's polling interval (hls.js reloads about once per target duration).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createClusterChunker } from '../packages/chunker/dist/index.js'
import { startEmulator } from '../packages/emulator/dist/index.js'
import { createFmp4Segmenter } from '../packages/fmp4/dist/index.js'
import { createGetMediaParser } from '../packages/get-media/dist/parse.js'
import { createKvsSigner } from '../packages/signer/dist/index.js'
import { putMedia } from '../packages/transport/dist/index.js'
import { compareRounds, mbPerSecond, median, result } from './lib/measure.mjs'
import { ensureBenchMedia } from './lib/media.mjs'

const ROUNDS = 7
const MiB = 1024 * 1024
const cachePath = fileURLToPath(new URL('.cache/fmp4-getmedia-body.mkv', import.meta.url))

/** The bench file as one document per KVS fragment (written once). */
async function ensureBody() {
  const { smallClusters } = await ensureBenchMedia()
  if (existsSync(cachePath) && statSync(cachePath).mtimeMs >= statSync(smallClusters).mtimeMs) return
  const chunker = createClusterChunker()
  const source = readFileSync(smallClusters)
  let header
  const parts = []
  for (const event of [...chunker.push(source), ...chunker.end()]) {
    if (event.type === 'header') header = event.bytes
    else if (event.type === 'fragment') parts.push(header, ...event.parts)
  }
  await writeFile(cachePath, parts)
}

function views(buffer, size) {
  const out = []
  for (let at = 0; at < buffer.length; at += size)
    out.push(buffer.subarray(at, Math.min(buffer.length, at + size)))
  return out
}

function parse(chunks) {
  const parser = createGetMediaParser()
  let frames = 0
  let frameBytes = 0
  let fragments = 0
  const count = (events) => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]
      if (event.type === 'frame') {
        frames++
        frameBytes += event.data.length
      } else if (event.type === 'fragment-end') fragments++
    }
  }
  for (const chunk of chunks) count(parser.push(chunk))
  count(parser.end())
  return { frames, frameBytes, fragments }
}

function segment(chunks, join = false) {
  const segmenter = createFmp4Segmenter()
  let segments = 0
  let bytes = 0
  let payload = 0
  let headers = 0
  const count = (events) => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]
      if (event.type === 'media-segment') {
        segments++
        bytes += join ? Buffer.concat(event.parts, event.byteLength).length : event.byteLength
        headers += event.parts[0].length
        payload += event.byteLength - event.parts[0].length
      } else if (event.type === 'init-segment') bytes += event.data.length
    }
  }
  for (const chunk of chunks) count(segmenter.push(chunk))
  count(segmenter.end())
  return { segments, bytes, payload, headers }
}

/** Checks the output once, then times parser and segmenter on `body`; returns the throughputs and ratio. */
async function measure(label, body) {
  const chunks = views(body, MiB)
  console.log(`${label}: ${(body.length / 1e6).toFixed(0)} MB, 1 MiB views, ${ROUNDS} rounds, medians`)

  // Correctness, once, outside the timing.
  const parsed = parse(chunks)
  const segmented = segment(chunks)
  if (segmented.segments !== parsed.fragments) {
    throw new Error(`fmp4: ${segmented.segments} media segments for ${parsed.fragments} fragments`)
  }
  // Each mdat holds the frames plus its 8-byte header, which sits at the end of the segment's first part.
  if (segmented.payload !== parsed.frameBytes) {
    throw new Error(
      `fmp4: the media segments carry ${segmented.payload} frame bytes, the parser read ${parsed.frameBytes}`,
    )
  }
  console.log(
    `${parsed.fragments} fragments, ${parsed.frames} frames: ${segmented.segments} media segments, box headers ${(segmented.headers / 1e6).toFixed(2)} MB`,
  )

  const rounds = await compareRounds(
    { baseline: () => parse(chunks), candidate: () => segment(chunks) },
    ROUNDS,
  )
  const parserMbS = mbPerSecond(body.length, rounds.baseline.median)
  const fmp4MbS = mbPerSecond(body.length, rounds.candidate.median)
  const ratio = rounds.baseline.median / rounds.candidate.median
  console.log(`GetMedia parser          ${parserMbS.toFixed(0).padStart(6)} MB/s`)
  console.log(
    `fMP4 segmenter           ${fmp4MbS.toFixed(0).padStart(6)} MB/s  (${ratio.toFixed(2)}× the parser)`,
  )

  const joined = await compareRounds(
    { baseline: () => parse(chunks), candidate: () => segment(chunks, true) },
    3,
  )
  console.log(
    `fMP4, segments joined    ${mbPerSecond(body.length, joined.candidate.median).toFixed(0).padStart(6)} MB/s  (${(joined.baseline.median / joined.candidate.median).toFixed(2)}× the parser; not in the result)`,
  )
  console.log(
    `warm-up medians: parser ${median(rounds.warmup.baseline).toFixed(0)} ms, fMP4 ${median(rounds.warmup.candidate).toFixed(0)} ms`,
  )
  return { ratio, fmp4MbS, parserMbS }
}

const capture = readFileSync(
  new URL('../fixtures/kvs-getmedia/kinesis_video_renderer_example_output.mkv', import.meta.url),
)
const copies = Math.ceil(100e6 / capture.length)
const kvs = await measure(`real KVS capture ×${copies}`, Buffer.concat(new Array(copies).fill(capture)))
await ensureBody()
const big = await measure('bench file as KVS fragments (130 KB frames)', readFileSync(cachePath))

/** The bench file's header and fragments (the chunker's events). */
async function fragmentsOfBenchFile() {
  const { smallClusters } = await ensureBenchMedia()
  const chunker = createClusterChunker()
  const events = [...chunker.push(readFileSync(smallClusters)), ...chunker.end()]
  return {
    header: events.find((event) => event.type === 'header').bytes,
    fragments: events.filter((event) => event.type === 'fragment'),
  }
}

/** Milliseconds from each fragment's PERSISTED ack to the LIVE media playlist listing it, for `count` fragments. */
async function liveEdge(count) {
  const emulator = await startEmulator()
  try {
    const signer = createKvsSigner({ region: emulator.region, credentials: emulator.credentials[0] })
    const call = async (path, body) => {
      const text = JSON.stringify(body)
      const signed = await signer.signJson({ url: `${emulator.url}${path}`, body: text })
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: signed.headers,
        body: text,
      })
      const json = await response.json()
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`)
      return json
    }
    await call('/createStream', { StreamName: 'edge', DataRetentionInHours: 1 })
    const { header, fragments } = await fragmentsOfBenchFile()
    const session = putMedia({
      endpoint: emulator.url,
      streamName: 'edge',
      signer,
      producerStartTimestamp: Date.now() - 60_000,
    })
    /** PERSISTED acks by fragment number: when each arrived. */
    const persisted = new Map()
    let onPersisted
    let pending = ''
    session.on('data', (chunk) => {
      pending += chunk.toString('utf8')
      const lines = pending.split('\n')
      pending = lines.pop()
      for (const line of lines) {
        if (line.trim() === '') continue
        const ack = JSON.parse(line)
        if (ack.EventType === 'ERROR') session.destroy(new Error(`PutMedia ERROR ack: ${line}`))
        if (ack.EventType !== 'PERSISTED') continue
        persisted.set(ack.FragmentNumber, performance.now())
        onPersisted?.(ack.FragmentNumber)
      }
    })
    // PutMedia completes a fragment when the next Cluster starts: writing fragment i persists fragment i - 1.
    const write = (fragment) => {
      const acked = new Promise((resolve) => (onPersisted = resolve))
      session.write(Buffer.concat(fragment.parts))
      return acked
    }
    session.write(header)
    session.write(Buffer.concat(fragments[0].parts))
    await write(fragments[1])
    // LIVE needs a fragment from the last 30 s: the session starts once one is stored.
    const { HLSStreamingSessionURL } = await call('/getHLSStreamingSessionURL', {
      StreamName: 'edge',
      PlaybackMode: 'LIVE',
      MaxMediaPlaylistFragmentResults: 5,
    })
    const playlistUrl = `${HLSStreamingSessionURL.replace('getHLSMasterPlaylist', 'getHLSMediaPlaylist')}&TrackNumber=1`
    const latencies = []
    for (let i = 2; i < Math.min(fragments.length, count + 2); i++) {
      const number = await write(fragments[i])
      const acked = persisted.get(number)
      for (;;) {
        const playlist = await (await fetch(playlistUrl)).text()
        if (playlist.includes(`FragmentNumber=${number}&`)) break
      }
      latencies.push(performance.now() - acked)
    }
    session.end()
    session.resume()
    await new Promise((resolve) => session.on('close', resolve))
    return latencies
  } finally {
    await emulator.close()
  }
}

const latencies = await liveEdge(30)
const slowest = Math.max(...latencies)
console.log(
  `live edge over ${latencies.length} fragments: median ${median(latencies).toFixed(1)} ms, max ${slowest.toFixed(1)} ms (PERSISTED ack to the LIVE media playlist listing the fragment)`,
)

result({
  bench: 'fmp4',
  fmp4_vs_parser: kvs.ratio,
  fmp4_mb_s: kvs.fmp4MbS,
  parser_mb_s: kvs.parserMbS,
  fmp4_vs_parser_big_frames: big.ratio,
  hls_live_edge_ms: median(latencies),
  hls_live_edge_max_ms: slowest,
})
