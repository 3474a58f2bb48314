// A fleet of cameras from one Node process: how many live 1 Mbps streams one producer process keeps, with
// every fragment PERSISTED within 200 ms of its last byte, on this machine.
// Usage: pnpm --filter @kvs-streams/producer... --filter @kvs-streams/emulator build && node bench/fleet.mjs
//        node bench/fleet.mjs --steps 20,50 --seconds 10    (a quick run)
//        node --cpu-prof bench/fleet.mjs --profile /tmp/prof  (CPU profiles of the client and the emulator)
//
// Source: a 10 s, 1 Mbps H.264 clip (ffmpeg, 640x360, 25 fps, a key frame every second, one Cluster per second,
// made once and cached in bench/.cache/), looped with rebased Cluster timecodes so no encoder runs during the
// bench. Each stream writes its frames live: every frame when its time comes (a 10 ms scheduler shared by all
// streams, each stream started at a random phase in the first second, as cameras are), into its own
// `createProducer().writable`: a new Cluster head (ID, size, rebased Timecode), then each frame as a view of
// the clip in memory, so that the source itself costs nothing measurable (the producer keeps written chunks
// without copying them; the replay buffers' bytes are reported apart from RSS for that reason). All
// producers share one control-plane client and one signer; each PutMedia session has its own connection (the
// transport's default: a session it abandons is reset, so none of its bytes arrive late).
// The emulator runs in another process with disk storage in a temporary directory (streams with retention
// 1 h, so PERSISTED means written and fsync'd).
//
// The ramp adds streams (by default to 100, 250, 500, 700, 1000), lets each step settle, then measures a 20 s
// window: latency from the write of a fragment's last byte to its PERSISTED ack (p50/p99/max; it includes
// the wait for the next frame, which tells the producer that the Cluster has ended; a fragment not
// acknowledged 2 s after the window counts as infinitely late), fragments lost or errored (ERROR acks,
// skipped fragments, producer errors: must be 0) and reconnects, producer process CPU per stream per second
// of media, RSS growth per stream (the replay buffers hold views of the shared clip, so their bytes, reported
// separately, are not in it), the emulator's CPU, and the event-loop delay p99 of both processes. The ramp
// stops at the first step over 1 s p99, with a reconnect or a loss. At the end every stream ends at a
// fragment boundary, every producer is closed, and ListFragments must list every fragment whose last byte
// was written.
//
// RESULT fleet_streams = the largest N whose window held p99 ≤ 200 ms with nothing lost; fleet_p99_ms,
// fleet_cpu_ms_per_stream_s and fleet_rss_kb_per_stream are that step's.
import { execFileSync, fork } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { readElement, readUint, readVint } from './lib/media.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const cacheDir = join(root, 'bench', '.cache')
const clipPath = join(cacheDir, 'fleet-1mbps.mkv')
const { values: flags } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    steps: { type: 'string' },
    seconds: { type: 'string' },
    settle: { type: 'string' },
    profile: { type: 'string' },
    emulator: { type: 'string' },
  },
})
const steps = (flags.steps ?? '100,250,500,700,1000').split(',').map(Number)
const windowSeconds = Number(flags.seconds ?? 20)
const settleSeconds = Number(flags.settle ?? 6)
const latencyGoalMs = 200
const giveUpP99Ms = 1000
const tickMs = 10
/** A Cluster ID, an 8-byte size, and a Timecode element with an 8-byte value. */
const CLUSTER_HEAD_BYTES = 4 + 8 + 2 + 8

if (flags.serve) await serve()
else await main()

/** Child process: the emulator with disk storage. Answers 'stats' with CPU, loop delay since the last one, RSS. */
async function serve() {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  // --emulator /path/to/emulator/dist/index.js measures another build of the emulator (e.g. a branch's).
  const { startEmulator, DEFAULT_CREDENTIALS } = await import(
    flags.emulator === undefined ? '../packages/emulator/dist/index.js' : pathToFileURL(flags.emulator).href
  )
  const dataDir = mkdtempSync(join(tmpdir(), 'kvs-fleet-'))
  const emulator = await startEmulator({ port: 0, storage: 'disk', dataDir })
  process.on('message', async (message) => {
    if (message === 'stats') {
      process.send({
        stats: {
          cpu: process.cpuUsage(),
          loopP99Ms: loopDelay.percentile(99) / 1e6,
          rss: process.memoryUsage().rss,
        },
      })
      loopDelay.reset()
    }
    if (message === 'stop') {
      await emulator.close()
      rmSync(dataDir, { recursive: true, force: true })
      process.exit(0)
    }
  })
  process.on('disconnect', () => {
    rmSync(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
  process.send({ url: emulator.url, region: emulator.region, credentials: { ...DEFAULT_CREDENTIALS } })
}

async function main() {
  const require = createRequire(`${root}packages/producer/package.json`)
  const load = (name) => import(pathToFileURL(require.resolve(name)).href)
  const { CreateStreamCommand, KinesisVideoClient, GetDataEndpointCommand } = await load(
    '@aws-sdk/client-kinesis-video',
  )
  const { Agent } = await import(
    pathToFileURL(createRequire(`${root}packages/transport/package.json`).resolve('undici')).href
  )
  const { createProducer } = await import('../packages/producer/dist/index.js')
  const { createKvsSigner } = await import('../packages/signer/dist/index.js')
  const { listFragments } = await import('../packages/transport/dist/index.js')
  const { result, formatMiB, peakRss } = await import('./lib/measure.mjs')

  const clip = loadClip(ensureClip())
  console.log(
    `fleet: clip ${clipPath}: ${(clip.bytes / 1e6).toFixed(2)} MB, ${clip.clusters.length} clusters of 1 s, ` +
      `${((clip.bytes * 8) / clip.durationMs).toFixed(0)} kb/s, ${clip.frames} frames`,
  )

  // --profile <dir>: a CPU profile of the emulator process (run this one with --cpu-prof for the client's).
  const serveArgs = ['--serve', ...(flags.emulator === undefined ? [] : ['--emulator', flags.emulator])]
  const child = fork(fileURLToPath(import.meta.url), serveArgs, {
    execArgv: flags.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', flags.profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [server] = await once(child, 'message')
  const serverStats = async () => {
    child.send('stats')
    for (;;) {
      const [message] = await once(child, 'message')
      if (message.stats) return message.stats
    }
  }
  const client = new KinesisVideoClient({
    region: server.region,
    endpoint: server.url,
    credentials: server.credentials,
  })
  const signer = createKvsSigner({ region: server.region, credentials: server.credentials })
  const dispatcher = new Agent({ keepAliveTimeout: 60_000 })
  const maxStreams = Math.max(...steps)
  const names = Array.from({ length: maxStreams }, (_, i) => `fleet-${String(i).padStart(4, '0')}`)
  const createStarted = performance.now()
  await inBatches(names, 50, (streamName) =>
    client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 1 })),
  )
  const { DataEndpoint: dataEndpoint } = await client.send(
    new GetDataEndpointCommand({ StreamName: names[0], APIName: 'PUT_MEDIA' }),
  )
  console.log(
    `fleet: ${maxStreams} streams created (retention 1 h, disk storage) in ${((performance.now() - createStarted) / 1000).toFixed(1)} s`,
  )

  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  globalThis.gc?.({ type: 'major', execution: 'sync' })
  const baselineRss = process.memoryUsage().rss

  /** @type {FleetStream[]} */
  const streams = []
  /** Counters since the start: problems are never reset. */
  const problems = { errorAcks: 0, skipped: 0, reconnects: 0, producerErrors: 0, blockedWrites: 0 }
  let window // { fromMs, toMs, latencies: number[], producerLatencies: number[] }
  const started = performance.now()

  class FleetStream {
    constructor(streamName, phaseMs) {
      this.streamName = streamName
      this.startMs = performance.now() + phaseMs
      this.cluster = 0
      this.frame = 0
      this.loop = 0
      this.stopping = false
      this.ended = false
      this.written = 0 // fragments whose last byte was written
      this.persisted = 0
      /** Cluster timecode → performance.now() of the write of its last byte. */
      this.lastByteAt = new Map()
      this.producer = createProducer({
        streamName,
        client,
        signer,
        dataEndpoint,
        acknowledgeOn: 'PERSISTED',
        statsIntervalMs: 0,
      })
      this.producer.on('fragment-acknowledged', (event) => this.#acknowledged(event))
      this.producer.on('fragment-skipped', () => problems.skipped++)
      this.producer.on('ack', (event) => {
        if (event.ack.eventType === 'ERROR') problems.errorAcks++
      })
      this.producer.on('state', (event) => {
        if (event.state === 'reconnecting') problems.reconnects++
      })
      this.producer.on('error', () => problems.producerErrors++)
      this.producer.writable.write(clip.header)
    }

    #acknowledged(event) {
      const at = this.lastByteAt.get(event.fragment.timecode)
      this.lastByteAt.delete(event.fragment.timecode)
      this.persisted++
      if (at === undefined || window === undefined) return
      if (at >= window.fromMs && at < window.toMs) {
        window.latencies.push(performance.now() - at)
        window.producerLatencies.push(event.latencyMs)
      }
    }

    /** Writes every frame due by `now`. */
    tick(now) {
      while (!this.ended) {
        const cluster = clip.clusters[this.cluster]
        const frame = cluster.frames[this.frame]
        const timecode = this.loop * clip.durationMs + cluster.timecode
        if (this.startMs + timecode + frame.offsetMs > now) return
        if (this.frame === 0 && this.stopping) {
          this.ended = true
          this.producer.writable.end()
          return
        }
        if (this.frame === 0) {
          const head = Buffer.allocUnsafe(CLUSTER_HEAD_BYTES)
          writeClusterHead(head, cluster.bodyBytes, timecode)
          this.producer.writable.write(head)
        }
        if (!this.producer.writable.write(frame.bytes)) problems.blockedWrites++
        if (++this.frame === cluster.frames.length) {
          const at = performance.now()
          this.lastByteAt.set(timecode, at)
          this.written++
          if (window !== undefined && at >= window.fromMs && at < window.toMs) window.written++
          this.frame = 0
          if (++this.cluster === clip.clusters.length) {
            this.cluster = 0
            this.loop++
          }
        }
      }
    }
  }

  const timer = setInterval(() => {
    const now = performance.now()
    for (const stream of streams) stream.tick(now)
  }, tickMs)

  const steps_ = []
  let headline
  for (const n of steps) {
    const adding = n - streams.length
    for (let i = streams.length; i < n; i++) streams.push(new FleetStream(names[i], Math.random() * 1000))
    await sleep(settleSeconds * 1000)
    const before = { cpu: process.cpuUsage(), server: await serverStats(), problems: { ...problems } }
    loopDelay.reset()
    const fromMs = performance.now()
    window = {
      fromMs,
      toMs: fromMs + windowSeconds * 1000,
      written: 0,
      latencies: [],
      producerLatencies: [],
    }
    await sleep(windowSeconds * 1000)
    const after = { cpu: process.cpuUsage(), server: await serverStats() }
    const loopP99Ms = loopDelay.percentile(99) / 1e6
    // Fragments whose last byte fell in the window get up to 2 s more for their acks.
    await sleep(2000)
    const measured = window
    window = undefined
    const elapsedS = (measured.toMs - measured.fromMs) / 1000
    const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000
    const serverCpuMs =
      (after.server.cpu.user + after.server.cpu.system - before.server.cpu.user - before.server.cpu.system) /
      1000
    const replayBytes = streams.reduce((sum, s) => sum + s.producer.stats().replayBuffer.bytes, 0)
    const rss = process.memoryUsage().rss
    const lost = Object.fromEntries(
      Object.entries(problems).map(([key, value]) => [key, value - before.problems[key]]),
    )
    // A fragment not acknowledged 2 s after the window counts as infinitely late.
    const late = Math.max(0, measured.written - measured.latencies.length)
    const latencies = [...measured.latencies, ...Array(late).fill(Number.POSITIVE_INFINITY)].sort(
      (a, b) => a - b,
    )
    const producerLatencies = measured.producerLatencies.sort((a, b) => a - b)
    const step = {
      n,
      written: measured.written,
      acked: measured.latencies.length,
      late,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      producerP99: percentile(producerLatencies, 99),
      cpuMsPerStreamS: cpuMs / n / elapsedS,
      clientCorePct: (cpuMs / (elapsedS * 1000)) * 100,
      serverCorePct: (serverCpuMs / (elapsedS * 1000)) * 100,
      serverSystemPct:
        ((after.server.cpu.system - before.server.cpu.system) / 1000 / (elapsedS * 1000)) * 100,
      // The replay buffers hold views of the clip every stream shares (the producer does not copy what it is
      // given), so their bytes are not in this growth; a real source's would be, reported as replay buffers.
      rssKbPerStream: (rss - baselineRss) / 1024 / n,
      replayKbPerStream: replayBytes / 1024 / n,
      clientLoopP99Ms: loopP99Ms,
      serverLoopP99Ms: after.server.loopP99Ms,
      serverRss: after.server.rss,
      lost,
    }
    steps_.push(step)
    const failures = Object.entries(lost).filter(([key, value]) => key !== 'blockedWrites' && value > 0)
    console.log(
      `fleet: ${String(n).padStart(4)} streams (+${adding}): ${step.written} fragments completed in ${elapsedS.toFixed(0)} s, ` +
        `${step.acked} PERSISTED within 2 s after; last byte → PERSISTED p50 ${ms(step.p50)}, p99 ${ms(step.p99)}, ` +
        `max ${ms(step.max)} (the producer's own latency, from the fragment's completion, p99 ${ms(step.producerP99)})`,
    )
    console.log(
      `       client: ${step.cpuMsPerStreamS.toFixed(2)} ms CPU per stream per s of media (${step.clientCorePct.toFixed(0)} % of a core), ` +
        `RSS ${step.rssKbPerStream.toFixed(0)} KB per stream (replay buffers ${step.replayKbPerStream.toFixed(0)} KB per stream, views of the shared clip), ` +
        `loop delay p99 ${step.clientLoopP99Ms.toFixed(1)} ms; emulator: ${step.serverCorePct.toFixed(0)} % of a core ` +
        `(${step.serverSystemPct.toFixed(0)} % in the kernel), ` +
        `loop delay p99 ${step.serverLoopP99Ms.toFixed(1)} ms, RSS ${formatMiB(step.serverRss)}; load ${loadavg()[0].toFixed(1)}`,
    )
    console.log(
      `       lost or errored: ${failures.length === 0 ? 'none' : failures.map(([k, v]) => `${k} ${v}`).join(', ')}` +
        (lost.blockedWrites > 0 ? `; ${lost.blockedWrites} writes met a full buffer` : ''),
    )
    if (failures.length === 0 && step.p99 <= latencyGoalMs) headline = step
    if (failures.length > 0 || !(step.p99 <= giveUpP99Ms)) {
      console.log(`fleet: stopping the ramp at ${n} streams (p99 over ${giveUpP99Ms} ms or a loss)`)
      break
    }
  }

  // End every stream at its next fragment boundary, close every producer, then check the service has every
  // fragment that was written.
  const ending = performance.now()
  for (const stream of streams) stream.stopping = true
  const closed = await Promise.allSettled(
    streams.map(async (stream) => {
      while (!stream.ended) await sleep(50)
      return stream.producer.close()
    }),
  )
  clearInterval(timer)
  const closeFailures = closed.filter((c) => c.status === 'rejected')
  console.log(
    `fleet: ${streams.length} producers closed in ${((performance.now() - ending) / 1000).toFixed(1)} s` +
      (closeFailures.length > 0 ? `, ${closeFailures.length} failed: ${closeFailures[0].reason}` : ''),
  )
  let listed = 0
  let written = 0
  const short = []
  await inBatches(streams, 25, async (stream) => {
    let count = 0
    let nextToken
    do {
      const page = await listFragments({
        streamName: stream.streamName,
        endpoint: dataEndpoint,
        signer,
        dispatcher,
        maxResults: 1000,
        nextToken,
      })
      count += page.Fragments.length
      nextToken = page.NextToken
    } while (nextToken !== undefined)
    listed += count
    written += stream.written
    if (count !== stream.written)
      short.push(`${stream.streamName}: ${count} listed, ${stream.written} written`)
  })
  console.log(
    `fleet: ListFragments lists ${listed} fragments for ${written} written in ${((performance.now() - started) / 1000).toFixed(0)} s` +
      (short.length > 0 ? `; ${short.length} streams differ, e.g. ${short.slice(0, 3).join('; ')}` : ''),
  )
  console.log(`fleet: client peak RSS ${formatMiB(peakRss())}`)
  child.send('stop')
  await dispatcher.close()
  client.destroy()

  // Reconnects end a step's ramp (its latency is gone) but lose nothing; these do.
  if (
    closeFailures.length > 0 ||
    short.length > 0 ||
    problems.errorAcks + problems.skipped + problems.producerErrors > 0
  )
    throw new Error(`fleet: fragments lost or errored: ${JSON.stringify(problems)}`)
  const best = headline ?? steps_[0]
  result({
    bench: 'fleet',
    fleet_streams: headline?.n ?? 0,
    fleet_p99_ms: best.p99,
    fleet_cpu_ms_per_stream_s: best.cpuMsPerStreamS,
    fleet_rss_kb_per_stream: best.rssKbPerStream,
    fleet_emulator_core_pct: best.serverCorePct,
    fleet_largest_step: steps_.at(-1).n,
    fleet_largest_step_p99_ms: steps_.at(-1).p99,
  })
}

// ── the clip ──────────────────────────────────────────────────────────────────────────────────────────

/** Makes the 1 Mbps clip once (ffmpeg, ~5 s) and returns its path. */
function ensureClip() {
  if (existsSync(clipPath)) return clipPath
  mkdirSync(cacheDir, { recursive: true })
  const args = [
    ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=10,noise=alls=12:allf=t'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '1M', '-maxrate', '1M', '-bufsize', '1M'],
    ...['-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-bf', '0', '-pix_fmt', 'yuv420p'],
    ...['-write_crc32', '0', '-cluster_time_limit', '900', '-cluster_size_limit', '4M'],
    ...['-f', 'matroska', `${clipPath}.tmp`],
  ]
  console.log(`fleet: generating the clip: ffmpeg ${args.join(' ')}`)
  execFileSync('ffmpeg', args, { stdio: 'inherit' })
  renameSync(`${clipPath}.tmp`, clipPath)
  return clipPath
}

/**
 * Splits the clip into a live header (EBML header, unknown-size Segment, Info and Tracks) and Clusters of one
 * GOP each (ffmpeg's muxer cuts by time, not at key frames, so the frames are regrouped here): each Cluster
 * as its frames (SimpleBlock elements, their relative timecodes rewritten for the new Cluster) with their
 * offsets in ms from the Cluster's timecode.
 */
function loadClip(path) {
  const bytes = readFileSync(path)
  let p = 0
  const ebml = readElement(bytes, p)
  p += ebml.end
  const segment = readElement(bytes, p)
  if (segment.id !== 0x18538067) throw new Error(`${path}: no Segment`)
  const segmentEnd = segment.size === null ? bytes.length : p + segment.end
  const headerParts = [
    bytes.subarray(0, ebml.end),
    Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  ]
  p += segment.headerLength
  let timecodeScale = 1_000_000
  /** Every SimpleBlock: its absolute timecode, whether it is a key frame, where its relative timecode is. */
  const blocks = []
  while (p < segmentEnd) {
    const element = readElement(bytes, p)
    if (element.size === null) throw new Error(`${path}: unknown-size element`)
    const bodyStart = p + element.headerLength
    const body = bytes.subarray(bodyStart, p + element.end)
    if (element.id === 0x1549a966) {
      for (let q = 0; q < body.length; ) {
        const child = readElement(body, q)
        if (child.id === 0x2ad7b1) timecodeScale = readUint(body, q + child.headerLength, child.size)
        q += child.end
      }
      headerParts.push(bytes.subarray(p, p + element.end))
    } else if (element.id === 0x1654ae6b) {
      headerParts.push(bytes.subarray(p, p + element.end))
    } else if (element.id === 0x1f43b675) {
      let timecode
      for (let q = 0; q < body.length; ) {
        const child = readElement(body, q)
        if (child.id === 0xe7) timecode = readUint(body, q + child.headerLength, child.size)
        else if (child.id === 0xa3) {
          if (timecode === undefined) throw new Error(`${path}: a SimpleBlock before the Cluster Timecode`)
          const block = q + child.headerLength
          const track = readVint(body, block, false)
          const at = block + track.length
          const relative = body.readInt16BE(at)
          blocks.push({
            timecode: timecode + relative,
            key: (body[at + 2] & 0x80) !== 0,
            element: body.subarray(q, q + child.end),
            relativeAt: at - q,
          })
        } else if (child.id === 0xa0) throw new Error(`${path}: BlockGroups are not expected in this clip`)
        q += child.end
      }
    }
    p += element.end
  }
  if (timecodeScale !== 1_000_000) throw new Error(`${path}: expected a 1 ms TimecodeScale`)
  if (!blocks[0]?.key) throw new Error(`${path}: does not start with a key frame`)
  const clusters = []
  const origin = blocks[0].timecode
  for (const block of blocks) {
    if (block.key) clusters.push({ timecode: block.timecode - origin, frames: [], bodyBytes: 0 })
    const cluster = clusters.at(-1)
    const offsetMs = block.timecode - origin - cluster.timecode
    const element = Buffer.from(block.element)
    element.writeInt16BE(offsetMs, block.relativeAt)
    cluster.frames.push({ offsetMs, bytes: element })
    cluster.bodyBytes += element.length
  }
  const steps = clusters.slice(1).map((c, i) => c.timecode - clusters[i].timecode)
  if (steps.some((s) => s !== 1000))
    throw new Error(`${path}: expected a key frame every 1000 ms, got ${steps.join(',')} ms`)
  return {
    header: Buffer.concat(headerParts),
    clusters,
    durationMs: clusters.length * 1000,
    frames: blocks.length,
    bytes: clusters.reduce((sum, c) => sum + c.bodyBytes, 0),
  }
}

/** Writes a Cluster ID, an 8-byte size and an 8-byte Timecode element; returns the bytes written. */
function writeClusterHead(target, bodyBytes, timecode) {
  target.set([0x1f, 0x43, 0xb6, 0x75], 0)
  const size = bodyBytes + 10
  target[4] = 0x01
  target.writeUIntBE(Math.floor(size / 2 ** 32), 5, 3)
  target.writeUInt32BE(size % 2 ** 32, 8)
  target[12] = 0xe7
  target[13] = 0x88
  target.writeBigUInt64BE(BigInt(timecode), 14)
  return CLUSTER_HEAD_BYTES
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────

function ms(value) {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : '> 2 s'
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}
