// Throughput and latency of @kvs-streams/transport's PutMedia (built packages) against the emulator on loopback.
// Usage: pnpm --filter @kvs-streams/transport... --filter @kvs-streams/emulator build && node bench/transport.mjs
//
// The servers (the emulator with in-memory storage, and a node:http server that discards request bodies) run
// in a child process, as a remote service would: the client gets one core, the servers the other.
//
// (1) put: one PutMedia of a ~200 MB MKV (bench/lib/media.mjs smallClusters: 188 clusters of ~1.06 MB) through
//     the full client pipeline, file read → chunker → putMedia → ack decoder, until the last ack; verified to
//     get RECEIVED and PERSISTED for every cluster. Floor: the same file read streamed as an undici request
//     body (chunked) to the discarding server. Alternating rounds after ~3 s of warm-up (printed; the first
//     file reads of a process run slower, see bench/lib/README.md), median of 5 each → put_vs_floor
//     (floor time / put time, so 1 means as fast as the floor), put_mb_s. Before every round, untimed, the
//     previous put's stream is deleted and the server process collects its garbage: with in-memory storage the
//     emulator would otherwise keep 200 MB more per put, and on this machine fresh memory costs ~2.5 ms per MB
//     to fault in (measured), which made later rounds slower and put the emulator's page faults, not the
//     client, on the critical path.
// (2) concurrent: 100 PutMedia sessions for 20 s at ~1 MB/s each: every 250 ms a ~250 KB fragment (a cluster
//     of fixtures/kvs-getmedia/clusters.mkv, padded with a Void element, Timecode advanced 2 s per fragment,
//     followed by an AWS_KINESISVIDEO_END_OF_FRAGMENT tag so the emulator can acknowledge it at once), written
//     as one write. Latency = time from that write() call to the fragment's RECEIVED ack (p50, p99), and
//     errors (ERROR acks, stream errors, missing acks) → concurrent_p99_ms, concurrent_p50_ms, concurrent_errors.
//     Every session is opened (signed, sent, answered 200) before the clock starts; (2) gets a fresh emulator.
//     The first second of every session is a warm-up, not in the result (its p99 is printed): in 1 of 4 runs
//     that second alone held ~370 of the 8,000 fragments over 50 ms (indices 0-3 of each session), which made
//     p99 a measure of start-up (102 ms) rather than of the steady state (35 ms in the same run). Sampled per
//     second, the start is when the emulator fills its 256 MiB budget with fresh memory: ~27,000 page faults
//     and 225-290 ms of kernel time a second for the first 2-3 s, then under 3,000 faults and 40-110 ms; the
//     seconds with p99 53-88 ms all fell in that window (2026-12-07).
// To show which side a cost is on, each phase prints the CPU time of the client and of the server process,
// and (2) also their event-loop delays, kernel time, page faults, preemptions and the load average: the
// machine is shared, and on 2 cores other jobs stall both processes (see the p99 against the loop delays).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
// `node bench/transport.mjs --sessions 10 --seconds 3` for a quick run of (2).
const { values: flags } = parseArgs({
  options: { serve: { type: 'boolean' }, sessions: { type: 'string' }, seconds: { type: 'string' } },
})
const sessions = Number(flags.sessions ?? 100)
const seconds = Number(flags.seconds ?? 20)
const fragmentsPerSecond = 4
const fragmentBytes = 250_000
const rounds = 5

if (flags.serve) await serve()
else await main()

/**
 * Child process: the emulator and the discarding server. Answers 'stats' with its CPU usage, event-loop delay
 * since the last 'stats' and memory; exits on 'stop'.
 */
async function serve() {
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  const { startEmulator, DEFAULT_CREDENTIALS } = await import('../packages/emulator/dist/index.js')
  const { collectGarbage } = await import('./lib/measure.mjs')
  const emulator = await startEmulator({
    port: 0,
    storage: 'memory',
    // (2) stores 100 MB/s: kept whole, 2 GB of fresh memory faulted in over 20 s made the emulator the
    // bottleneck (87 % of a core, 540,000 page faults). Held to 256 MiB, the oldest fragments go and their
    // memory is reused, as a long-running emulator would be run.
    maxMemoryBytes: 256 * 1024 * 1024,
    // Media time runs ahead of the wall clock in (2): timecodes advance 2 s per 250 ms.
    futureTimestampToleranceMs: 3_600_000,
  })
  const discard = createServer((request, response) => {
    request.on('data', () => {})
    request.on('end', () => response.end('ok'))
  })
  discard.keepAliveTimeout = 60_000
  discard.listen(0, '127.0.0.1')
  await once(discard, 'listening')
  process.on('message', async (message) => {
    if (message === 'gc') {
      collectGarbage()
      process.send({ gc: true })
    }
    if (message === 'stats') {
      process.send({
        stats: {
          cpu: process.cpuUsage(),
          loop: loopStats(loopDelay),
          memory: process.memoryUsage(),
          usage: process.resourceUsage(),
        },
      })
      loopDelay.reset()
    }
    if (message === 'stop') {
      discard.closeAllConnections()
      discard.close()
      await emulator.close()
      process.exit(0)
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send({
    emulatorUrl: emulator.url,
    discardUrl: `http://127.0.0.1:${discard.address().port}`,
    region: emulator.region,
    credentials: { ...DEFAULT_CREDENTIALS },
  })
}

async function main() {
  const require = createRequire(`${root}packages/transport/package.json`)
  const { Agent, request } = await import(pathToFileURL(require.resolve('undici')).href)
  const { CreateStreamCommand, DeleteStreamCommand, KinesisVideoClient } = await import(
    pathToFileURL(require.resolve('@aws-sdk/client-kinesis-video')).href
  )
  const { createDataEndpointResolver, putMedia } = await import('../packages/transport/dist/index.js')
  const { createClusterChunkerTransform } = await import('../packages/chunker/dist/node.js')
  const { createClusterChunker } = await import('../packages/chunker/dist/index.js')
  const { createAckDecoderTransform } = await import('../packages/acks/dist/node.js')
  const { createAckDecoder } = await import('../packages/acks/dist/index.js')
  const { createKvsSigner } = await import('../packages/signer/dist/index.js')
  const { compareRounds, formatMBs, mbPerSecond, peakRss, formatMiB, result } = await import(
    './lib/measure.mjs'
  )

  /** A fresh server child, a control-plane client on its emulator, a signer and a stream factory. */
  const startServers = async () => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const [servers] = await once(child, 'message')
    /** Sends `question` to the server process and resolves with the `question` field of its answer. */
    const ask = async (question) => {
      child.send(question)
      for (;;) {
        const [message] = await once(child, 'message')
        if (message[question]) return message[question]
      }
    }
    const client = new KinesisVideoClient({
      region: servers.region,
      credentials: servers.credentials,
      endpoint: servers.emulatorUrl,
    })
    const resolver = createDataEndpointResolver({ client })
    let streamCount = 0
    return {
      ...servers,
      signer: createKvsSigner({ region: servers.region, credentials: servers.credentials }),
      async newStream(retentionHours) {
        const streamName = `bench-${++streamCount}`
        const { StreamARN } = await client.send(
          new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: retentionHours }),
        )
        return { streamName, streamARN: StreamARN, endpoint: await resolver.resolve(streamName, 'PUT_MEDIA') }
      },
      /** Deletes a stream (freeing what the emulator stored for it) and collects the server's garbage. */
      async deleteStream(streamARN) {
        await client.send(new DeleteStreamCommand({ StreamARN: streamARN }))
        await ask('gc')
      },
      /** CPU usage, event-loop delay since the previous call, and memory of the server process. */
      stats: () => ask('stats'),
      async stop() {
        client.destroy()
        child.send('stop')
        await once(child, 'exit')
      },
    }
  }

  const file = await benchMedia(createClusterChunker)
  const fileBytes = statSync(file).size
  const clusterCount = countFragments(createClusterChunker, file)
  const clientLoop = monitorEventLoopDelay({ resolution: 5 })
  clientLoop.enable()

  // ── (1) one big PutMedia vs the undici floor ──
  console.log(
    `transport: put ${file} (${(fileBytes / 1e6).toFixed(1)} MB, ${clusterCount} clusters), ${rounds} rounds each`,
  )
  const put1 = await startServers()
  let putMbS
  let putVsFloor
  try {
    const floorAgent = new Agent()
    const floor = async () => {
      const response = await request(`${put1.discardUrl}/discard`, {
        method: 'POST',
        body: createReadStream(file),
        dispatcher: floorAgent,
      })
      await response.body.text()
      if (response.statusCode !== 200) throw new Error(`floor server answered ${response.statusCode}`)
    }
    /** The stream the next put writes, created before its round (untimed). */
    let next
    const checks = []
    /** The stream the last put wrote, deleted before the next round. */
    let written
    const put = async () => {
      const { streamName, streamARN, endpoint } = next
      next = undefined
      written = streamARN
      const counts = { RECEIVED: 0, PERSISTED: 0, ERROR: 0, other: 0 }
      await pipeline(
        createReadStream(file),
        createClusterChunkerTransform(),
        putMedia({ endpoint, streamName, signer: put1.signer, producerStartTimestamp: Date.now() - 120_000 }),
        createAckDecoderTransform(),
        new Writable({
          objectMode: true,
          write(event, _encoding, callback) {
            if (event.type === 'ack' && event.ack.eventType in counts) counts[event.ack.eventType]++
            else if (event.type !== 'ack') counts.other++
            callback()
          },
        }),
      )
      checks.push(counts)
    }
    const before = { client: process.cpuUsage(), server: (await put1.stats()).cpu }
    const beforeEach = async () => {
      if (written !== undefined) await put1.deleteStream(written)
      written = undefined
      next ??= await put1.newStream(24)
    }
    // The first file reads of a process run in a slower regime for ~3 s (bench/lib/README.md): warm up.
    const { baseline, candidate, warmup } = await compareRounds({ baseline: floor, candidate: put }, rounds, {
      beforeEach,
      warmupMs: 3000,
    })
    const after = { client: process.cpuUsage(), server: (await put1.stats()).cpu }
    await floorAgent.close()
    for (const counts of checks) {
      if (
        counts.RECEIVED !== clusterCount ||
        counts.PERSISTED !== clusterCount ||
        counts.ERROR + counts.other > 0
      ) {
        throw new Error(
          `put: expected ${clusterCount} RECEIVED and PERSISTED acks, got ${JSON.stringify(counts)}`,
        )
      }
    }
    putMbS = mbPerSecond(fileBytes, candidate.median)
    putVsFloor = baseline.median / candidate.median
    const samples = (rounds) => rounds.samples.map((ms) => ms.toFixed(0)).join(', ')
    console.log(
      `  floor (undici streaming body → discard): ${formatMBs(fileBytes, baseline.median)} (median ${baseline.median.toFixed(0)} ms; ${samples(baseline)})`,
    )
    console.log(
      `  putMedia (read → chunker → putMedia → acks): ${formatMBs(fileBytes, candidate.median)} (median ${candidate.median.toFixed(0)} ms; ${samples(candidate)})`,
    )
    console.log(
      `  warm-up, ${warmup.baseline.length} rounds of each (not in the result): floor ${warmup.baseline.map((ms) => ms.toFixed(0)).join(', ')} ms; putMedia ${warmup.candidate.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    )
    console.log(`  every put: ${clusterCount} RECEIVED + ${clusterCount} PERSISTED, no ERROR`)
    printCpu('  cpu over all rounds (warm-up included)', before, after)
  } finally {
    await put1.stop()
  }

  // ── (2) paced concurrent sessions, on a fresh emulator ──
  console.log(
    `transport: ${sessions} concurrent sessions × ${seconds} s after a 1 s warm-up, ${fragmentsPerSecond} fragments/s of ${fragmentBytes / 1000} KB each`,
  )
  const put2 = await startServers()
  try {
    const { header, fragments, endOfFragment } = fragmentTemplates(createClusterChunker)
    const targets = await Promise.all(Array.from({ length: sessions }, () => put2.newStream(1)))
    const latencies = []
    const warmupLatencies = []
    const errors = []
    let fragmentsSent = 0
    const interval = 1000 / fragmentsPerSecond
    const warmupFragments = fragmentsPerSecond
    const perSession = seconds * fragmentsPerSecond + warmupFragments
    // Every session is opened (request signed, sent with the MKV header, 200 received) before the clock starts.
    const opened = targets.map(({ streamName, endpoint }) => {
      const sent = new Map()
      const duplex = putMedia({
        endpoint,
        streamName,
        signer: put2.signer,
        producerStartTimestamp: Date.now() - 600_000,
      })
      const decoder = createAckDecoder()
      duplex.on('data', (chunk) => {
        for (const event of decoder.push(chunk)) {
          if (event.type !== 'ack') errors.push(`${streamName}: ${event.error.message}`)
          else if (event.ack.eventType === 'RECEIVED') {
            const sentAt = sent.get(event.ack.fragmentTimecode)
            if (sentAt !== undefined) {
              const into = event.ack.fragmentTimecode < warmupFragments * 2000 ? warmupLatencies : latencies
              into.push(performance.now() - sentAt)
            }
            sent.delete(event.ack.fragmentTimecode)
          } else if (event.ack.eventType === 'ERROR') {
            errors.push(`${streamName}: ERROR ack ${event.ack.errorId} ${event.ack.errorCode}`)
          }
        }
      })
      const finished = new Promise((resolve) => {
        duplex.on('end', resolve)
        duplex.on('error', (error) => {
          errors.push(`${streamName}: ${error.name} ${error.message}`)
          resolve()
        })
      })
      const responded = new Promise((resolve) => {
        duplex.once('response', resolve)
        duplex.once('error', resolve)
      })
      duplex.write(header)
      return { streamName, duplex, sent, finished, responded }
    })
    const openStart = performance.now()
    await Promise.all(opened.map((session) => session.responded))
    console.log(`  ${sessions} sessions opened in ${(performance.now() - openStart).toFixed(0)} ms`)
    const serverBefore = await put2.stats()
    const before = { client: process.cpuUsage(), server: serverBefore.cpu }
    const clientUsageBefore = process.resourceUsage()
    clientLoop.reset()
    const start = performance.now() + 50
    const runSession = async ({ streamName, duplex, sent, finished }, sessionIndex) => {
      const offset = (sessionIndex / sessions) * interval
      for (let index = 0; index < perSession && !duplex.destroyed; index++) {
        const wait = start + offset + index * interval - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        const timecode = index * 2000
        const bytes = fragmentWithTimecode(fragments[index % fragments.length], timecode, endOfFragment)
        sent.set(timecode, performance.now())
        duplex.write(bytes)
        fragmentsSent++
      }
      duplex.end()
      await finished
      for (const timecode of sent.keys()) errors.push(`${streamName}: no RECEIVED for timecode ${timecode}`)
    }
    await Promise.all(opened.map(runSession))
    const elapsed = (performance.now() - start) / 1000
    const measuredFragments = fragmentsSent - warmupFragments * sessions
    const serverStats = await put2.stats()
    const after = { client: process.cpuUsage(), server: serverStats.cpu }
    latencies.sort((a, b) => a - b)
    warmupLatencies.sort((a, b) => a - b)
    const quantileOf = (sorted, q) =>
      sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    const quantile = (q) => quantileOf(latencies, q)
    const p50 = quantile(0.5)
    const p99 = quantile(0.99)
    console.log(
      `  ${fragmentsSent} fragments sent (${((fragmentsSent * fragmentBytes) / 1e6 / elapsed).toFixed(1)} MB/s over ${elapsed.toFixed(1)} s), ${latencies.length} RECEIVED measured of ${measuredFragments} after the warm-up second`,
    )
    console.log(
      `  warm-up second (not in the result): ${warmupLatencies.length} RECEIVED, p99 ${quantileOf(warmupLatencies, 0.99).toFixed(1)} ms, max ${warmupLatencies.at(-1)?.toFixed(1)} ms`,
    )
    console.log(
      `  write → RECEIVED: p50 ${p50.toFixed(1)} ms, p90 ${quantile(0.9).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
    )
    console.log(
      `  errors: ${errors.length}${errors.length > 0 ? ` (first: ${errors.slice(0, 3).join('; ')})` : ''}`,
    )
    printCpu('  cpu', before, after, elapsed)
    const delta = (a, b) => ({
      systemMs: (b.systemCPUTime - a.systemCPUTime) / 1000,
      faults: b.minorPageFault - a.minorPageFault,
      preempted: b.involuntaryContextSwitches - a.involuntaryContextSwitches,
    })
    const clientUsage = delta(clientUsageBefore, process.resourceUsage())
    const serverUsage = delta(serverBefore.usage, serverStats.usage)
    console.log(
      `  kernel time / page faults / preemptions: client ${clientUsage.systemMs.toFixed(0)} ms / ${clientUsage.faults} / ${clientUsage.preempted}, emulator ${serverUsage.systemMs.toFixed(0)} ms / ${serverUsage.faults} / ${serverUsage.preempted}; load average ${loadavg()[0].toFixed(1)}`,
    )
    const clientLoopStats = loopStats(clientLoop)
    console.log(
      `  event-loop delay p99 / max: client ${clientLoopStats.p99} / ${clientLoopStats.max} ms, emulator ${serverStats.loop.p99} / ${serverStats.loop.max} ms; emulator holds ${(serverStats.memory.arrayBuffers / 1e6).toFixed(0)} MB of fragments`,
    )
    console.log(`transport: peak RSS (client) ${formatMiB(peakRss())}`)
    console.log(`concurrent_p50_ms=${p50.toFixed(1)} concurrent_errors=${errors.length}`)
    result({
      bench: 'transport',
      put_vs_floor: putVsFloor,
      put_mb_s: putMbS,
      concurrent_p99_ms: p99,
    })
  } finally {
    await put2.stop()
  }
}

/** p50, p99 and max of an event-loop delay histogram, in ms. */
function loopStats(histogram) {
  const ms = (ns) => Number((ns / 1e6).toFixed(1))
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }
}

function printCpu(label, before, after, wallSeconds) {
  const seconds = (from, to) => (to.user - from.user + to.system - from.system) / 1e6
  const client = seconds(before.client, after.client)
  const server = seconds(before.server, after.server)
  const share =
    wallSeconds === undefined
      ? ''
      : ` (${((client / wallSeconds) * 100).toFixed(0)} % / ${((server / wallSeconds) * 100).toFixed(0)} % of a core)`
  console.log(`${label}: client ${client.toFixed(2)} s, servers ${server.toFixed(2)} s${share}`)
}

/** The ~200 MB input: bench/lib/media.mjs's smallClusters when it can be made, else clusters.mkv repeated. */
async function benchMedia(createClusterChunker) {
  const mediaLib = `${root}bench/lib/media.mjs`
  if (existsSync(mediaLib)) {
    try {
      const { ensureBenchMedia } = await import(pathToFileURL(mediaLib).href)
      return (await ensureBenchMedia()).smallClusters
    } catch (error) {
      console.log(
        `transport: bench/lib/media.mjs unavailable (${error.message}); repeating clusters.mkv instead`,
      )
    }
  }
  const path = `${root}bench/.cache/transport-clusters-200mb.mkv`
  if (existsSync(path) && statSync(path).size > 190e6) return path
  mkdirSync(`${root}bench/.cache`, { recursive: true })
  const { header, fragments, span } = fixtureFragments(createClusterChunker)
  const pieces = [header]
  let bytes = header.length
  for (let round = 0; bytes < 200e6; round++) {
    for (const fragment of fragments) {
      const cluster = retimeCluster(fragment.bytes, fragment.timecode + round * span, 0)
      pieces.push(cluster)
      bytes += cluster.length
    }
  }
  writeFileSync(path, Buffer.concat(pieces))
  return path
}

function countFragments(createClusterChunker, file) {
  const chunker = createClusterChunker()
  let count = 0
  const bytes = readFileSync(file)
  for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
    for (const event of chunker.push(bytes.subarray(offset, offset + (1 << 20))))
      if (event.type === 'fragment') count++
  }
  for (const event of chunker.end()) if (event.type === 'fragment') count++
  return count
}

/** clusters.mkv's header and fragments (each as one copied byte array). */
function fixtureFragments(createClusterChunker) {
  const chunker = createClusterChunker()
  const input = new Uint8Array(readFileSync(`${root}fixtures/kvs-getmedia/clusters.mkv`))
  const events = [...chunker.push(input), ...chunker.end()]
  const header = events.find((event) => event.type === 'header').bytes
  const fragments = events
    .filter((event) => event.type === 'fragment')
    .map((event) => ({ timecode: event.timecode, bytes: Buffer.concat(event.parts) }))
  return { header, fragments, span: fragments.at(-1).timecode + 2000 }
}

/** Templates for (2): the header, clusters padded to 250 KB with their Tags, and the end-of-fragment Tags. */
function fragmentTemplates(createClusterChunker) {
  const { header, fragments } = fixtureFragments(createClusterChunker)
  const endOfFragment = endOfFragmentTags()
  return {
    header,
    endOfFragment,
    fragments: fragments.map((fragment) =>
      retimeCluster(fragment.bytes, 0, fragmentBytes - endOfFragment.length),
    ),
  }
}

/** A copy of a padded template with its 8-byte Timecode (at byte 14) set, followed by the EoFR tag. */
function fragmentWithTimecode(template, timecode, endOfFragment) {
  const bytes = Buffer.allocUnsafe(template.length + endOfFragment.length)
  template.copy(bytes, 0)
  bytes.writeBigUInt64BE(BigInt(timecode), 14)
  endOfFragment.copy(bytes, template.length)
  return bytes
}

/**
 * A Cluster re-encoded as ID + 8-byte size + 8-byte Timecode + its other children, padded with a Void element
 * to `totalBytes` when that is larger.
 */
function retimeCluster(cluster, timecode, totalBytes) {
  const children = []
  let offset = 4 + vintLength(cluster[4])
  while (offset < cluster.length) {
    const idLength = vintLength(cluster[offset])
    const sizeOffset = offset + idLength
    const sizeLength = vintLength(cluster[sizeOffset])
    const end = sizeOffset + sizeLength + readVint(cluster, sizeOffset, sizeLength)
    if (!(idLength === 1 && cluster[offset] === 0xe7)) children.push(cluster.subarray(offset, end))
    offset = end
  }
  const timecodeElement = Buffer.alloc(10)
  timecodeElement[0] = 0xe7
  timecodeElement[1] = 0x88
  timecodeElement.writeBigUInt64BE(BigInt(timecode), 2)
  let size = timecodeElement.length + children.reduce((total, child) => total + child.length, 0)
  const padding = totalBytes - 12 - size
  if (padding >= 9) {
    const voidElement = Buffer.alloc(padding)
    voidElement[0] = 0xec
    voidElement[1] = 0x01
    voidElement.writeUIntBE(padding - 9, 3, 6)
    children.push(voidElement)
    size += padding
  }
  const head = Buffer.alloc(12)
  head.writeUInt32BE(0x1f43b675, 0)
  head[4] = 0x01
  head.writeUIntBE(size, 6, 6)
  return Buffer.concat([head, timecodeElement, ...children])
}

/** Tags { Tag { SimpleTag { TagName AWS_KINESISVIDEO_END_OF_FRAGMENT, TagString "" } } }. */
function endOfFragmentTags() {
  const element = (id, payload) =>
    Buffer.concat([Buffer.from(id), Buffer.from([0x80 | payload.length]), payload])
  const name = element([0x45, 0xa3], Buffer.from('AWS_KINESISVIDEO_END_OF_FRAGMENT'))
  const value = element([0x44, 0x87], Buffer.alloc(0))
  const simpleTag = element([0x67, 0xc8], Buffer.concat([name, value]))
  const tag = element([0x73, 0x73], simpleTag)
  return element([0x12, 0x54, 0xc3, 0x67], tag)
}

function vintLength(first) {
  let length = 1
  while (length <= 8 && (first & (0x80 >> (length - 1))) === 0) length++
  return length
}

function readVint(bytes, offset, length) {
  let value = bytes[offset] & (0xff >> length)
  for (let index = 1; index < length; index++) value = value * 256 + bytes[offset + index]
  return value
}
