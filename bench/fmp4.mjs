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
import { existsSync, readFileSync, statSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createClusterChunker } from '../packages/chunker/dist/index.js'
import { createFmp4Segmenter } from '../packages/fmp4/dist/index.js'
import { createGetMediaParser } from '../packages/get-media/dist/parse.js'
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

result({
  bench: 'fmp4',
  fmp4_vs_parser: kvs.ratio,
  fmp4_mb_s: kvs.fmp4MbS,
  parser_mb_s: kvs.parserMbS,
  fmp4_vs_parser_big_frames: big.ratio,
})
