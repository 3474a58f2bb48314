// Puts an MKV file into a local Kinesis Video Streams emulator with one PutMedia request per fragment, the
// second architecture KVS clients use (AWS's browser demo, seqsense/kinesisvideomanager in Go): every request
// carries the MKV header and one Cluster, and a request that fails is retried by sending the same fragment
// again. It needs no replay buffer beyond the fragment in hand and never meets the ~45-minute connection cap;
// it pays a request per fragment and is bounded by PutMedia's 5 calls per second per stream.
//   file → chunkClusters() → per fragment: putMedia(header + fragment) → its acks → print
// (@kvs-streams/producer is the other architecture: one long session with reconnect and resend.)
// Run: pnpm --filter @kvs-streams/example-put-per-fragment... build && \
//   pnpm --filter @kvs-streams/example-put-per-fragment start [file.mkv]
import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { type Ack, createAckDecoder, describeAckError } from '@kvs-streams/acks'
import { type ChunkerFragmentEvent, chunkClusters, type HeaderEvent } from '@kvs-streams/chunker'
import { DEFAULT_CREDENTIALS, type FaultsOption, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import {
  createDataEndpointResolver,
  isTransportError,
  KvsHttpError,
  listAllFragments,
  type PutMediaInput,
  putMedia,
} from '@kvs-streams/transport'

/** The default input, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

/** PutMedia accepts at most 5 requests per second per stream. */
const MIN_REQUEST_INTERVAL_MS = 200
const MAX_ATTEMPTS = 4

export interface SentFragment {
  index: number
  timecode: number
  bytes: number
  /** The number KVS gave the fragment. */
  fragmentNumber: string
  /** Requests it took (1 when the first one succeeded). */
  attempts: number
  /** From the request's start to the fragment's PERSISTED ack, ms (last attempt). */
  latencyMs: number
}

export interface PutPerFragmentResult {
  /** Each fragment as it was acknowledged, in order. */
  sent: SentFragment[]
  /** The fragment numbers ListFragments reports afterwards: each sent fragment once, nothing else. */
  listed: string[]
}

export interface PutPerFragmentOptions {
  print?: (line: string) => void
  /** Faults the embedded emulator injects (to see retries). */
  faults?: FaultsOption
}

/**
 * Starts an emulator, creates a stream with retention (so fragments are PERSISTED), and puts `file` into it
 * with one PutMedia request per fragment. Resolves with each fragment's outcome and what ListFragments lists.
 */
export async function putPerFragment(
  file: string,
  options: PutPerFragmentOptions = {},
): Promise<PutPerFragmentResult> {
  const print = options.print ?? console.log
  const emulator = await startEmulator({
    port: 0,
    ...(options.faults === undefined ? {} : { faults: options.faults }),
  })
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  try {
    const streamName = 'put-per-fragment-example'
    await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }))
    const resolver = createDataEndpointResolver({ client })
    const signer = createKvsSigner({ region: emulator.region, credentials })
    const target: Target = {
      endpoint: await resolver.resolve(streamName, 'PUT_MEDIA'),
      streamName,
      signer,
      // One producer clock for all requests: with RELATIVE timecodes every fragment is dated from here.
      producerStartTimestamp: Date.now() - 60_000,
    }
    print(`putting ${file} into ${streamName}, one PutMedia request per fragment`)

    const sent: SentFragment[] = []
    let header: HeaderEvent | undefined
    let lastRequestAt = Number.NEGATIVE_INFINITY
    for await (const event of chunkClusters(createReadStream(file), { onViolation: 'throw' })) {
      if (event.type === 'header') header = event
      if (event.type !== 'fragment') continue
      if (header === undefined) throw new Error('the chunker gave a fragment before the header')
      for (let attempt = 1; ; attempt++) {
        const wait = lastRequestAt + MIN_REQUEST_INTERVAL_MS - Date.now()
        if (wait > 0) await sleep(wait)
        lastRequestAt = Date.now()
        const outcome = await putOneFragment(target, header, event)
        if (outcome.ok) {
          const result = { ...outcome.result, attempts: attempt }
          sent.push(result)
          print(
            `fragment ${String(result.index).padStart(3)}  timecode ${String(result.timecode).padStart(6)}  ${String(result.bytes).padStart(9)} bytes  PERSISTED as …${result.fragmentNumber.slice(-12)}  ${result.latencyMs.toFixed(0).padStart(4)} ms${attempt > 1 ? `  (attempt ${attempt})` : ''}`,
          )
          break
        }
        if (!outcome.retriable || attempt === MAX_ATTEMPTS) {
          throw new Error(`fragment ${event.index}: ${outcome.reason} (attempt ${attempt}, giving up)`)
        }
        print(`fragment ${String(event.index).padStart(3)}  ${outcome.reason}: sending it again`)
        await sleep(100 * 2 ** (attempt - 1))
      }
    }
    print(
      `${sent.length} fragments stored with ${sent.reduce((sum, item) => sum + item.attempts, 0)} requests`,
    )

    // What the service holds now, page by page: a retried fragment must not be there twice.
    const listed: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: await resolver.resolve(streamName, 'LIST_FRAGMENTS'),
      streamName,
      signer,
      maxResults: 5,
    })) {
      listed.push(fragment.FragmentNumber)
    }
    print(`ListFragments lists ${listed.length} fragments`)
    return { sent, listed }
  } finally {
    client.destroy()
    await emulator.close()
  }
}

interface Target {
  endpoint: string
  streamName: string
  signer: KvsSigner
  producerStartTimestamp: number
}

type Outcome =
  | { ok: true; result: Omit<SentFragment, 'attempts'> }
  | { ok: false; retriable: boolean; reason: string }

/** One PutMedia request carrying `header` and `fragment`: waits for the fragment's PERSISTED ack. */
async function putOneFragment(
  target: Target,
  header: HeaderEvent,
  fragment: ChunkerFragmentEvent,
): Promise<Outcome> {
  const started = performance.now()
  const request = putMedia({ ...target, fragmentTimecodeType: 'RELATIVE' })
  const decoder = createAckDecoder()
  /** The first ERROR ack, and the fragment's PERSISTED ack, once they have arrived. */
  let error: Ack | undefined
  let persisted: Ack | undefined
  try {
    const sending = (async () => {
      // The header's bytes, then the fragment's views in one write (no copy).
      for (const bytes of [header.bytes, fragment.parts] satisfies PutMediaInput[]) {
        if (!request.write(bytes)) await once(request, 'drain')
      }
      request.end()
    })()
    // A failed request is reported by the read loop below.
    sending.catch(() => {})
    // The acks arrive while the body is still being sent: read them concurrently, until the response ends.
    for await (const chunk of request) {
      for (const event of decoder.push(chunk as Uint8Array)) {
        if (event.type !== 'ack') {
          return { ok: false, retriable: true, reason: `service error: ${event.error.message}` }
        }
        const { ack } = event
        if (ack.eventType === 'ERROR') error ??= ack
        else if (ack.eventType === 'PERSISTED' && ack.fragmentTimecode === fragment.timecode)
          persisted ??= ack
      }
      if (error !== undefined) {
        const info = describeAckError(error.errorId ?? -1)
        return { ok: false, retriable: info.retriable, reason: `ERROR ${info.errorId} ${info.errorCode}` }
      }
      if (persisted !== undefined) {
        await sending
        return {
          ok: true,
          result: {
            index: fragment.index,
            timecode: fragment.timecode,
            bytes: fragment.byteLength,
            fragmentNumber: persisted.fragmentNumber ?? '',
            latencyMs: performance.now() - started,
          },
        }
      }
    }
    return { ok: false, retriable: true, reason: 'the response ended before the PERSISTED ack' }
  } catch (failure) {
    // Connection failures, timeouts and HTTP errors of the transport; anything else is a bug here.
    if (!isTransportError(failure)) throw failure
    // A refused request (bad signature, no such stream, …) fails the same way again; throttling
    // (ClientLimitExceededException, ConnectionLimitExceededException) and 5xx do not.
    const retriable =
      !KvsHttpError.is(failure) || failure.status >= 500 || /LimitExceeded/.test(failure.errorType ?? '')
    return { ok: false, retriable, reason: `${failure.name}: ${failure.message}` }
  } finally {
    request.destroy()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await putPerFragment(process.argv[2] ?? defaultFile)
}
