// Follows a Kinesis video stream with resumable GetMedia and writes its fragments to an MKV file:
//   readStream (raw mode: one event per fragment, reconnecting with the continuation token) → file
// By default it starts the emulator in-process, puts fixtures/kvs-getmedia/clusters.mkv into a new stream and
// reads it back from EARLIEST. With --stream and --region it reads a real stream (credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN).
// Run: pnpm --filter @kvs-streams/example-get-media-to-file... build && \
//   pnpm --filter @kvs-streams/example-get-media-to-file start [--out file.mkv] [--follow]
//   … start --stream my-stream --region us-west-2 [--start NOW] [--fragments 20 | --follow]
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { AckDecoderEvent } from '@kvs-streams/acks'
import { createAckDecoderTransform } from '@kvs-streams/acks/node'
import type { ChunkerEvent } from '@kvs-streams/chunker'
import { createClusterChunkerTransform } from '@kvs-streams/chunker/node'
import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import { formatKvsTimestamp, ReadStreamError, readStream } from '@kvs-streams/get-media'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import {
  createDataEndpointResolver,
  type DataEndpointResolver,
  type PutMediaInput,
  putMedia,
} from '@kvs-streams/transport'

/** The file put into the emulator, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

export interface ExampleOptions {
  /** A real stream to read; without it, the emulator is started and clusters.mkv put into it. */
  stream?: string | undefined
  region?: string | undefined
  /** Where the MKV goes. */
  out: string
  /** Keep following the stream until `signal` aborts (Ctrl-C), instead of stopping after `fragments`. */
  follow: boolean
  /** Fragments to read before stopping. */
  fragments: number
  /** Where reading starts. */
  start: 'EARLIEST' | 'NOW'
}

/** Reads the command line. */
export function parseOptions(argv: string[]): ExampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      region: { type: 'string' },
      out: { type: 'string' },
      follow: { type: 'boolean', default: false },
      fragments: { type: 'string', default: '8' },
      start: { type: 'string', default: 'EARLIEST' },
    },
  })
  const fragments = Number(values.fragments)
  if (!Number.isInteger(fragments) || fragments < 1)
    throw new TypeError(`--fragments must be an integer >= 1`)
  if (values.start !== 'EARLIEST' && values.start !== 'NOW')
    throw new TypeError('--start must be EARLIEST or NOW')
  if ((values.stream === undefined) !== (values.region === undefined)) {
    throw new TypeError('--stream and --region go together')
  }
  return {
    stream: values.stream,
    region: values.region,
    out: values.out ?? join(tmpdir(), 'kvs-get-media-to-file.mkv'),
    follow: values.follow,
    fragments,
    start: values.start,
  }
}

/** Where to read: a stream, the signer and resolver to reach it, and what to close afterwards. */
interface Source {
  streamName: string
  signer: KvsSigner
  resolver: DataEndpointResolver
  close(): Promise<void>
}

/**
 * The chunker's events as the bytes PutMedia takes: the header's bytes, then each fragment's views in one
 * write (no copy); violations and fragment starts carry no bytes.
 */
async function* mkvBytes(events: AsyncIterable<ChunkerEvent>): AsyncGenerator<PutMediaInput> {
  for await (const event of events) {
    if (event.type === 'header') yield event.bytes
    else if (event.type === 'fragment') yield event.parts
  }
}

/** Starts the emulator, creates a stream and puts `file` into it (file → chunker → PutMedia → acks). */
async function emulatedSource(file: string, print: (line: string) => void): Promise<Source> {
  const emulator = await startEmulator({ port: 0 })
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  const streamName = 'get-media-to-file'
  const signer = createKvsSigner({ region: emulator.region, credentials })
  const resolver = createDataEndpointResolver({ client })
  const close = async () => {
    client.destroy()
    await emulator.close()
  }
  try {
    await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }))
    const endpoint = await resolver.resolve(streamName, 'PUT_MEDIA')
    let persisted = 0
    await pipeline(
      createReadStream(file),
      createClusterChunkerTransform(),
      mkvBytes,
      putMedia({ endpoint, streamName, signer }),
      createAckDecoderTransform(),
      new Writable({
        objectMode: true,
        write(event: AckDecoderEvent, _encoding, callback) {
          if (event.type === 'ack' && event.ack.eventType === 'PERSISTED') persisted++
          if (event.type === 'ack' && event.ack.eventType === 'ERROR') {
            callback(new Error(`PutMedia ERROR ${event.ack.errorId} ${event.ack.errorCode}`))
            return
          }
          callback()
        },
      }),
    )
    print(`put ${file} into ${streamName} at ${emulator.url}: ${persisted} fragments persisted`)
    return { streamName, signer, resolver, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** A real stream, with credentials from the environment. */
function realSource(streamName: string, region: string): Source {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env
  if (AWS_ACCESS_KEY_ID === undefined || AWS_SECRET_ACCESS_KEY === undefined) {
    throw new TypeError(
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) to read a real stream',
    )
  }
  const credentials = {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: AWS_SESSION_TOKEN }),
  }
  const client = new KinesisVideoClient({ region, credentials })
  return {
    streamName,
    signer: createKvsSigner({ region, credentials }),
    resolver: createDataEndpointResolver({ client }),
    close: async () => client.destroy(),
  }
}

/** What the example wrote. */
export interface ExampleResult {
  fragments: number
  bytes: number
  out: string
}

/**
 * Runs the example: reads fragments with `readStream` in raw mode, appends each fragment's document to the
 * output file and prints a line per fragment. Stops after `fragments` fragments, or with `follow` when
 * `signal` aborts.
 */
export async function main(
  options: ExampleOptions,
  print: (line: string) => void = console.log,
  signal?: AbortSignal,
): Promise<ExampleResult> {
  const source =
    options.stream !== undefined && options.region !== undefined
      ? realSource(options.stream, options.region)
      : await emulatedSource(defaultFile, print)
  const out = createWriteStream(options.out)
  let fragments = 0
  let bytes = 0
  try {
    const events = readStream({
      streamName: source.streamName,
      signer: source.signer,
      resolver: source.resolver,
      startSelector: { StartSelectorType: options.start },
      mode: 'raw',
      ...(signal === undefined ? {} : { signal }),
    })
    for await (const event of events) {
      if (event.type === 'reconnect') {
        // A caught-up response ending (the service ends GetMedia once no new fragment comes for a few
        // seconds) is no failure: readStream goes on from the continuation token.
        if (!(ReadStreamError.is(event.cause) && event.cause.code === 'ERR_KVS_GETMEDIA_CAUGHT_UP')) {
          print(`reconnecting in ${event.delayMs} ms: ${String(event.cause)}`)
        }
        continue
      }
      if (event.type === 'service-error') {
        print(`error chunk: ${event.error.message}`)
        continue
      }
      for (const part of event.parts) {
        if (!out.write(part)) await once(out, 'drain')
      }
      fragments++
      bytes += event.byteLength
      const producer =
        event.producerTimestampMs === undefined ? '-' : formatKvsTimestamp(event.producerTimestampMs)
      print(
        `fragment ${event.fragmentNumber} producer=${producer} behind=${event.millisBehindNow ?? '-'} ms bytes=${event.byteLength}`,
      )
      if (!options.follow && fragments >= options.fragments) break
    }
  } finally {
    out.end()
    await once(out, 'close')
    await source.close()
  }
  print(`wrote ${fragments} fragments, ${bytes} bytes to ${options.out}`)
  return { fragments, bytes, out: options.out }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = parseOptions(process.argv.slice(2))
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  await main(options, console.log, controller.signal)
}
