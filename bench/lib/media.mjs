// Large Matroska inputs for benchmarks, generated once (ffmpeg encodes, GStreamer muxes) and cached in
// bench/.cache/ (git-ignored).
//
//   import { ensureBenchMedia } from './lib/media.mjs'
//   const { smallClusters, bigClusters } = await ensureBenchMedia()
//
// Both files: ~195-200 MB, H.264 640x360 25 fps (x264 ultrafast, constant QP 26, testsrc2 + temporal noise
// so every frame is ~130 KB and nothing compresses away) + AAC stereo 128 kb/s, 60 s, known-size Segment
// and Clusters, one frame per SimpleBlock, Cues. Every Cluster starts with a video key frame and holds one
// GOP, so the GOP length sets the cluster size: smallClusters GOP 8 frames → ~1.05 MB, 0.32 s clusters
// (188); bigClusters GOP 150 frames → ~19.4 MB, 6 s clusters (10).
//
// Why not ffmpeg's own Matroska muxer (-cluster_size_limit / -cluster_time_limit): it holds back one audio
// packet and writes it into each new Cluster *before* the video key frame that opened it, so with an audio
// track no ffmpeg-muxed Cluster after the first starts with a key frame. mkvmerge starts Clusters at key
// frames but caps them at 1.5 MiB. GStreamer's matroskamux with min-cluster-duration=0 opens a Cluster at
// every video key frame and has no size cap, so it remuxes ffmpeg's output (in well under a second).
import { spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export {
  compareRounds,
  formatMBs,
  formatMiB,
  mbPerSecond,
  measureRounds,
  median,
  peakRss,
  result,
} from './measure.mjs'

const cacheDir = fileURLToPath(new URL('../.cache/', import.meta.url))
const manifestPath = join(cacheDir, 'media.json')

const common = { size: '640x360', rate: 25, seconds: 60, qp: 26 }
const recipes = {
  smallClusters: { file: 'small-clusters.mkv', gop: 8 },
  bigClusters: { file: 'big-clusters.mkv', gop: 150 },
}
// Bump when the commands below change, so cached files made the old way are regenerated.
const recipeVersion = 2

/**
 * The ffmpeg and gst-launch-1.0 arguments for one file (also printed while generating).
 * @param {keyof typeof recipes} name
 */
export function mediaCommands(name, output = join(cacheDir, recipes[name].file)) {
  const { gop } = recipes[name]
  const { size, rate, seconds, qp } = common
  const encoded = `${output}.encode.mkv`
  const ffmpeg = [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${seconds},noise=alls=30:allf=t`],
    // Audio starts 0.1 s late (0.079 s after AAC priming), so the first Cluster also opens with the key frame.
    ...[
      '-itsoffset',
      '0.1',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds - 0.1}`,
    ],
    ...['-map', '0:v', '-map', '1:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', String(qp), '-pix_fmt', 'yuv420p'],
    ...['-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0'],
    ...['-c:a', 'aac', '-b:a', '128k', '-ac', '2'],
    ...['-f', 'matroska', encoded],
  ]
  const muxed = `${output}.tmp`
  const gstreamer = [
    ...['-q', 'filesrc', `location=${encoded}`, '!', 'matroskademux', 'name=demux'],
    ...['demux.video_0', '!', 'queue', '!', 'h264parse', '!', 'mux.'],
    ...['demux.audio_0', '!', 'queue', '!', 'aacparse', '!', 'mux.'],
    ...['matroskamux', 'name=mux', 'min-cluster-duration=0', 'writing-app=kvs-streams-bench'],
    ...['!', 'filesink', `location=${muxed}`],
  ]
  return { ffmpeg, gstreamer, encoded, muxed }
}

/**
 * Paths of the two cached benchmark inputs, generating whichever is missing or not the size recorded when
 * it was made (about a minute on 2 cores). Progress goes to stderr.
 * @returns {Promise<{ smallClusters: string, bigClusters: string }>}
 */
export async function ensureBenchMedia() {
  mkdirSync(cacheDir, { recursive: true })
  const manifest = readManifest()
  const paths = {}
  for (const name of /** @type {(keyof typeof recipes)[]} */ (Object.keys(recipes))) {
    const path = join(cacheDir, recipes[name].file)
    paths[name] = path
    const recorded = manifest.files[name]
    if (recorded !== undefined && sizeOf(path) === recorded.bytes) continue
    manifest.files[name] = await generate(name, path)
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  }
  return /** @type {{ smallClusters: string, bigClusters: string }} */ (paths)
}

async function generate(name, path) {
  const missing = [
    ...((await succeeds('ffmpeg', ['-version'])) ? [] : ['ffmpeg']),
    ...((await succeeds('gst-inspect-1.0', ['matroskamux'])) ? [] : ['GStreamer matroskamux']),
    ...((await succeeds('gst-inspect-1.0', ['h264parse'])) ? [] : ['GStreamer h264parse']),
  ]
  if (missing.length > 0) {
    throw new Error(
      `bench media: ${missing.join(', ')} missing (Debian: apt-get install ffmpeg gstreamer1.0-tools ` +
        'gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)',
    )
  }
  const { ffmpeg, gstreamer, encoded, muxed } = mediaCommands(name, path)
  const started = Date.now()
  log(`bench media: generating ${recipes[name].file} (GOP ${recipes[name].gop} frames)`)
  log(`  ffmpeg ${ffmpeg.map(quote).join(' ')}`)
  let nextReport = 20
  await exec('ffmpeg', ffmpeg, (line) => {
    const match = /^out_time_us=(\d+)/.exec(line)
    const percent = match === null ? 0 : Math.floor(Number(match[1]) / 1e4 / common.seconds)
    if (percent >= nextReport) {
      log(`  encoding ${Math.min(percent, 100)} %`)
      nextReport = percent - (percent % 20) + 20
    }
  })
  log(`  gst-launch-1.0 ${gstreamer.map(quote).join(' ')}`)
  await exec('gst-launch-1.0', gstreamer)
  rmSync(encoded, { force: true })
  const scan = scanClusters(muxed)
  const problems = []
  if (scan.keyFirst !== scan.clusters)
    problems.push(`${scan.clusters - scan.keyFirst} clusters do not start with a video key frame`)
  if (scan.bytes < 150e6 || scan.bytes > 260e6) problems.push(`size ${scan.bytes} is not ~200 MB`)
  if (problems.length > 0) throw new Error(`bench media: ${recipes[name].file}: ${problems.join('; ')}`)
  renameSync(muxed, path)
  log(`  ${recipes[name].file}: ${describeScan(scan)}, ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return { bytes: scan.bytes, ...summarize(scan) }
}
/**
 * Walks the top-level structure of a Matroska file (reading only element headers, the Tracks element and
 * the start of each Cluster) and reports its clusters: count, sizes, Timecodes, and how many start with a
 * key frame of the first video track.
 * @param {string} path
 */
export function scanClusters(path) {
  const fd = openSync(path, 'r')
  try {
    const bytes = statSync(path).size
    const header = Buffer.alloc(16)
    const readAt = (buffer, position) => readSync(fd, buffer, 0, buffer.length, position)
    const element = (position) => {
      readAt(header, position)
      return readElement(header, 0)
    }
    let position = element(0).end // EBML header
    const segment = element(position)
    if (segment.id !== 0x18538067) throw new Error(`${path}: no Segment after the EBML header`)
    const segmentEnd = segment.size === null ? bytes : position + segment.end
    position += segment.headerLength
    let videoTrack
    const clusters = []
    while (position < segmentEnd) {
      const child = element(position)
      if (child.id === 0x1654ae6b)
        videoTrack = firstVideoTrack(readBytes(readAt, position + child.headerLength, child.size))
      if (child.id === 0x1f43b675) {
        const start = readBytes(readAt, position + child.headerLength, Math.min(child.size ?? 4096, 4096))
        clusters.push({ size: child.size, ...clusterStart(start) })
      }
      if (child.size === null)
        throw new Error(`${path}: unknown-size element inside the Segment is not supported`)
      position += child.end
    }
    const keyFirst = clusters.filter((c) => c.firstBlock?.track === videoTrack && c.firstBlock.key).length
    return { bytes, videoTrack, clusters: clusters.length, keyFirst, details: clusters }
  } finally {
    closeSync(fd)
  }
}

function summarize(scan) {
  const sizes = scan.details.map((c) => c.size)
  const durations = scan.details.slice(1).map((c, i) => c.timecode - scan.details[i].timecode)
  return {
    clusters: scan.clusters,
    clusterBytes: { min: Math.min(...sizes), median: medianOf(sizes), max: Math.max(...sizes) },
    longestClusterMs: Math.max(...durations),
    startWithVideoKeyFrame: scan.keyFirst,
  }
}

function describeScan(scan) {
  const s = summarize(scan)
  const mb = (n) => (n / 1e6).toFixed(2)
  return (
    `${mb(scan.bytes)} MB, ${s.clusters} clusters of ${mb(s.clusterBytes.min)}/${mb(s.clusterBytes.median)}/` +
    `${mb(s.clusterBytes.max)} MB (min/median/max), longest ${s.longestClusterMs} ms, ` +
    `${s.startWithVideoKeyFrame}/${s.clusters} start with a video key frame`
  )
}

function medianOf(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

function firstVideoTrack(tracks) {
  for (let p = 0; p < tracks.length; ) {
    const entry = readElement(tracks, p)
    if (entry.id === 0xae) {
      let number
      let type
      for (let q = p + entry.headerLength; q < p + entry.end; ) {
        const field = readElement(tracks, q)
        if (field.id === 0xd7) number = readUint(tracks, q + field.headerLength, field.size)
        if (field.id === 0x83) type = readUint(tracks, q + field.headerLength, field.size)
        q += field.end
      }
      if (type === 1) return number
    }
    p += entry.end
  }
  return undefined
}

// Timecode and first block of a Cluster, from the first bytes of its payload.
function clusterStart(bytes) {
  let timecode
  for (let p = 0; p < bytes.length - 8; ) {
    const child = readElement(bytes, p)
    const body = p + child.headerLength
    if (child.id === 0xe7) timecode = readUint(bytes, body, child.size)
    if (child.id === 0xa3) return { timecode, firstBlock: blockHeader(bytes, body) }
    if (child.id === 0xa0) {
      let block
      let key = true
      for (let q = body; q < Math.min(bytes.length - 8, p + child.end); ) {
        const part = readElement(bytes, q)
        if (part.id === 0xa1) block = blockHeader(bytes, q + part.headerLength)
        if (part.id === 0xfb) key = false
        q += part.end
      }
      return { timecode, firstBlock: block && { ...block, key } }
    }
    p += child.end
  }
  return { timecode, firstBlock: undefined }
}

function blockHeader(bytes, p) {
  const track = readVint(bytes, p, false)
  return { track: track.value, key: (bytes[p + track.length + 2] & 0x80) !== 0 }
}

export function readElement(bytes, p) {
  const id = readVint(bytes, p, true)
  const size = readVint(bytes, p + id.length, false)
  const headerLength = id.length + size.length
  return {
    id: id.value,
    size: size.unknown ? null : size.value,
    headerLength,
    end: headerLength + (size.unknown ? 0 : size.value),
  }
}

export function readVint(bytes, p, keepMarker) {
  const first = bytes[p]
  const length = Math.clz32(first) - 23
  if (length < 1 || length > 8) throw new Error(`bench media: invalid EBML varint at ${p}`)
  let value = keepMarker ? first : first & (0xff >> length)
  let unknown = value === 0xff >> length
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[p + i]
    unknown &&= bytes[p + i] === 0xff
  }
  return { value, length, unknown: !keepMarker && unknown }
}

export function readUint(bytes, p, length) {
  let value = 0
  for (let i = 0; i < length; i++) value = value * 256 + bytes[p + i]
  return value
}

function readBytes(readAt, position, length) {
  const buffer = Buffer.alloc(length)
  readAt(buffer, position)
  return buffer
}

function readManifest() {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
    // Files made by an older recipe are all stale.
    if (manifest.version === recipeVersion) return { version: recipeVersion, files: manifest.files ?? {} }
  } catch {
    // No manifest yet (or unreadable): regenerate everything.
  }
  return { version: recipeVersion, files: {} }
}

function sizeOf(path) {
  return existsSync(path) ? statSync(path).size : -1
}

function exec(command, args, onLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let pending = ''
    child.stdout.setEncoding('utf8').on('data', (text) => {
      const lines = (pending + text).split('\n')
      pending = lines.pop()
      if (onLine) for (const line of lines) onLine(line)
    })
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr += text
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve()
      else reject(new Error(`bench media: ${command} exited with ${code}: ${stderr.trim()}`))
    })
  })
}

function succeeds(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('close', (code) => resolve(code === 0))
  })
}

function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`
}

function log(message) {
  process.stderr.write(`${message}\n`)
}
