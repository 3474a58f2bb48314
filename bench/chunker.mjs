// Chunker benchmark (issue: monorepo foundation). Compares, in one run and as medians of several rounds:
//   - the floor: raw file reads into a null sink, 1 MiB and 64 KiB reads;
//   - the chunker (async-generator adapter) on the same reads;
//   - parsing CPU alone: chunker core vs ebml-stream's decoder on the file held in memory, 64 KiB views;
//   - 20 MB clusters vs 1 MB clusters (in memory);
//   - peak RSS of a separate process chunking the 20 MB-cluster file from disk, one per adapter (the Node
//     Transform gives chunker_rss_mb), and of one only reading it.
// Ends with one RESULT line. Only same-run ratios mean anything: file reads here swing ±40 % between runs.
// The file-read rounds are timed after ~3 s of warm-up: a fresh process reads 1 MiB chunks at a third of its
// later speed until glibc's mmap threshold settles (bench/lib/README.md); the warm-up figures are printed.
import { spawnSync } from 'node:child_process'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { ClusterChunkerStream, chunkClusters, createClusterChunker } from '../packages/chunker/dist/index.js'
import { createClusterChunkerTransform } from '../packages/chunker/dist/node.js'
import { collectGarbage, compareRounds, mbPerSecond, median } from './lib/measure.mjs'
import { ensureBenchMedia } from './lib/media.mjs'

const ROUNDS = 9
const MiB = 1024 * 1024
const self = fileURLToPath(import.meta.url)
const require = createRequire(new URL('../packages/ebml/package.json', import.meta.url))
const { EbmlStreamDecoder } = require('ebml-stream')

async function readFloor(file, highWaterMark) {
  const start = performance.now()
  let bytes = 0
  for await (const chunk of createReadStream(file, { highWaterMark })) bytes += chunk.length
  return { ms: performance.now() - start, bytes }
}

async function readChunked(file, highWaterMark) {
  const start = performance.now()
  let bytes = 0
  let fragments = 0
  for await (const event of chunkClusters(createReadStream(file, { highWaterMark }), {
    onViolation: 'emit',
  })) {
    if (event.type === 'fragment') {
      bytes += event.byteLength
      fragments++
    }
  }
  return { ms: performance.now() - start, bytes, fragments }
}

function views(buffer, size) {
  const out = []
  for (let at = 0; at < buffer.length; at += size)
    out.push(buffer.subarray(at, Math.min(buffer.length, at + size)))
  return out
}

function chunkInMemory(chunks) {
  const start = performance.now()
  const chunker = createClusterChunker({ onViolation: 'emit' })
  let fragments = 0
  let largest = 0
  const count = (event) => {
    if (event.type !== 'fragment') return
    fragments++
    if (event.byteLength > largest) largest = event.byteLength
  }
  for (const chunk of chunks) for (const event of chunker.push(chunk)) count(event)
  for (const event of chunker.end()) count(event)
  return { ms: performance.now() - start, fragments, largest }
}

function ebmlStreamInMemory(chunks) {
  const start = performance.now()
  const decoder = new EbmlStreamDecoder()
  let tags = 0
  decoder.on('data', () => tags++)
  for (const chunk of chunks) decoder.write(chunk)
  decoder.end()
  return { ms: performance.now() - start, tags }
}

// Child mode: read one file from disk with 1 MiB reads, through one of the chunker's adapters or alone (the
// floor), and print the peak RSS. Each adapter gets its own process, since peak RSS never goes down.
const rssProbes = {
  floor: (file) => readFloor(file, MiB),
  // The Node Transform in stream.pipeline(), the shape the transport's docs give for PutMedia.
  node: (file) =>
    pipeline(
      createReadStream(file, { highWaterMark: MiB }),
      createClusterChunkerTransform({ onViolation: 'emit' }),
      new Writable({ objectMode: true, write: (_event, _encoding, done) => done() }),
    ),
  web: (file) =>
    Readable.toWeb(createReadStream(file, { highWaterMark: MiB }))
      .pipeThrough(new ClusterChunkerStream({ onViolation: 'emit' }))
      .pipeTo(new WritableStream()),
  'for-await': (file) => readChunked(file, MiB),
}
if (process.argv[2] === '--rss-probe') {
  await rssProbes[process.argv[3]](process.argv[4])
  const status = readFileSync('/proc/self/status', 'utf8')
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  console.log(JSON.stringify({ peakMb: peakKb / 1024 }))
  process.exit(0)
}

const { smallClusters, bigClusters } = await ensureBenchMedia()
const size = statSync(smallClusters).size
console.log(
  `chunker bench: ${(size / 1e6).toFixed(0)} MB (1 MB clusters), ${(statSync(bigClusters).size / 1e6).toFixed(0)} MB (20 MB clusters), ${ROUNDS} rounds, medians`,
)

/**
 * Median times of baseline and candidate, timed alternately round by round (`compareRounds`, so drift in
 * the machine's speed hits both) after warming up for `warmupMs`; also the medians of the warm-up rounds.
 */
async function medians(baseline, candidate, warmupMs = 0) {
  const rounds = await compareRounds({ baseline, candidate }, ROUNDS, { warmupMs })
  return {
    baseline: rounds.baseline.median,
    candidate: rounds.candidate.median,
    warmup: { baseline: median(rounds.warmup.baseline), candidate: median(rounds.warmup.candidate) },
    warmups: rounds.warmup.baseline.length,
  }
}

/** In-memory parsing is fast enough that one pass is mostly timer noise: repeat it for at least 250 ms. */
function passes(run) {
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
async function memoryRate(run, bytes) {
  const repeat = passes(run)
  repeat() // warm-up
  const rates = []
  for (let i = 0; i < ROUNDS; i++) {
    collectGarbage()
    const start = performance.now()
    const count = repeat()
    rates.push(mbPerSecond(bytes * count, performance.now() - start))
  }
  return median(rates)
}

// The first file reads of the process run in a slower regime for ~3 s (see bench/lib/README.md): warm up
// through it, and print what it measured.
const reads1m = await medians(
  () => readFloor(smallClusters, MiB),
  () => readChunked(smallClusters, MiB),
  3000,
)
const reads64k = await medians(
  () => readFloor(smallClusters, 64 * 1024),
  () => readChunked(smallClusters, 64 * 1024),
)
console.log(
  `warm-up, ${reads1m.warmups} rounds of each with 1 MiB reads (not in the result): floor ${mbPerSecond(size, reads1m.warmup.baseline).toFixed(0)} MB/s, chunker ${mbPerSecond(size, reads1m.warmup.candidate).toFixed(0)} MB/s, ratio ${(reads1m.warmup.baseline / reads1m.warmup.candidate).toFixed(3)}`,
)
console.log(`floor 1 MiB reads       ${mbPerSecond(size, reads1m.baseline).toFixed(0).padStart(6)} MB/s`)
console.log(`chunker 1 MiB reads     ${mbPerSecond(size, reads1m.candidate).toFixed(0).padStart(6)} MB/s`)
console.log(`floor 64 KiB reads      ${mbPerSecond(size, reads64k.baseline).toFixed(0).padStart(6)} MB/s`)
console.log(`chunker 64 KiB reads    ${mbPerSecond(size, reads64k.candidate).toFixed(0).padStart(6)} MB/s`)

const memory = readFileSync(smallClusters)
const memoryViews = views(memory, 64 * 1024)
const chunkMem = await memoryRate(() => chunkInMemory(memoryViews), size)
const ebmlMem = await memoryRate(() => ebmlStreamInMemory(memoryViews), size)
console.log(`chunker in memory, 64 KiB views, 1 MB clusters   ${chunkMem.toFixed(0).padStart(6)} MB/s`)
console.log(`ebml-stream in memory, 64 KiB views              ${ebmlMem.toFixed(0).padStart(6)} MB/s`)

const big = readFileSync(bigClusters)
const bigViews = views(big, 64 * 1024)
const chunkBig = await memoryRate(() => chunkInMemory(bigViews), big.length)
console.log(`chunker in memory, 64 KiB views, 20 MB clusters  ${chunkBig.toFixed(0).padStart(6)} MB/s`)
const smallRun = chunkInMemory(memoryViews)
const bigRun = chunkInMemory(bigViews)
console.log(`fragments: ${smallRun.fragments} (1 MB clusters), ${bigRun.fragments} (20 MB clusters)`)

function peakRssOf(adapter) {
  const probe = spawnSync(process.execPath, [self, '--rss-probe', adapter, bigClusters], { encoding: 'utf8' })
  if (probe.status !== 0) throw new Error(`RSS probe ${adapter} failed: ${probe.stderr}`)
  return JSON.parse(probe.stdout.trim().split('\n').pop()).peakMb
}
const peaks = {}
for (const adapter of Object.keys(rssProbes)) peaks[adapter] = peakRssOf(adapter)
const largestMb = bigRun.largest / 1e6
console.log(
  `peak RSS chunking the 20 MB-cluster file from disk (goal: at most ~100 MB + 2 × the largest cluster, ${largestMb.toFixed(1)} MB = ${(100 + 2 * largestMb).toFixed(0)} MB):\n` +
    `  reading alone ${peaks.floor.toFixed(0)} MB; Node Transform in pipeline() ${peaks.node.toFixed(0)} MB; ` +
    `WHATWG pipeThrough ${peaks.web.toFixed(0)} MB; chunkClusters() consumed by for await ${peaks['for-await'].toFixed(0)} MB\n` +
    '  (for await holds the iterator result it last got until the next one arrives: each 20 MB fragment stays\n' +
    '  alive through the next cluster, long enough for V8 to promote its buffers and collect them late)',
)

const ratio = (a, b) => (a / b).toFixed(3)
console.log(
  `RESULT chunker_vs_floor=${ratio(reads1m.baseline, reads1m.candidate)} chunker_vs_floor_64k=${ratio(reads64k.baseline, reads64k.candidate)} ` +
    `chunker_mem_mb_s=${chunkMem.toFixed(0)} chunker_vs_ebml_stream=${ratio(chunkMem, ebmlMem)} ` +
    `big_cluster_vs_small=${ratio(chunkBig, chunkMem)} chunker_rss_mb=${peaks.node.toFixed(0)} ` +
    `chunker_rss_mb_web=${peaks.web.toFixed(0)} chunker_rss_mb_for_await=${peaks['for-await'].toFixed(0)}`,
)
