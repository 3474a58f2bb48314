// Muxer benchmark (issue 12, part 1): raw H.264 (Annex-B) in, KVS-ready MKV fragments out, against the chunker
// on the same media in the same run. Inputs: the bench media's small-clusters.mkv (H.264 640x360 + AAC, 60 s,
// ~199 MB) for the chunker, and its video as an Annex-B byte stream (~198 MB) and its audio as ADTS (~1 MB)
// for the muxer, extracted once with `ffmpeg -c copy` into bench/.cache/.
//
// Measures, in memory, 64 KiB views, medians of rounds that alternate chunker and muxer (drift hits both):
//   - mux_mb_s: createAnnexBMuxer() on the Annex-B video, MB/s of Annex-B in (the goal: >= 1,000);
//   - mux_vs_chunker: that over the chunker's MB/s on the MKV of the same media;
//   - mux_av_mb_s: video and ADTS audio together (two tracks), MB/s of both inputs;
//   - parse_mb_s: the Annex-B parser alone;
//   - mux_portable_mb_s: the muxer as where the runtime has no `Buffer` (browsers), in a child process that
//     loads it without one: start codes found with Uint16Array.prototype.indexOf instead of Buffer's needle
//     search;
//   - memory flat in the stream's length: the Annex-B video looped 6 times (~1.2 GB, 6 minutes of video) through
//     one muxer; heap used and RSS after a GC at the end of the first loop and of the last (growth in MB).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClusterChunker } from '../packages/chunker/dist/index.js'
import { collectGarbage, mbPerSecond, median, result } from './lib/measure.mjs'
import { ensureBenchMedia } from './lib/media.mjs'

const ROUNDS = 9
const LOOPS = 6
const self = fileURLToPath(import.meta.url)
const cacheDir = fileURLToPath(new URL('.cache/', import.meta.url))

function views(buffer, size) {
  const out = []
  for (let at = 0; at < buffer.length; at += size)
    out.push(buffer.subarray(at, Math.min(buffer.length, at + size)))
  return out
}

/** Repeats `run` for at least 250 ms (one in-memory pass is mostly timer noise); returns MB/s. */
function rate(run, bytes) {
  const start = performance.now()
  let count = 0
  do {
    run()
    count++
  } while (performance.now() - start < 250)
  return mbPerSecond(bytes * count, performance.now() - start)
}

/** Child mode: the muxer with no global Buffer (as in a browser), on the Annex-B file; prints its MB/s. */
if (process.argv[2] === '--portable') {
  const bytes = new Uint8Array(readFileSync(process.argv[3]))
  // The start-code finder looks for Buffer when its module loads: hide it then. (It comes back afterwards:
  // @kvs-streams/ebml's element writer, which writes the header, still needs it through ebml-stream.)
  const NodeBuffer = globalThis.Buffer
  delete globalThis.Buffer
  const { createAnnexBMuxer } = await import('../packages/muxer/dist/index.js')
  globalThis.Buffer = NodeBuffer
  const chunks = views(bytes, 64 * 1024)
  const mux = () => {
    const muxer = createAnnexBMuxer()
    for (const chunk of chunks) muxer.push(chunk)
    muxer.end()
  }
  rate(mux, bytes.length)
  const rates = []
  for (let i = 0; i < 5; i++) {
    collectGarbage()
    rates.push(rate(mux, bytes.length))
  }
  console.log(JSON.stringify({ mbs: median(rates) }))
  process.exit(0)
}

const { createAnnexBMuxer, createAnnexBParser } = await import('../packages/muxer/dist/index.js')
const { smallClusters } = await ensureBenchMedia()

/** The media's video as Annex-B and audio as ADTS, extracted once (no re-encoding) and cached. */
function extract(name, args) {
  const path = join(cacheDir, name)
  if (existsSync(path) && statSync(path).mtimeMs >= statSync(smallClusters).mtimeMs) return path
  console.log(`muxer bench: extracting ${name} from small-clusters.mkv`)
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    '-i',
    smallClusters,
    ...args,
    `${path}.tmp`,
  ])
  renameSync(`${path}.tmp`, path)
  return path
}
const videoPath = extract('small-clusters.h264', [
  '-map',
  '0:v',
  '-c',
  'copy',
  '-bsf:v',
  'h264_mp4toannexb',
  '-f',
  'h264',
])
const audioPath = extract('small-clusters.adts', ['-map', '0:a', '-c', 'copy', '-f', 'adts'])

const mkv = readFileSync(smallClusters)
const video = readFileSync(videoPath)
const audio = readFileSync(audioPath)
const mkvChunks = views(mkv, 64 * 1024)
const videoChunks = views(video, 64 * 1024)
const audioChunks = views(audio, 64 * 1024)
console.log(
  `muxer bench: ${(video.length / 1e6).toFixed(1)} MB Annex-B H.264 + ${(audio.length / 1e6).toFixed(1)} MB ADTS ` +
    `vs ${(mkv.length / 1e6).toFixed(1)} MB MKV of the same media, 64 KiB views, ${ROUNDS} rounds, medians`,
)

function chunkMkv() {
  const chunker = createClusterChunker({ onViolation: 'emit' })
  let fragments = 0
  for (const chunk of mkvChunks)
    for (const event of chunker.push(chunk)) if (event.type === 'fragment') fragments++
  for (const event of chunker.end()) if (event.type === 'fragment') fragments++
  return fragments
}

function muxVideo() {
  const muxer = createAnnexBMuxer()
  let fragments = 0
  let bytes = 0
  const count = (event) => {
    if (event.type !== 'fragment') return
    fragments++
    bytes += event.byteLength
  }
  for (const chunk of videoChunks) for (const event of muxer.push(chunk)) count(event)
  for (const event of muxer.end()) count(event)
  return { fragments, bytes }
}

function muxAudioVideo() {
  const muxer = createAnnexBMuxer({ audio: true })
  let v = 0
  let a = 0
  let fragments = 0
  while (v < videoChunks.length || a < audioChunks.length) {
    let events
    if (a < audioChunks.length && (v >= videoChunks.length || muxer.nextInput === 'audio')) {
      events = muxer.pushAudio(audioChunks[a++])
    } else events = muxer.push(videoChunks[v++])
    for (const event of events) if (event.type === 'fragment') fragments++
  }
  for (const event of muxer.end()) if (event.type === 'fragment') fragments++
  return fragments
}

function parseVideo() {
  const parser = createAnnexBParser()
  let frames = 0
  for (const chunk of videoChunks) frames += parser.push(chunk).length
  frames += parser.end().length
  return frames
}

// Check the work once, outside the timing: a fast wrong answer is not a result.
const checked = muxVideo()
const chunkerFragments = chunkMkv()
const avFragments = muxAudioVideo()
const frames = parseVideo()
if (frames !== 1501 || checked.fragments !== 27 || avFragments !== 27 || chunkerFragments !== 188) {
  throw new Error(
    `unexpected output: ${frames} parser events, ${checked.fragments} and ${avFragments} fragments muxed, ${chunkerFragments} chunked`,
  )
}
console.log(
  `check: ${frames - 1} frames; ${checked.fragments} fragments of 2.24 s (${(checked.bytes / 1e6).toFixed(1)} MB) muxed from Annex-B; the chunker cut the MKV into ${chunkerFragments} clusters of 0.32 s`,
)

// Warm-up, then alternating rounds.
rate(chunkMkv, mkv.length)
rate(muxVideo, video.length)
const rates = { chunker: [], mux: [], av: [], parse: [] }
for (let i = 0; i < ROUNDS; i++) {
  collectGarbage()
  rates.chunker.push(rate(chunkMkv, mkv.length))
  collectGarbage()
  rates.mux.push(rate(muxVideo, video.length))
  collectGarbage()
  rates.av.push(rate(muxAudioVideo, video.length + audio.length))
  collectGarbage()
  rates.parse.push(rate(parseVideo, video.length))
}
const chunkerMbs = median(rates.chunker)
const muxMbs = median(rates.mux)
const avMbs = median(rates.av)
const parseMbs = median(rates.parse)
const ratios = rates.mux.map((mux, i) => mux / rates.chunker[i])
console.log(`chunker, MKV in memory                      ${chunkerMbs.toFixed(0).padStart(6)} MB/s`)
console.log(`muxer, Annex-B H.264 in memory              ${muxMbs.toFixed(0).padStart(6)} MB/s`)
console.log(`muxer, Annex-B H.264 + ADTS AAC in memory   ${avMbs.toFixed(0).padStart(6)} MB/s`)
console.log(`Annex-B parser alone                        ${parseMbs.toFixed(0).padStart(6)} MB/s`)
console.log(
  `muxer / chunker per round: ${ratios.map((r) => r.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(3)})`,
)

const portable = spawnSync(process.execPath, ['--expose-gc', self, '--portable', videoPath], {
  encoding: 'utf8',
})
if (portable.status !== 0) throw new Error(`portable probe failed: ${portable.stderr}`)
const portableMbs = JSON.parse(portable.stdout.trim().split('\n').pop()).mbs
console.log(`muxer without Buffer (as in a browser)      ${portableMbs.toFixed(0).padStart(6)} MB/s`)

// Memory over a long stream: the same bytes looped through one muxer, fragments dropped as they come.
const loopMuxer = createAnnexBMuxer()
const samples = []
let loopFragments = 0
for (let loop = 0; loop < LOOPS; loop++) {
  for (const chunk of videoChunks)
    for (const event of loopMuxer.push(chunk)) if (event.type === 'fragment') loopFragments++
  collectGarbage()
  const { heapUsed, rss } = process.memoryUsage()
  samples.push({ heapUsed, rss, buffered: loopMuxer.bufferedBytes })
}
for (const event of loopMuxer.end()) if (event.type === 'fragment') loopFragments++
const first = samples[0]
const last = samples[samples.length - 1]
const heapGrowth = (last.heapUsed - first.heapUsed) / 1e6
const rssGrowth = (last.rss - first.rss) / 1e6
console.log(
  `memory over ${LOOPS} loops (${((LOOPS * video.length) / 1e9).toFixed(2)} GB, ${loopFragments} fragments): heap used after each loop ` +
    `${samples.map((s) => (s.heapUsed / 1e6).toFixed(1)).join(' ')} MB; RSS ${samples.map((s) => (s.rss / 1e6).toFixed(0)).join(' ')} MB; ` +
    `held by the muxer ${samples.map((s) => (s.buffered / 1e6).toFixed(1)).join(' ')} MB`,
)

result({
  mux_mb_s: muxMbs,
  mux_vs_chunker: muxMbs / chunkerMbs,
  mux_av_mb_s: avMbs,
  parse_mb_s: parseMbs,
  mux_portable_mb_s: portableMbs,
  mux_heap_growth_mb: heapGrowth,
  mux_rss_growth_mb: rssGrowth,
})
