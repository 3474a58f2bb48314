// The browser side of the example (bundled by main.ts with esbuild for the browser platform):
//   canvas or camera → MediaRecorder (Matroska, H.264) → ClusterChunkerStream → PutFragmentStream (one fetch
//   PutMedia per fragment, acks read from each response, paced to 5 calls/s, resent on failure) → the emulator
// Credentials come from the page's own server (/credentials stands in for Cognito or a token endpoint): the
// page holds short-lived keys only, never long-term ones.
import {
  type ChunkerFragmentEvent,
  ClusterChunkerStream,
  type Violation,
  type ViolationEvent,
} from '@kvs-streams/chunker'
import { createKvsSigner } from '@kvs-streams/signer'
import { PutFragmentStream, type PutFragmentStreamEvent } from '@kvs-streams/transport/web'
import { fetchCredentials, getDataEndpoint } from './kvs-browser.ts'
import type { PageConfig, PageResult, PutSummary, WorkerRequest } from './protocol.ts'

/** MediaRecorder types to try, best first: Matroska with H.264, as KVS consumers (HLS, the console) want it. */
const MIME_TYPES = ['video/x-matroska;codecs=avc1', 'video/webm;codecs=h264']

const log = (line: string): void => {
  const element = document.getElementById('log')
  if (element !== null) element.textContent += `${line}\n`
}

/** A canvas painting a frame counter: a video source that needs no camera. */
function canvasSource(): { stream: MediaStream; stop: () => void } {
  const canvas = document.createElement('canvas')
  canvas.width = 320
  canvas.height = 240
  document.body.append(canvas)
  const context = canvas.getContext('2d')!
  let frame = 0
  const timer = setInterval(() => {
    context.fillStyle = `hsl(${(frame * 3) % 360} 70% 45%)`
    context.fillRect(0, 0, canvas.width, canvas.height)
    context.fillStyle = '#fff'
    context.font = '64px sans-serif'
    context.fillText(String(frame++), 24, 150)
  }, 33)
  const stream = canvas.captureStream(30)
  return { stream, stop: () => clearInterval(timer) }
}

/** Records, chunks and puts until `config.fragments` fragments are acknowledged, then stops the recorder. */
async function record(config: PageConfig, streamName: string): Promise<PageResult> {
  const signer = createKvsSigner({ region: config.region, credentials: fetchCredentials })
  const endpoint = await getDataEndpoint(config.controlEndpoint, signer, streamName)
  log(`PutMedia endpoint ${endpoint}`)
  const source =
    config.source === 'camera'
      ? await navigator.mediaDevices
          .getUserMedia({ video: { width: 320, height: 240, frameRate: 30 } })
          .then((stream) => ({ stream, stop: () => {} }))
      : canvasSource()
  const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type))
  if (mimeType === undefined) throw new Error(`this browser records none of ${MIME_TYPES.join(', ')}`)
  // Chromium's Matroska muxer starts a Cluster at each video key frame, so every fragment begins with one; the
  // encoder also adds key frames of its own, so fragments last from a few hundred ms to keyFrameIntervalMs
  // (Chromium 156). Without the interval, fragments could outgrow KVS's 10 s: the chunker reports any
  // violation ('emit'), and the page lists them rather than sending a fragment KVS would refuse unnoticed.
  const recorder = new MediaRecorder(source.stream, {
    mimeType,
    videoBitsPerSecond: 400_000,
    videoKeyFrameIntervalDuration: config.keyFrameIntervalMs,
  } as MediaRecorderOptions)
  log(`recording ${recorder.mimeType}`)

  const recording = new ReadableStream<Uint8Array>({
    start(controller) {
      // Blob reads complete in order of their start: chain them so chunks stay in order.
      let pending = Promise.resolve()
      recorder.ondataavailable = (event) => {
        pending = pending.then(async () => controller.enqueue(new Uint8Array(await event.data.arrayBuffer())))
      }
      recorder.onstop = () => void pending.then(() => controller.close())
      recorder.onerror = (event) => controller.error(new Error(`MediaRecorder failed: ${String(event)}`))
    },
  })
  const chunked: ChunkerFragmentEvent[] = []
  const violations: Violation[] = []
  const acknowledged: PutSummary[] = []
  let retries = 0
  const stopRecording = (): void => {
    if (recorder.state === 'recording') recorder.stop()
    source.stop()
    for (const track of source.stream.getTracks()) track.stop()
  }
  recorder.start(250)
  try {
    await recording
      .pipeThrough(new ClusterChunkerStream({ onViolation: 'emit' }))
      .pipeThrough(
        new TransformStream({
          transform(event, controller) {
            if (event.type === 'fragment') chunked.push(event)
            controller.enqueue(event)
          },
        }),
      )
      .pipeThrough(
        // The chunker's violations pass through: name their type to read them as such.
        new PutFragmentStream<ViolationEvent>({
          endpoint,
          streamName,
          signer,
          producerStartTimestamp: Date.now(),
          onRetry: (retry) => {
            retries++
            log(`fragment ${retry.index}: ${String(retry.error)}; sending it again`)
          },
        }),
      )
      .pipeTo(
        new WritableStream<PutFragmentStreamEvent<ViolationEvent>>({
          write(event) {
            if (event.type === 'violation') {
              violations.push(event.violation)
              log(`violation: ${event.violation.message}`)
              return
            }
            acknowledged.push(summary(event))
            const fragment = chunked.find((item) => item.index === event.index)
            log(
              `fragment ${event.index} (${fragment?.blockCount} frames, ${fragment?.durationMs} ms) PERSISTED as …${event.fragmentNumber?.slice(-8)}`,
            )
            if (acknowledged.length >= config.fragments) stopRecording()
          },
        }),
      )
  } finally {
    stopRecording()
  }
  return {
    mimeType: recorder.mimeType,
    acknowledged,
    fragments: chunked.map((fragment) => ({
      index: fragment.index,
      timecode: fragment.timecode,
      blockCount: fragment.blockCount,
      keyframe: fragment.keyframe,
      durationMs: fragment.durationMs,
      byteLength: fragment.byteLength,
    })),
    violations: violations.map((violation) => `${violation.kind}: ${violation.message}`),
    retries,
  }
}

function summary(
  event: PutFragmentStreamEvent<ViolationEvent> & { type: 'fragment-acknowledged' },
): PutSummary {
  return {
    index: event.index,
    fragmentTimecode: event.fragmentTimecode,
    fragmentNumber: event.fragmentNumber ?? '',
    attempts: event.attempts,
    acks: event.acks.map((ack) => ack.eventType),
  }
}

/** Runs `worker.js` (the same packages, bundled for a Web Worker) and resolves with what it reports. */
function inWorker(request: WorkerRequest): Promise<PageResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/worker.js', { type: 'module' })
    worker.onmessage = (event: MessageEvent<PageResult | { error: string }>) => {
      worker.terminate()
      if ('error' in event.data) reject(new Error(event.data.error))
      else resolve(event.data)
    }
    worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`))
    worker.postMessage(request)
  })
}

declare global {
  interface Window {
    /** Set once the run ended: what the Node side (main.ts) reads. */
    kvsResult?: PageResult | { error: string }
  }
}

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search)
  const config = (await (await fetch('/config.json')).json()) as PageConfig
  const streamName = query.get('stream') ?? config.streamName
  const source = query.get('source')
  if (source === 'camera' || source === 'canvas') config.source = source
  const fragments = Number(query.get('fragments') ?? Number.NaN)
  if (Number.isSafeInteger(fragments) && fragments > 0) config.fragments = fragments
  try {
    window.kvsResult =
      query.get('mode') === 'worker'
        ? await inWorker({ config, streamName, fixture: '/clusters.mkv' })
        : await record(config, streamName)
    log('done')
  } catch (error) {
    log(`failed: ${String(error)}`)
    window.kvsResult = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
  }
}

void main()
