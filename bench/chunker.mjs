// Chunker benchmark (issue: monorepo foundation). Compares, in one run and as medians of several rounds:
//   - the floor: raw file reads into a null sink, 1 MiB and 64 KiB reads;
//   - the chunker (async-generator adapter) on the same reads;
//   - parsing CPU alone: chunker core vs ebml-stream's decoder on the file held in memory, 64 KiB views;
//   - 20 MB clusters vs 1 MB clusters (in memory);
//   - peak RSS of a separate process chunking the 20 MB-cluster file from disk.
// Ends with one RESULT line. Only same-run ratios mean anything: file reads here swing ±40 % between runs.
import { spawnSync } from 'node:child_process'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { chunkClusters, createClusterChunker } from '../packages/chunker/dist/index.js'
import { ensureBenchMedia } from './lib/media.mjs'

const ROUNDS = 5
const MiB = 1024 * 1024
const self = fileURLToPath(import.meta.url)
const require = createRequire(new URL('../packages/ebml/package.json', import.meta.url))
const { EbmlStreamDecoder } = require('ebml-stream')

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const mbPerSecond = (bytes, ms) => bytes / 1e6 / (ms / 1000)

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
  for await (const event of chunkClusters(createReadStream(file, { highWaterMark }), { onViolation: 'emit' })) {
    if (event.type === 'fragment') {
      bytes += event.byteLength
      fragments++
    }
  }
  return { ms: performance.now() - start, bytes, fragments }
}

function views(buffer, size) {
  const out = []
  for (let at = 0; at < buffer.length; at += size) out.push(buffer.subarray(at, Math.min(buffer.length, at + size)))
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

async function rounds(label, run) {
  const results = []
  for (let i = 0; i < ROUNDS; i++) {
    globalThis.gc?.()
    results.push(await run())
  }
  const ms = median(results.map((r) => r.ms))
  return { ...results[0], ms, label }
}

// Child mode: chunk one file from disk with 1 MiB reads and print the peak RSS.
if (process.argv[2] === '--rss-probe') {
  await readChunked(process.argv[3], MiB)
  const status = readFileSync('/proc/self/status', 'utf8')
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  console.log(JSON.stringify({ peakMb: peakKb / 1024 }))
  process.exit(0)
}

const { smallClusters, bigClusters } = await ensureBenchMedia()
const size = statSync(smallClusters).size
console.log(`chunker bench: ${(size / 1e6).toFixed(0)} MB (1 MB clusters), ${(statSync(bigClusters).size / 1e6).toFixed(0)} MB (20 MB clusters), ${ROUNDS} rounds, medians`)

// Warm the page cache and the JIT.
await readFloor(smallClusters, MiB)
await readChunked(smallClusters, MiB)

const floor1m = await rounds('floor 1 MiB reads', () => readFloor(smallClusters, MiB))
const chunk1m = await rounds('chunker 1 MiB reads', () => readChunked(smallClusters, MiB))
const floor64k = await rounds('floor 64 KiB reads', () => readFloor(smallClusters, 64 * 1024))
const chunk64k = await rounds('chunker 64 KiB reads', () => readChunked(smallClusters, 64 * 1024))

const memory = readFileSync(smallClusters)
const memoryViews = views(memory, 64 * 1024)
const chunkMem = await rounds('chunker in memory, 64 KiB views', () => chunkInMemory(memoryViews))
const ebmlMem = await rounds('ebml-stream in memory, 64 KiB views', () => ebmlStreamInMemory(memoryViews))

const big = readFileSync(bigClusters)
const bigViews = views(big, 64 * 1024)
const chunkBig = await rounds('chunker in memory, 20 MB clusters', () => chunkInMemory(bigViews))

for (const r of [floor1m, chunk1m, floor64k, chunk64k, chunkMem, ebmlMem]) {
  console.log(`${r.label.padEnd(40)} ${mbPerSecond(size, r.ms).toFixed(0).padStart(6)} MB/s  ${r.ms.toFixed(1)} ms`)
}
console.log(`${chunkBig.label.padEnd(40)} ${mbPerSecond(big.length, chunkBig.ms).toFixed(0).padStart(6)} MB/s  ${chunkBig.ms.toFixed(1)} ms`)
console.log(`fragments: ${chunk1m.fragments} (1 MB clusters), ${chunkBig.fragments} (20 MB clusters)`)

const probe = spawnSync(process.execPath, [self, '--rss-probe', bigClusters], { encoding: 'utf8' })
if (probe.status !== 0) throw new Error(`RSS probe failed: ${probe.stderr}`)
const { peakMb } = JSON.parse(probe.stdout.trim().split('\n').pop())
const largestMb = chunkBig.largest / MiB
console.log(
  `peak RSS chunking the 20 MB-cluster file from disk: ${peakMb.toFixed(0)} MB ` +
    `(goal: at most ~100 MB + 2 × the largest cluster, ${largestMb.toFixed(1)} MiB = ${(100 + 2 * largestMb).toFixed(0)} MB)`,
)

const ratio = (a, b) => (a / b).toFixed(3)
console.log(
  `RESULT chunker_vs_floor=${ratio(floor1m.ms, chunk1m.ms)} chunker_vs_floor_64k=${ratio(floor64k.ms, chunk64k.ms)} ` +
    `chunker_mem_mb_s=${mbPerSecond(size, chunkMem.ms).toFixed(0)} chunker_vs_ebml_stream=${ratio(ebmlMem.ms, chunkMem.ms)} ` +
    `big_cluster_vs_small=${ratio(mbPerSecond(big.length, chunkBig.ms), mbPerSecond(size, chunkMem.ms))} chunker_rss_mb=${peakMb.toFixed(0)}`,
)
