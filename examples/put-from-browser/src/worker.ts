// The Web Worker side: the same packages (ebml, chunker, acks, signer, transport/web) bundled for a worker,
// putting an MKV file fetched from the page's server, one PutMedia request per fragment.
import { type ChunkerFragmentEvent, ClusterChunkerStream } from '@kvs-streams/chunker'
import { createKvsSigner } from '@kvs-streams/signer'
import { PutFragmentStream } from '@kvs-streams/transport/web'
import { fetchCredentials, getDataEndpoint } from './kvs-browser.ts'
import type { PageResult, PutSummary, WorkerRequest } from './protocol.ts'

async function put({ config, streamName, fixture }: WorkerRequest): Promise<PageResult> {
  const signer = createKvsSigner({ region: config.region, credentials: fetchCredentials })
  const endpoint = await getDataEndpoint(config.controlEndpoint, signer, streamName)
  const file = await fetch(fixture)
  if (!file.ok || file.body === null) throw new Error(`GET ${fixture} answered ${file.status}`)
  const fragments: ChunkerFragmentEvent[] = []
  const acknowledged: PutSummary[] = []
  let retries = 0
  await file.body
    .pipeThrough(new ClusterChunkerStream())
    .pipeThrough(
      new TransformStream({
        transform(event, controller) {
          if (event.type === 'fragment') fragments.push(event)
          controller.enqueue(event)
        },
      }),
    )
    .pipeThrough(
      new PutFragmentStream({
        endpoint,
        streamName,
        signer,
        producerStartTimestamp: Date.now() - 60_000,
        onRetry: () => void retries++,
      }),
    )
    .pipeTo(
      new WritableStream({
        write(event) {
          if (event.type !== 'fragment-acknowledged') return
          acknowledged.push({
            index: event.index,
            fragmentTimecode: event.fragmentTimecode,
            fragmentNumber: event.fragmentNumber ?? '',
            attempts: event.attempts,
            acks: event.acks.map((ack) => ack.eventType),
          })
        },
      }),
    )
  return {
    mimeType: undefined,
    acknowledged,
    fragments: fragments.map((fragment) => ({
      index: fragment.index,
      timecode: fragment.timecode,
      blockCount: fragment.blockCount,
      keyframe: fragment.keyframe,
      durationMs: fragment.durationMs,
      byteLength: fragment.byteLength,
    })),
    violations: [],
    retries,
  }
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  put(event.data).then(
    (result) => self.postMessage(result),
    (error: unknown) =>
      self.postMessage({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  )
}
