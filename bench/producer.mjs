// Overhead of @kvs-streams/producer (built packages) against the bare pipeline it is made of.
// Usage: pnpm --filter @kvs-streams/producer... --filter @kvs-streams/emulator build && node bench/producer.mjs
//
// Both put the same ~200 MB MKV (bench/lib/media.mjs smallClusters: 188 clusters of ~1.06 MB) into the emulator
// (in-memory storage, loopback, in a child process so the client has a core to itself) and wait for the PERSISTED
// ack of every cluster:
//   pipeline: file read → chunker → transport.putMedia → ack decoder (as examples/put-file does);
//   producer: file read → createProducer().writable (defaults: 64 MiB replay buffer, an end-of-fragment tag after
//             each fragment, DescribeStream + GetDataEndpoint per producer, on the pipeline's control-plane client).
// Warm-up pairs for ~3 s (the first file reads of a process run slower, see bench/lib/README.md), then 21
// rounds, each running both variants back to back, alternating which goes first (ABBA), each on a new stream
// that is deleted (and the emulator's heap collected) before the next round, outside the timing; the emulator
// keeps at most 256 MiB of fragments (maxMemoryBytes). producer_vs_pipeline = the median over rounds of
// pipeline time / producer time in that round (1 means no overhead; the goal is >= 0.9): pairing cancels the
// machine's drift. On this 2-core VM the client's CPU for the same round swings 500–820 ms for either variant
// (wall time follows it), so single ratios spread 0.7–1.4: 21 rounds keep the median's own spread near ±4 %
// (9 rounds gave 0.80–1.03 on a quiet machine). The client's CPU and GC pauses per round are printed for both:
// they are what the producer adds. Every round is
// checked: 188 PERSISTED, nothing else.
//
// Then the same comparison with the file's bytes already in memory (read once, fed as 64 KiB views of one
// buffer, so the source allocates nothing): producer_vs_pipeline_memory_source, the producer's own overhead.
// With the file source most of each variant's client CPU is not theirs: fs.ReadStream allocates a new 64 KiB
// buffer per read, 200 MB of external memory per round, and V8 runs a mark-compact every ~20-30 MB of it
// (OldGenerationSpaceAvailable counts external memory allocated since the last mark-compact). How many a
// round gets depends on V8's scheduling (how often scavenges free the young buffers first) and on what each
// variant keeps alive: the pipeline ~7, the producer ~8 since it stopped holding acknowledged fragments'
// records (~10 before; issue 17's notes).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { PerformanceObserver } from 'node:perf_hooks'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { collectGarbage } from './lib/measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const rounds = 21
const memoryRounds = 21

if (process.argv[2] === '--serve') await serve()
else await main()

/** Child process: the emulator; exits on 'stop' or when the parent goes away. */
async function serve() {
  const { startEmulator, DEFAULT_CREDENTIALS } = await import('../packages/emulator/dist/index.js')
  // Held to 256 MiB: the oldest fragments go and their memory is reused instead of 200 MB of fresh memory
  // faulted in per round (the emulator's page faults were on both variants' critical path, and varied).
  const emulator = await startEmulator({ port: 0, storage: 'memory', maxMemoryBytes: 256 * 1024 * 1024 })
  process.on('message', async (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() })
    if (message === 'gc') {
      collectGarbage()
      process.send({ gc: true })
    }
    if (message === 'stop') {
      await emulator.close()
      process.exit(0)
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send({ url: emulator.url, region: emulator.region, credentials: { ...DEFAULT_CREDENTIALS } })
}

async function main() {
  const require = createRequire(`${root}packages/producer/package.json`)
  const { CreateStreamCommand, DeleteStreamCommand, KinesisVideoClient } = await import(
    pathToFileURL(require.resolve('@aws-sdk/client-kinesis-video')).href
  )
  const { createProducer } = await import('../packages/producer/dist/index.js')
  const { createDataEndpointResolver, putMedia } = await import('../packages/transport/dist/index.js')
  const { createClusterChunkerTransform } = await import('../packages/chunker/dist/node.js')
  const { createAckDecoderTransform } = await import('../packages/acks/dist/node.js')
  const { createKvsSigner } = await import('../packages/signer/dist/index.js')
  const { ensureBenchMedia, formatMBs, formatMiB, median, peakRss, scanClusters } = await import(
    './lib/media.mjs'
  )

  const { smallClusters: file } = await ensureBenchMedia()
  const fileBytes = statSync(file).size
  const clusterCount = scanClusters(file).clusters

  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--expose-gc'],
  })
  const [server] = await once(child, 'message')
  const ask = async (question, key) => {
    child.send(question)
    for (;;) {
      const [message] = await once(child, 'message')
      if (message[key]) return message[key]
    }
  }
  const serverCpu = () => ask('cpu', 'cpu')
  const client = new KinesisVideoClient({
    region: server.region,
    credentials: server.credentials,
    endpoint: server.url,
  })
  const signer = createKvsSigner({ region: server.region, credentials: server.credentials })
  const resolver = createDataEndpointResolver({ client })
  let streamCount = 0
  /** The stream of the round being run, created just before it and deleted after it. */
  let current
  const newStream = async () => {
    const streamName = `bench-producer-${process.pid}-${++streamCount}`
    const { StreamARN } = await client.send(
      new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }),
    )
    current = { streamName, StreamARN }
  }
  const deleteStream = async () => {
    await client.send(new DeleteStreamCommand({ StreamARN: current.StreamARN }))
    await ask('gc', 'gc')
    collectGarbage()
  }
  const producerStartTimestamp = Date.now() - 120_000
  const checks = []
  /** The source of the rounds being run: the file, or its bytes held in memory (no allocation per chunk). */
  let inMemory
  const source = () => {
    if (inMemory === undefined) return createReadStream(file)
    const views = []
    for (let offset = 0; offset < inMemory.byteLength; offset += 65536)
      views.push(inMemory.subarray(offset, Math.min(offset + 65536, inMemory.byteLength)))
    return Readable.from(views, { objectMode: false })
  }

  const viaPipeline = async () => {
    const { streamName } = current
    const endpoint = await resolver.resolve(streamName, 'PUT_MEDIA')
    const counts = { PERSISTED: 0, ERROR: 0, other: 0 }
    await pipeline(
      source(),
      createClusterChunkerTransform(),
      putMedia({ endpoint, streamName, signer, producerStartTimestamp }),
      createAckDecoderTransform(),
      new Writable({
        objectMode: true,
        write(event, _encoding, callback) {
          if (event.type !== 'ack') counts.other++
          else if (event.ack.eventType === 'PERSISTED') counts.PERSISTED++
          else if (event.ack.eventType === 'ERROR') counts.ERROR++
          callback()
        },
      }),
    )
    checks.push({ variant: 'pipeline', ...counts })
  }

  const viaProducer = async () => {
    const { streamName } = current
    const producer = createProducer({
      streamName,
      region: server.region,
      credentials: server.credentials,
      // The control-plane client the pipeline also uses (DescribeStream and GetDataEndpoint still run per round).
      client,
      fragmentTimecodeType: 'RELATIVE',
      producerStartTimestamp,
      statsIntervalMs: 0,
    })
    await pipeline(source(), producer.writable)
    const stats = producer.stats()
    checks.push({
      variant: 'producer',
      PERSISTED: stats.fragments.persisted,
      ERROR: stats.reconnects,
      other: stats.fragments.resent + stats.fragments.skipped,
      p50: stats.ackLatencyMs.persisted.p50,
      p99: stats.ackLatencyMs.persisted.p99,
    })
  }

  console.log(
    `producer: put ${file} (${(fileBytes / 1e6).toFixed(1)} MB, ${clusterCount} clusters) into the emulator, ${rounds} rounds each`,
  )
  const variants = { pipeline: viaPipeline, producer: viaProducer }
  /** What the measured rounds of one source gave, per variant. */
  const newRecord = () => ({
    times: { pipeline: [], producer: [] },
    /** Client CPU (user + system, ms) of each measured round: where the producer's own cost shows. */
    cpu: { pipeline: [], producer: [] },
    /** The client's GC pauses per round (ms, and how many were full mark-compacts). */
    gc: { pipeline: [], producer: [] },
    major: { pipeline: [], producer: [] },
  })
  let gcMs = 0
  let gcMajorCount = 0
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      if (entry.detail?.kind === 4) gcMajorCount++ // NODE_PERFORMANCE_GC_MAJOR
    }
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  /** Runs one variant on a new stream; `record` undefined: a warm-up round. */
  const run = async (name, record) => {
    await newStream()
    const cpuStart = process.cpuUsage()
    const started = performance.now()
    gcMs = 0
    gcMajorCount = 0
    await variants[name]()
    if (record !== undefined) {
      record.times[name].push(performance.now() - started)
      const { user, system } = process.cpuUsage(cpuStart)
      record.cpu[name].push((user + system) / 1000)
      record.gc[name].push(gcMs)
      record.major[name].push(gcMajorCount)
    }
    await deleteStream()
  }
  // `node bench/producer.mjs --only producer` (or pipeline) runs one variant, e.g. under --cpu-prof.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
  if (only !== undefined && !(only in variants))
    throw new Error(`--only takes pipeline or producer, got ${only}`)
  const names = only === undefined ? ['pipeline', 'producer'] : [only]
  /** Warm-up pairs for at least `warmupMs`, then `count` measured pairs alternating which variant goes first. */
  const measure = async (count, warmupMs) => {
    const warmupStart = performance.now()
    let warmups = 0
    do {
      for (const name of names) await run(name, undefined)
      warmups++
    } while (performance.now() - warmupStart < warmupMs)
    const record = newRecord()
    for (let round = 0; round < count; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) await run(name, record)
    }
    return { record, warmups }
  }
  const before = { client: process.cpuUsage(), server: await serverCpu() }
  // The first file reads of a process run in a slower regime for ~3 s (bench/lib/README.md): warm up.
  const fromFile = await measure(rounds, 3000)
  if (only !== undefined) {
    const { record } = fromFile
    console.log(
      `  ${only}: median ${median(record.times[only]).toFixed(0)} ms, client cpu ${median(record.cpu[only]).toFixed(0)} ms, GC pauses ${median(record.gc[only]).toFixed(0)} ms (${median(record.major[only])} major)`,
    )
    client.destroy()
    child.send('stop')
    return
  }
  const afterFile = { client: process.cpuUsage(), server: await serverCpu() }
  inMemory = readFileSync(file)
  const fromMemory = await measure(memoryRounds, 1000)
  inMemory = undefined
  client.destroy()
  child.send('stop')
  gcObserver.disconnect()

  for (const check of checks) {
    if (check.PERSISTED !== clusterCount || check.ERROR + check.other > 0) {
      throw new Error(
        `${check.variant}: expected ${clusterCount} PERSISTED and nothing else, got ${JSON.stringify(check)}`,
      )
    }
  }
  /** Prints one source's figures; returns the median over rounds of pipeline time / producer time. */
  const report = (label, { times, cpu, gc, major }) => {
    const baseline = median(times.pipeline)
    const candidate = median(times.producer)
    const samples = (list) => list.map((ms) => ms.toFixed(0)).join(', ')
    console.log(`  ${label}:`)
    console.log(
      `    pipeline (read → chunker → putMedia → acks): ${formatMBs(fileBytes, baseline)} (median ${baseline.toFixed(0)} ms; ${samples(times.pipeline)})`,
    )
    console.log(
      `    producer (read → producer.writable):         ${formatMBs(fileBytes, candidate)} (median ${candidate.toFixed(0)} ms; ${samples(times.producer)})`,
    )
    console.log(
      `    client cpu per round (median): pipeline ${median(cpu.pipeline).toFixed(0)} ms, producer ${median(cpu.producer).toFixed(0)} ms; GC pauses pipeline ${median(gc.pipeline).toFixed(0)} ms (${median(major.pipeline)} major), producer ${median(gc.producer).toFixed(0)} ms (${median(major.producer)} major)`,
    )
    // Each round runs both variants back to back: its ratio is measured under the same machine conditions,
    // and the median of the rounds' ratios is the result (the ratio of the two medians, printed too, mixes
    // rounds).
    const ratios = times.pipeline.map((ms, round) => ms / times.producer[round])
    console.log(
      `    pipeline / producer per round: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}; ratio of the medians ${(baseline / candidate).toFixed(3)}`,
    )
    return median(ratios)
  }
  const fileRatio = report(`from the file (fs.createReadStream), ${rounds} rounds`, fromFile.record)
  const memoryRatio = report(
    `from memory (64 KiB views of one buffer: no allocation per chunk), ${memoryRounds} rounds`,
    fromMemory.record,
  )
  const latencies = checks.filter((check) => check.variant === 'producer').at(-1)
  console.log(
    `  producer PERSISTED latency (written → ack), last round: p50 ${latencies.p50} ms, p99 ${latencies.p99} ms`,
  )
  const cpu = (from, to) => ((to.user - from.user + to.system - from.system) / 1000).toFixed(0)
  console.log(
    `  cpu over the file rounds (${fromFile.warmups} warm-up pairs included): client ${cpu(before.client, afterFile.client)} ms, emulator ${cpu(before.server, afterFile.server)} ms`,
  )
  console.log(
    `  every round: ${clusterCount} PERSISTED, no ERROR, no resend; peak RSS ${formatMiB(peakRss())}`,
  )
  console.log(
    `RESULT producer_vs_pipeline=${fileRatio.toFixed(3)} producer_vs_pipeline_memory_source=${memoryRatio.toFixed(3)}`,
  )
}
