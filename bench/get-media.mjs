// Throughput and memory of @kvs-streams/get-media (built package) on a ~200 MB GetMedia-style body.
// Usage: pnpm --filter @kvs-streams/get-media... build && node bench/get-media.mjs
//
// The body repeats the 8 documents of the real capture kinesis_video_renderer_example_output.mkv (each an
// EBML document with KVS tags before and after its known-size cluster), with every copy given a fresh
// 47-digit fragment number, until it reaches ~200 MB. It is written once to bench/.cache/ (git-ignored).
//
// (a) file: 1 MiB reads of the file into a null sink (the floor) vs the same reads pushed through the
//     parser, counting frame events, alternated round by round after ~3 s of warm-up (the first reads of a
//     process run slower, see bench/lib/README.md; printed) → getmedia_vs_floor (parser / floor throughput);
// (b) memory: the body fed as 64 KiB views: parser MB/s → getmedia_mem_mb_s, vs ebml-stream's plain
//     EbmlStreamDecoder (no bufferTagIds) on the same views → getmedia_vs_ebml_stream;
// (c) rss: a child process streams the file through the parser and samples RSS; the peak after 50 MB and
//     after the whole body show that memory stays flat in the stream's length → getmedia_rss_mb (another
//     child doing the reads alone gives the baseline).
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
// The `@kvs-streams/get-media/parser` entry, as a program that only parses imports it: the package root also
// loads readStream's network client (undici and the signer), ~7 MB of V8 heap that every garbage collection
// during the run then marks (see the package README).
import { createGetMediaParser } from '../packages/get-media/dist/parse.js'
import { compareRounds, median } from './lib/measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const cachePath = `${root}bench/.cache/get-media-200mb.mkv`
const targetBytes = 200 * 1024 * 1024
const readSize = 1024 * 1024
const viewSize = 64 * 1024
const rounds = 9
const MB = 1024 * 1024

/** Builds the body (once): the capture's documents with rewritten fragment numbers, repeated. */
function ensureBody() {
  if (existsSync(cachePath) && statSync(cachePath).size >= targetBytes) return
  mkdirSync(`${root}bench/.cache`, { recursive: true })
  const capture = new Uint8Array(
    readFileSync(`${root}fixtures/kvs-getmedia/kinesis_video_renderer_example_output.mkv`),
  )
  // Split the capture into its documents with the parser's raw mode (each fragment's bytes, in order).
  const splitter = createGetMediaParser({ mode: 'raw' })
  const documents = []
  for (const event of [...splitter.push(capture), ...splitter.end()]) {
    if (event.type !== 'fragment') continue
    const bytes = new Uint8Array(event.byteLength)
    let at = 0
    for (const part of event.parts) {
      bytes.set(part, at)
      at += part.length
    }
    documents.push({ bytes, number: new TextEncoder().encode(event.fragmentNumber) })
  }
  const fd = openSync(cachePath, 'w')
  let written = 0
  let sequence = 91343852333181432392682062609776234230823574155n
  while (written < targetBytes) {
    for (const { bytes, number } of documents) {
      sequence += 4951760157141521099596496896n
      const fresh = new TextEncoder().encode(sequence.toString())
      const copy = bytes.slice()
      // The fragment number appears twice (FRAGMENT_NUMBER, CONTINUATION_TOKEN); same width, so sizes hold.
      for (
        let i = copy.indexOf(number[0]);
        i !== -1 && i <= copy.length - number.length;
        i = copy.indexOf(number[0], i + 1)
      ) {
        let match = true
        for (let j = 1; j < number.length && match; j++) match = copy[i + j] === number[j]
        if (match) copy.set(fresh, i)
      }
      writeSync(fd, copy)
      written += copy.length
    }
  }
  closeSync(fd)
}

async function readFloor() {
  let bytes = 0
  for await (const chunk of createReadStream(cachePath, { highWaterMark: readSize })) bytes += chunk.length
  return bytes
}

async function readParsed() {
  const parser = createGetMediaParser()
  let frames = 0
  for await (const chunk of createReadStream(cachePath, { highWaterMark: readSize })) {
    const events = parser.push(chunk)
    for (let i = 0; i < events.length; i++) if (events[i].type === 'frame') frames++
  }
  parser.end()
  return frames
}

function parseInMemory(views) {
  const parser = createGetMediaParser()
  let frames = 0
  for (const view of views) {
    const events = parser.push(view)
    for (let i = 0; i < events.length; i++) if (events[i].type === 'frame') frames++
  }
  parser.end()
  return frames
}

function ebmlStreamInMemory(EbmlStreamDecoder, views) {
  return new Promise((resolve, reject) => {
    const decoder = new EbmlStreamDecoder()
    let blocks = 0
    decoder.on('data', (tag) => {
      if (tag.id === 0xa3) blocks++
    })
    decoder.on('error', reject)
    decoder.on('end', () => resolve(blocks))
    for (const view of views) decoder.write(view)
    decoder.end()
  })
}

async function time(run) {
  const start = performance.now()
  const result = await run()
  return { ms: performance.now() - start, result }
}

/**
 * Child process: streams the body (with or without the parser) and samples memory after every read; prints
 * JSON with the peak RSS up to 50 MB and up to the end, and the V8 heap + ArrayBuffer memory at those points.
 */
async function memoryChild(withParser) {
  const parser = createGetMediaParser()
  let bytes = 0
  let frames = 0
  let peak = 0
  let at50
  for await (const chunk of createReadStream(cachePath, { highWaterMark: readSize })) {
    if (withParser) {
      const events = parser.push(chunk)
      for (let i = 0; i < events.length; i++) if (events[i].type === 'frame') frames++
    }
    bytes += chunk.length
    const usage = process.memoryUsage()
    if (usage.rss > peak) peak = usage.rss
    if (at50 === undefined && bytes >= 50 * MB) at50 = { peak, js: usage.heapUsed + usage.arrayBuffers }
  }
  parser.end()
  const usage = process.memoryUsage()
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  process.stdout.write(
    JSON.stringify({
      bytes,
      frames,
      at50,
      atEnd: { peak, js: usage.heapUsed + usage.arrayBuffers },
      vmHwm: hwm ? Number(hwm[1]) * 1024 : peak,
    }),
  )
}

function runMemoryChild(withParser) {
  const args = [fileURLToPath(import.meta.url), withParser ? '--memory-child' : '--memory-child-floor']
  const child = spawnSync(process.execPath, args, { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`)
  return JSON.parse(child.stdout)
}

async function main() {
  ensureBody()
  const size = statSync(cachePath).size
  console.log(`body: ${(size / MB).toFixed(1)} MB at ${cachePath}`)

  // (a) file reads: floor vs parser, alternated round by round so both see the same page-cache state, each
  // round after a major GC (compareRounds), so that neither pays for garbage the other left.
  let frames = 0
  const { baseline, candidate, warmup } = await compareRounds(
    {
      baseline: readFloor,
      candidate: async () => {
        frames = await readParsed()
      },
    },
    rounds,
    // The first file reads of the process run in a slower regime for ~3 s (see bench/lib/README.md).
    { warmupMs: 3000 },
  )
  const floorMbS = size / MB / (baseline.median / 1000)
  const fileMbS = size / MB / (candidate.median / 1000)
  console.log(
    `(a) file, 1 MiB reads: floor ${floorMbS.toFixed(0)} MB/s, parser ${fileMbS.toFixed(0)} MB/s (${frames} frames)`,
  )
  const warmFloor = median(warmup.baseline)
  const warmParser = median(warmup.candidate)
  console.log(
    `    warm-up, ${warmup.baseline.length} rounds of each (not in the result): floor ${(size / MB / (warmFloor / 1000)).toFixed(0)} MB/s, parser ${(size / MB / (warmParser / 1000)).toFixed(0)} MB/s, ratio ${(warmFloor / warmParser).toFixed(2)}`,
  )

  // (b) in memory, 64 KiB views.
  const body = readFileSync(cachePath)
  const views = []
  for (let offset = 0; offset < body.length; offset += viewSize)
    views.push(body.subarray(offset, offset + viewSize))
  parseInMemory(views)
  const memoryTimes = []
  for (let i = 0; i < rounds; i++) memoryTimes.push((await time(() => parseInMemory(views))).ms)
  const memoryMbS = size / MB / (median(memoryTimes) / 1000)
  const require = createRequire(`${root}packages/ebml/package.json`)
  const { EbmlStreamDecoder } = require('ebml-stream')
  const ebmlStreamTimes = []
  let ebmlStreamBlocks = 0
  for (let i = 0; i < 3; i++) {
    const run = await time(() => ebmlStreamInMemory(EbmlStreamDecoder, views))
    ebmlStreamTimes.push(run.ms)
    ebmlStreamBlocks = run.result
  }
  const ebmlStreamMbS = size / MB / (median(ebmlStreamTimes) / 1000)
  console.log(
    `(b) memory, 64 KiB views: parser ${memoryMbS.toFixed(0)} MB/s, ebml-stream ${ebmlStreamMbS.toFixed(0)} MB/s (${ebmlStreamBlocks} SimpleBlocks)`,
  )

  // (c) memory while streaming the file, each in a fresh process: with the parser, and reads alone.
  const rss = runMemoryChild(true)
  const floorRss = runMemoryChild(false)
  const mb = (bytes) => (bytes / MB).toFixed(1)
  console.log(
    `(c) streaming ${mb(rss.bytes)} MB through the parser: peak RSS ${mb(rss.at50.peak)} MB after 50 MB, ${mb(rss.atEnd.peak)} MB at the end (VmHWM ${mb(rss.vmHwm)} MB); JS heap + ArrayBuffers ${mb(rss.at50.js)} MB after 50 MB, ${mb(rss.atEnd.js)} MB at the end`,
  )
  console.log(
    `    reads alone: peak RSS ${mb(floorRss.at50.peak)} MB after 50 MB, ${mb(floorRss.atEnd.peak)} MB at the end (VmHWM ${mb(floorRss.vmHwm)} MB)`,
  )

  console.log(
    `RESULT getmedia_vs_floor=${(fileMbS / floorMbS).toFixed(2)} getmedia_mem_mb_s=${memoryMbS.toFixed(0)} getmedia_vs_ebml_stream=${(memoryMbS / ebmlStreamMbS).toFixed(1)} getmedia_rss_mb=${mb(Math.max(rss.atEnd.peak, rss.vmHwm))}`,
  )
}

const role = process.argv[2]
if (role === '--memory-child') await memoryChild(true)
else if (role === '--memory-child-floor') await memoryChild(false)
else if (role === undefined) await main()
else throw new Error(`unknown argument ${role}`)
