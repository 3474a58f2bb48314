// The README demo: puts a sample video into Kinesis Video Streams, reads it back with GetMedia, and checks
// that every cluster came back byte for byte.
//   pnpm demo                          an emulator embedded in this process: no AWS account, nothing to install
//   pnpm demo -- --region us-west-2    the same against AWS (creates kvs-streams-demo-<random>, deletes it after)
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video'
import {
  GetHLSStreamingSessionURLCommand,
  KinesisVideoArchivedMediaClient,
} from '@aws-sdk/client-kinesis-video-archived-media'
import {
  createProgressRenderer,
  explainError,
  formatBytes,
  formatDuration,
  formatInteger,
  formatTable,
  type OutputStream,
  progressSnapshot,
} from '@kvs-streams/cli'
import { concatBytes } from '@kvs-streams/core'
import { createProducer } from '@kvs-streams/producer'
import { createKvsSigner } from '@kvs-streams/signer'
import { clusterElements, inputClusters, sameBytes } from './clusters.ts'
import { readBack } from './read-back.ts'
import { type DemoTarget, openTarget } from './target.ts'

/** The bundled sample: 8 clusters of H.264 (640x480, ~2 s each), found from src/ and dist/ alike. */
export const defaultInput = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

export interface DemoOptions {
  /** MKV file to send. Default: the bundled sample. */
  input?: string
  /** Where to write what GetMedia returns. Default: `demo-output.mkv` in a new temporary directory. */
  output?: string
  /** Run against AWS in this region instead of the embedded emulator. */
  region?: string
  /** AWS profile for the credentials (with `region`). */
  profile?: string
  /** Keep the AWS stream instead of deleting it at the end. */
  keep?: boolean
  /** Receives the report lines. Default `console.log`. */
  print?: (line: string) => void
  /** Where the progress display is drawn. Default `process.stderr`. */
  progressOutput?: OutputStream
  /**
   * With the embedded emulator: keep it (and the printed console and HLS URLs) up until this settles, after
   * the report. Default: the emulator stops when the demo ends.
   */
  serveUntil?: Promise<void>
}

/** One row of the fragment table. */
export interface DemoFragment {
  index: number
  fragmentNumber: string | undefined
  producerTimestampMs: number | undefined
  serverTimestampMs: number | undefined
  /** From the producer accepting the fragment to its PERSISTED acknowledgement, ms. */
  ackLatencyMs: number | undefined
  /** Bytes of the Cluster. */
  bytes: number
  /** Whether the Cluster read back is byte-identical to the one sent. */
  identical: boolean
}

export interface DemoResult {
  target: 'emulator' | 'aws'
  streamName: string
  /** Where the GetMedia output was written. */
  output: string
  /** Clusters in the input. */
  sent: number
  /** Fragments read back. */
  received: number
  fragments: DemoFragment[]
  /** Every cluster came back, and each is byte-identical to the one sent. */
  identical: boolean
  /** An ON_DEMAND HLS session of what was put (valid for an hour; on the emulator, while it runs). */
  hlsUrl: string
  /** Media segments in that session's media playlist, as the demo read it. */
  hlsSegments: number
  /** The emulator's console page; undefined on AWS. */
  consoleUrl: string | undefined
}

/**
 * Asks for an ON_DEMAND HLS session of the range put (the archived-media API, as any player would), then
 * reads its master and media playlists and its first segment to check it plays; answers the URL and the
 * number of media segments listed.
 */
async function hlsSession(
  client: KinesisVideoClient,
  target: DemoTarget,
  streamName: string,
  startMs: number,
  endMs: number,
): Promise<{ url: string; segments: number }> {
  const { DataEndpoint } = await client.send(
    new GetDataEndpointCommand({ StreamName: streamName, APIName: 'GET_HLS_STREAMING_SESSION_URL' }),
  )
  const media = new KinesisVideoArchivedMediaClient({
    region: target.region,
    credentials: target.credentials,
    endpoint: DataEndpoint!,
  })
  try {
    const { HLSStreamingSessionURL: url } = await media.send(
      new GetHLSStreamingSessionURLCommand({
        StreamName: streamName,
        PlaybackMode: 'ON_DEMAND',
        HLSFragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: { StartTimestamp: new Date(startMs - 1000), EndTimestamp: new Date(endMs + 1000) },
        },
        Expires: 3600,
      }),
    )
    const fetchText = async (address: string) => {
      const response = await fetch(address)
      if (!response.ok) throw new Error(`HLS: ${address} answered ${response.status}`)
      return response.text()
    }
    const uris = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
    const playlist = uris(await fetchText(url!))[0]
    if (playlist === undefined) throw new Error('HLS: the master playlist lists no media playlist')
    const playlistUrl = new URL(playlist, url!).href
    const segments = uris(await fetchText(playlistUrl))
    if (segments[0] !== undefined) {
      const first = await fetch(new URL(segments[0], playlistUrl))
      if (!first.ok || first.headers.get('content-type') !== 'video/mp4')
        throw new Error(`HLS: the first media segment answered ${first.status}`)
      await first.arrayBuffer()
    }
    return { url: url!, segments: segments.length }
  } finally {
    media.destroy()
  }
}

const time = (epochMs: number | undefined): string =>
  epochMs === undefined ? '-' : new Date(epochMs).toISOString().slice(11, 23)
const shortNumber = (value: string | undefined): string =>
  value === undefined ? '-' : value.length > 24 ? `${value.slice(0, 10)}…${value.slice(-12)}` : value

/** Runs the demo and resolves with what it found. Throws when a step fails (an AWS error, a refused put…). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line))
  const input = options.input ?? defaultInput
  const output = options.output ?? join(await mkdtemp(join(tmpdir(), 'kvs-streams-demo-')), 'demo-output.mkv')
  const inputBytes = new Uint8Array(await readFile(input))
  const clusters = inputClusters(inputBytes)

  const target = await openTarget({ region: options.region, profile: options.profile })
  const { streamName } = target
  const client = new KinesisVideoClient({
    region: target.region,
    credentials: target.credentials,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
  })
  let created = false
  try {
    print(`kvs-streams demo: ${target.description}`)
    await client.send(
      new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24, MediaType: 'video/h264' }),
    )
    created = true
    for (let delay = 250; ; delay = Math.min(2000, delay * 2)) {
      const { StreamInfo } = await client.send(new DescribeStreamCommand({ StreamName: streamName }))
      if (StreamInfo?.Status === 'ACTIVE') break
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
    print(`1. created stream ${streamName} (retention 24 h)`)

    // 2. Put the file through the producer, with the CLI's progress display.
    print(
      `2. putting ${basename(input)} (${formatBytes(inputBytes.byteLength)}, ${clusters.length} clusters) with PutMedia`,
    )
    const latencies = new Map<number, number>()
    const progress = createProgressRenderer({ output: options.progressOutput ?? process.stderr })
    const producerStartMs = Date.now() - Math.ceil(Math.max(0, ...clusters.map((cluster) => cluster.endMs)))
    const producer = createProducer({
      streamName,
      region: target.region,
      credentials: target.credentials,
      ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
      fragmentTimecodeType: 'RELATIVE',
      // Dated so that the sample's last frame ends now: KVS refuses producer timestamps in the future, and the
      // 16 s sample is sent in well under a second.
      producerStartTimestamp: producerStartMs,
      acknowledgeOn: 'PERSISTED',
      copyInput: false,
      statsIntervalMs: 100,
    })
    const bytesTotal = (await stat(input)).size
    producer.on('stats', ({ stats }) =>
      progress.update(progressSnapshot(stats, streamName, { bytesRead: bytesTotal, bytesTotal })),
    )
    producer.on('fragment-acknowledged', (event) => latencies.set(event.fragment.index, event.latencyMs))
    const started = Date.now()
    await pipeline(createReadStream(input), producer.writable)
    const stats = await producer.close()
    progress.done(progressSnapshot(stats, streamName, { bytesRead: bytesTotal, bytesTotal }))
    print(
      `   ${stats.fragments.persisted} of ${stats.fragments.accepted} fragments persisted in ${formatDuration(Date.now() - started)}`,
    )

    // 3. Read it back from the earliest fragment with GetMedia; each fragment is a playable MKV document.
    print('3. reading it back with GetMedia from EARLIEST')
    const signer = createKvsSigner({ region: target.region, credentials: target.credentials })
    const fragments = await readBack({
      client,
      signer,
      streamName,
      fragments: stats.fragments.accepted,
      idleTimeoutMs: target.kind === 'aws' ? 20_000 : 5_000,
    })
    await writeFile(output, concatBytes(fragments.flatMap((fragment) => fragment.parts)))
    print(
      `   ${fragments.length} fragments, ${formatBytes(fragments.reduce((sum, fragment) => sum + fragment.byteLength, 0))} written to ${output}`,
    )

    // 4. Compare cluster by cluster: the file written, parsed again, against the input.
    const returned = clusterElements(new Uint8Array(await readFile(output)))
    const rows: DemoFragment[] = clusters.map((cluster, index) => {
      const fragment = fragments[index]
      const back = returned[index]
      return {
        index,
        fragmentNumber: fragment?.fragmentNumber,
        producerTimestampMs: fragment?.producerTimestampMs,
        serverTimestampMs: fragment?.serverTimestampMs,
        ackLatencyMs: latencies.get(cluster.index),
        bytes: cluster.bytes.byteLength,
        identical: back !== undefined && sameBytes(back, cluster.bytes),
      }
    })
    const identical =
      rows.length > 0 && returned.length === clusters.length && rows.every((row) => row.identical)
    print('')
    for (const line of formatTable([
      ['#', 'fragment number', 'producer time', 'server time', 'ack latency', 'bytes', 'identical'],
      ...rows.map((row) => [
        String(row.index),
        shortNumber(row.fragmentNumber),
        time(row.producerTimestampMs),
        time(row.serverTimestampMs),
        row.ackLatencyMs === undefined ? '-' : formatDuration(row.ackLatencyMs),
        formatInteger(row.bytes),
        row.identical ? '✓' : '✗',
      ]),
    ])) {
      print(`  ${line}`)
    }
    print(
      '  (times UTC; ack latency: from the producer accepting the fragment to its PERSISTED acknowledgement)',
    )
    print('')
    const total = formatInteger(clusters.reduce((sum, cluster) => sum + cluster.bytes.byteLength, 0))
    print(
      identical
        ? `4. round trip OK: all ${clusters.length} clusters (${total} bytes) came back byte-identical`
        : `4. round trip FAILED: ${rows.filter((row) => row.identical).length} of ${clusters.length} clusters identical, ${returned.length} read back`,
    )
    print(`   play it: ffplay ${output}`)

    // 5. Watch it: an HLS session of what was put, and (on the emulator) the console.
    const hls = await hlsSession(client, target, streamName, producerStartMs, Date.now())
    print(`5. HLS (ON_DEMAND, ${hls.segments} media segments): ${hls.url}`)
    if (target.consoleUrl !== undefined) print(`   console: ${target.consoleUrl}`)
    if (target.kind === 'emulator') {
      print(
        options.serveUntil === undefined
          ? '   (both served by the emulator in this process: they stop working when the demo exits; `pnpm demo -- --serve` keeps it running)'
          : '   serving them until Ctrl-C',
      )
    } else print('   (the HLS URL is valid for an hour; open it in Safari, VLC or an hls.js page)')
    if (target.kind === 'emulator' && options.serveUntil !== undefined) await options.serveUntil
    return {
      target: target.kind,
      streamName,
      output,
      sent: clusters.length,
      received: fragments.length,
      fragments: rows,
      identical,
      hlsUrl: hls.url,
      hlsSegments: hls.segments,
      consoleUrl: target.consoleUrl,
    }
  } finally {
    if (target.kind === 'aws' && created) {
      if (options.keep)
        print(
          `   kept stream ${streamName} (delete it with: kvs streams delete ${streamName} --region ${target.region})`,
        )
      else {
        try {
          const { StreamInfo } = await client.send(new DescribeStreamCommand({ StreamName: streamName }))
          if (StreamInfo?.StreamARN !== undefined) {
            await client.send(new DeleteStreamCommand({ StreamARN: StreamInfo.StreamARN }))
          }
          print(`   deleted stream ${streamName}`)
        } catch (error) {
          // Cleaning up must not hide what happened before.
          print(
            `   could not delete stream ${streamName}: ${error instanceof Error ? error.message : String(error)}`,
          )
          print(`   delete it with: kvs streams delete ${streamName} --region ${target.region}`)
        }
      }
    }
    client.destroy()
    await target.close()
  }
}

const usage = `Usage: pnpm demo [-- options]

Puts a sample video into Kinesis Video Streams, reads it back with GetMedia and checks that every cluster is
byte-identical. Without --region it runs against an emulator embedded in the process (no AWS account needed).

Options:
  --region <region>   run against AWS in this region (credentials from the default chain)
  --profile <name>    AWS profile for the credentials
  --keep              keep the AWS stream (default: delete it at the end)
  --input <file>      MKV to send (default: fixtures/kvs-getmedia/clusters.mkv)
  --output <file>     where to write what GetMedia returns (default: a temporary file)
  --serve             keep the embedded emulator running after the report (its console and the HLS URL
                      printed), until Ctrl-C
  -h, --help          show this help
`

/** The command line: runs the demo, exits 1 when the round trip is not byte-identical (or a step fails). */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : [...argv],
    options: {
      region: { type: 'string' },
      profile: { type: 'string' },
      keep: { type: 'boolean' },
      input: { type: 'string' },
      output: { type: 'string' },
      serve: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  try {
    const result = await runDemo({
      ...(values.region === undefined ? {} : { region: values.region }),
      ...(values.profile === undefined ? {} : { profile: values.profile }),
      ...(values.input === undefined ? {} : { input: values.input }),
      ...(values.output === undefined ? {} : { output: values.output }),
      keep: values.keep === true,
      ...(values.serve === true
        ? {
            serveUntil: new Promise<void>((resolve) => {
              process.once('SIGINT', () => resolve())
              process.once('SIGTERM', () => resolve())
            }),
          }
        : {}),
    })
    return result.identical ? 0 : 1
  } catch (error) {
    const explained = explainError(error, { region: values.region, profile: values.profile })
    process.stderr.write(
      `demo: error: ${explained.message}\n${explained.hints.map((hint) => `  ${hint}\n`).join('')}`,
    )
    return 1
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The AWS SDK's notice about its future Node support is not the demo's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  process.exitCode = await main(process.argv.slice(2))
}
