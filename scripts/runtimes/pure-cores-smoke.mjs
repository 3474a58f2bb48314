// Runs the pure cores (EBML reader, cluster chunker, ack decoder, GetMedia parser) through their WHATWG
// adapters on fixtures, with nothing but web APIs: for runtimes other than Node (Deno here). Prints one JSON
// line and exits 1 if a count is off. Run from the repository root after `pnpm build`:
//   npx -y deno run --allow-read scripts/runtimes/pure-cores-smoke.mjs
import { AckDecoderStream } from '../../packages/acks/dist/index.js'
import { ClusterChunkerStream } from '../../packages/chunker/dist/index.js'
import { createGetMediaParser } from '../../packages/get-media/dist/parse.js'

const root = new URL('../../', import.meta.url)
const read = (path) => Deno.readFile(new URL(path, root))

async function collect(stream) {
  const items = []
  for await (const item of stream) items.push(item)
  return items
}

/** A byte stream of `bytes` in chunks of `size`, so the cores meet split elements. */
function chunks(bytes, size) {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) controller.close()
      else {
        controller.enqueue(bytes.subarray(at, at + size))
        at += size
      }
    },
  })
}

const mkv = await read('fixtures/kvs-getmedia/clusters.mkv')
const chunkerEvents = await collect(chunks(mkv, 4096).pipeThrough(new ClusterChunkerStream()))
const fragments = chunkerEvents.filter((event) => event.type === 'fragment').length

const getMedia = await read('fixtures/kvs-getmedia/output_get_media.mkv')
const parser = createGetMediaParser()
let parsed = 0
let frames = 0
for (let at = 0; at < getMedia.length; at += 65536) {
  for (const event of parser.push(getMedia.subarray(at, at + 65536))) {
    if (event.type === 'fragment-end') parsed++
    if (event.type === 'frame') frames++
  }
}
for (const event of parser.end()) if (event.type === 'fragment-end') parsed++

const ackText =
  '{"EventType":"BUFFERING","FragmentTimecode":0,"FragmentNumber":"1"}\n' +
  '{"EventType":"RECEIVED","FragmentTimecode":0,"FragmentNumber":"1"}\n' +
  '{"EventType":"PERSISTED","FragmentTimecode":0,"FragmentNumber":"1"}\n'
const acks = await collect(chunks(new TextEncoder().encode(ackText), 7).pipeThrough(new AckDecoderStream()))

const result = {
  runtime: typeof Deno === 'undefined' ? 'unknown' : `deno ${Deno.version.deno}`,
  chunkerFragments: fragments,
  getMediaFragments: parsed,
  getMediaFrames: frames,
  acks: acks.filter((event) => event.type === 'ack').map((event) => event.ack.eventType),
}
console.log(JSON.stringify(result))
// clusters.mkv holds 8 clusters; output_get_media.mkv (a real GetMedia capture) 5 fragments of 60 frames.
const ok =
  fragments === 8 && parsed === 5 && frames === 300 && result.acks.join() === 'BUFFERING,RECEIVED,PERSISTED'
if (!ok) Deno.exit(1)
