// Repackager benchmark (issue 12, part 2). Compares, in one run and as medians of several rounds:
//   - the repackager core against the chunker core on the same input held in memory (64 KiB views): an ffmpeg
//     default-muxed camera-like recording (3 Mb/s) that needs repackaging (audio before each key frame,
//     B-frames), so every fragment is rewritten and every frame gets a new block timecode; goal: at least half
//     the chunker's throughput. Per byte this is the hard case: ~180 frames per MB, and a rewritten frame costs
//     a view of its payload while the chunker only reads its header. The ratio of the best rounds is printed
//     too (the machine may be shared: the best round of each is the least disturbed);
//   - the same at 30 Mb/s (~12 times fewer frames per MB);
//   - the same on a KVS-ready input (the repackaged output itself), where fragments go out as the input's bytes;
//   - memory over a long looped input: the recording pushed again and again as a restarted source (a new EBML
//     document each time, joined with rebaseTimecodes) for ~1.5 GB; heap and external memory after a GC at an
//     early loop and at the last one, and the largest `bufferedBytes` seen. Goal: flat in the stream's length.
// Ends with one RESULT line. Only same-run ratios mean anything.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClusterChunker } from '../packages/chunker/dist/index.js'
import { createRepackager } from '../packages/repackager/dist/index.js'
import { collectGarbage, compareRounds, mbPerSecond, result } from './lib/measure.mjs'

const ROUNDS = 9
const LOOPS = 64
const cacheDir = fileURLToPath(new URL('./.cache/', import.meta.url))

// H.264 640x360 25 fps (testsrc2 with temporal noise, so the bit rate holds), 2 B-frames, a key frame every
// 2 s, AAC 128 kb/s, written by ffmpeg's own Matroska muxer with its default clustering: each Cluster after
// the first opens with an audio frame before its key frame, as `ffmpeg -i cam.mp4 -c copy -f matroska -`
// gives. Made once into bench/.cache/: 60 s at 3 Mb/s (~24 MB), 20 s at 30 Mb/s (~75 MB).
const inputs = {
  camera: { file: join(cacheDir, 'repackager-ffmpeg-3mbps.mkv'), rate: '3M', seconds: 60 },
  high: { file: join(cacheDir, 'repackager-ffmpeg-30mbps.mkv'), rate: '30M', seconds: 20 },
}
const ffmpegArgs = ({ rate, seconds }, output) => [
  ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
  ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${seconds},noise=alls=20:allf=t`],
  ...['-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', rate, '-maxrate', rate, '-bufsize', rate],
  ...['-bf', '2', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
  ...['-c:a', 'aac', '-b:a', '128k', '-f', 'matroska', output],
]

async function ensureInput(recipe) {
  const input = recipe.file
  if (existsSync(input)) return
  mkdirSync(cacheDir, { recursive: true })
  const partial = `${input}.tmp`
  console.log(`repackager bench: generating ${input} (ffmpeg ${ffmpegArgs(recipe, partial).join(' ')})`)
  await new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ffmpegArgs(recipe, partial), { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))))
  })
  renameSync(partial, input)
}

function views(buffer, size) {
  const out = []
  for (let at = 0; at < buffer.length; at += size)
    out.push(buffer.subarray(at, Math.min(buffer.length, at + size)))
  return out
}

function chunk(chunks) {
  const chunker = createClusterChunker({ onViolation: 'emit' })
  let fragments = 0
  let violations = 0
  const count = (event) => {
    if (event.type === 'fragment') fragments++
    else if (event.type === 'violation') violations++
  }
  for (const piece of chunks) for (const event of chunker.push(piece)) count(event)
  for (const event of chunker.end()) count(event)
  return { fragments, violations }
}

function repackage(chunks, options = {}) {
  const repackager = createRepackager({ onViolation: 'emit', ...options })
  let fragments = 0
  let violations = 0
  const count = (event) => {
    if (event.type === 'fragment') fragments++
    else if (event.type === 'violation') violations++
  }
  for (const piece of chunks) for (const event of repackager.push(piece)) count(event)
  for (const event of repackager.end()) count(event)
  return { fragments, violations, stats: repackager.stats }
}

/** The repackaged stream as one buffer: a KVS-ready input for the pass-through case. */
function repackagedBytes(chunks) {
  const repackager = createRepackager()
  const parts = []
  const take = (event) => {
    if (event.type === 'header') parts.push(event.bytes)
    else if (event.type === 'fragment') parts.push(...event.parts)
  }
  for (const piece of chunks) for (const event of repackager.push(piece)) take(event)
  for (const event of repackager.end()) take(event)
  return Buffer.concat(parts)
}

/** In-memory parsing is fast: repeat a run for at least 250 ms so one round is not mostly timer noise. */
function repeated(run) {
  return () => {
    const start = performance.now()
    let count = 0
    do {
      run()
      count++
    } while (performance.now() - start < 250)
    return count
  }
}

/** Median MB/s of chunker and repackager on `chunks`, timed alternately round by round. */
async function compare(chunks, bytes, options) {
  const counts = { baseline: [], candidate: [] }
  const chunkerRuns = repeated(() => chunk(chunks))
  const repackagerRuns = repeated(() => repackage(chunks, options))
  const rounds = await compareRounds(
    {
      baseline: () => counts.baseline.push(chunkerRuns()),
      candidate: () => counts.candidate.push(repackagerRuns()),
    },
    ROUNDS,
  )
  // Each round ran a number of passes: throughput per round, then the median.
  const rates = (list, times) => list.slice(-ROUNDS).map((passes, i) => mbPerSecond(bytes * passes, times[i]))
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
  const chunkerRates = rates(counts.baseline, rounds.baseline.samples)
  const repackagerRates = rates(counts.candidate, rounds.candidate.samples)
  const chunker = median(chunkerRates)
  const repackager = median(repackagerRates)
  const best = Math.max(...repackagerRates) / Math.max(...chunkerRates)
  return { chunker, repackager, ratio: repackager / chunker, best }
}

/** Pushes `chunks` `loops` times as one long stream; heap + external after a GC at loop `early` and at the end. */
function loopMemory(chunks, loops, early) {
  const repackager = createRepackager({ rebaseTimecodes: true })
  let fragments = 0
  let peakBuffered = 0
  let earlyBytes = 0
  let pushed = 0
  const used = () => {
    collectGarbage()
    const memory = process.memoryUsage()
    return memory.heapUsed + memory.external + memory.arrayBuffers
  }
  for (let loop = 1; loop <= loops; loop++) {
    for (const piece of chunks) {
      for (const event of repackager.push(piece)) if (event.type === 'fragment') fragments++
      if (repackager.bufferedBytes > peakBuffered) peakBuffered = repackager.bufferedBytes
      pushed += piece.length
    }
    if (loop === early) earlyBytes = used()
  }
  for (const event of repackager.end()) if (event.type === 'fragment') fragments++
  const lateBytes = used()
  return { fragments, peakBuffered, earlyBytes, lateBytes, pushed, stats: repackager.stats }
}

for (const recipe of Object.values(inputs)) await ensureInput(recipe)
const bytes = readFileSync(inputs.camera.file)
const chunks = views(bytes, 64 * 1024)
console.log(
  `repackager bench: ${(bytes.length / 1e6).toFixed(1)} MB at 3 Mb/s, ${(statSync(inputs.high.file).size / 1e6).toFixed(1)} MB at 30 Mb/s, 64 KiB views, ${ROUNDS} rounds, medians`,
)

// Check the outputs once, outside the timed part: the input needs repackaging, the output does not.
const check = repackage(chunks)
const chunked = chunk(chunks)
const kvsReady = repackagedBytes(chunks)
const readyViews = views(kvsReady, 64 * 1024)
const recheck = chunk(readyViews)
if (chunked.violations === 0) throw new Error('the bench input was expected to need repackaging')
if (check.violations !== 0 || recheck.violations !== 0 || recheck.fragments !== check.fragments) {
  throw new Error(`repackaged output not KVS-ready: ${JSON.stringify({ check, recheck })}`)
}
const passThrough = repackage(readyViews)
if (passThrough.stats.changed) throw new Error('a KVS-ready input was changed')
console.log(
  `input: ${chunked.fragments} clusters, ${chunked.violations} chunker violations; repackaged: ${check.fragments} fragments, ` +
    `${check.stats.framesMoved} frames moved, ${check.stats.rewrittenFragments} rewritten`,
)

const needing = await compare(chunks, bytes.length)
console.log(
  `chunker in memory, 3 Mb/s input needing repackaging  ${needing.chunker.toFixed(0).padStart(6)} MB/s`,
)
console.log(
  `repackager on the same                               ${needing.repackager.toFixed(0).padStart(6)} MB/s  (${needing.ratio.toFixed(3)} x; best rounds ${needing.best.toFixed(3)} x)`,
)
const highBytes = readFileSync(inputs.high.file)
const highChunks = views(highBytes, 64 * 1024)
if (repackage(highChunks).violations !== 0) throw new Error('the 30 Mb/s input did not come out KVS-ready')
const high = await compare(highChunks, highBytes.length)
console.log(
  `chunker in memory, 30 Mb/s input                     ${high.chunker.toFixed(0).padStart(6)} MB/s`,
)
console.log(
  `repackager on the same                               ${high.repackager.toFixed(0).padStart(6)} MB/s  (${high.ratio.toFixed(3)} x; best rounds ${high.best.toFixed(3)} x)`,
)
const ready = await compare(readyViews, kvsReady.length)
console.log(
  `chunker in memory, KVS-ready input (3 Mb/s)          ${ready.chunker.toFixed(0).padStart(6)} MB/s`,
)
console.log(
  `repackager on the same (fragments as they were)      ${ready.repackager.toFixed(0).padStart(6)} MB/s  (${ready.ratio.toFixed(3)} x)`,
)

const EARLY = 4
const memory = loopMemory(chunks, LOOPS, EARLY)
const growthMb = (memory.lateBytes - memory.earlyBytes) / 1e6
console.log(
  `long input: ${(memory.pushed / 1e9).toFixed(2)} GB (${LOOPS} restarts joined with rebaseTimecodes), ${memory.fragments} fragments, ` +
    `${memory.stats.rebases} rebases; heap+external after GC at loop ${EARLY} ${(memory.earlyBytes / 1e6).toFixed(1)} MB, ` +
    `at loop ${LOOPS} ${(memory.lateBytes / 1e6).toFixed(1)} MB (growth ${growthMb.toFixed(1)} MB); largest bufferedBytes ` +
    `${(memory.peakBuffered / 1e6).toFixed(1)} MB`,
)
if (memory.stats.rebases !== LOOPS - 1)
  throw new Error(`expected ${LOOPS - 1} rebases, got ${memory.stats.rebases}`)

result({
  repackage_vs_chunker: needing.ratio,
  repackage_vs_chunker_best: needing.best,
  repackage_mb_s: needing.repackager,
  chunker_mb_s: needing.chunker,
  repackage_vs_chunker_30mbps: high.ratio,
  passthrough_vs_chunker: ready.ratio,
  loop_gb: memory.pushed / 1e9,
  memory_growth_mb: growthMb,
  peak_buffered_mb: memory.peakBuffered / 1e6,
})
