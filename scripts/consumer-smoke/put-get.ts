// The consumer smoke test's script: the put/get composition the package READMEs show, written as a user outside
// the workspace writes it, against the packed tarballs installed with npm. scripts/consumer-smoke.sh type-checks
// it with node16, nodenext and bundler resolution in an ESM and a CommonJS package, compiles it both ways and
// runs the ESM build (import) and the CommonJS build (require() of the ESM packages) against an emulator.
// Usage: node put-get.js <endpoint-url> <file.mkv>
import { readFileSync } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { type AckDecoderEvent, isTerminalAck } from '@kvs-streams/acks'
import { createAckDecoderTransform } from '@kvs-streams/acks/node'
import { type ChunkerEvent, createClusterChunker } from '@kvs-streams/chunker'
import { createClusterChunkerTransform } from '@kvs-streams/chunker/node'
import { ExitCode } from '@kvs-streams/cli'
import { concatBytes } from '@kvs-streams/core'
import { createEbmlReader, type EbmlEvent, ElementId } from '@kvs-streams/ebml'
import { createEbmlReaderTransform } from '@kvs-streams/ebml/node'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'
import { type MediaFragmentEvent, readStream } from '@kvs-streams/get-media'
import { createGetMediaParserTransform } from '@kvs-streams/get-media/node'
import { createGetMediaParser, type GetMediaEvent } from '@kvs-streams/get-media/parser'
import { createProducer } from '@kvs-streams/producer'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import {
  createDataEndpointResolver,
  type DataEndpointResolver,
  type PutMediaInput,
  putMedia,
} from '@kvs-streams/transport'

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

/** The Cluster elements of `bytes`, each exactly as written (as the demo compares them). */
function clusterElements(bytes: Uint8Array): Uint8Array[] {
  const reader = createEbmlReader({ dataMode: () => 'skip' })
  const clusters: Uint8Array[] = []
  for (const event of [...reader.push(bytes), ...reader.end()]) {
    if (event.type === 'element-end' && event.id === ElementId.Cluster) {
      clusters.push(bytes.subarray(event.offset, event.end))
    }
  }
  return clusters
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`consumer smoke: ${message}`)
}

/** Reads `count` raw fragments from EARLIEST, or fails after 20 s. */
async function readBack(
  streamName: string,
  signer: KvsSigner,
  resolver: DataEndpointResolver,
  count: number,
): Promise<MediaFragmentEvent[]> {
  const fragments: MediaFragmentEvent[] = []
  const signal = AbortSignal.timeout(20_000)
  const events = readStream({
    streamName,
    signer,
    resolver,
    startSelector: { StartSelectorType: 'EARLIEST' },
    mode: 'raw',
    signal,
  })
  for await (const event of events) {
    if (event.type === 'service-error') throw event.error
    if (event.type !== 'fragment') continue
    fragments.push(event)
    if (fragments.length >= count) break
  }
  return fragments
}

async function main(endpoint: string, file: string): Promise<void> {
  // The emulator's region (kvs emulator --region's default).
  const region = 'us-east-1'
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region, credentials, endpoint })
  const signer = createKvsSigner({ region, credentials })
  const resolver = createDataEndpointResolver({ client })
  const suffix = `${process.pid}-${Date.now()}`
  try {
    // The input's clusters, from the chunker's core, and counted again through the EBML reader's Transform.
    const input = readFileSync(file)
    const chunker = createClusterChunker()
    const sent: Uint8Array[] = []
    for (const event of [...chunker.push(input), ...chunker.end()]) {
      if (event.type === 'fragment') sent.push(...clusterElements(concatBytes(event.parts)))
    }
    let clusterEnds = 0
    await pipeline(
      Readable.from([input]),
      createEbmlReaderTransform({ dataMode: () => 'skip' }),
      new Writable({
        objectMode: true,
        write(event: EbmlEvent, _encoding, callback) {
          if (event.type === 'element-end' && event.id === ElementId.Cluster) clusterEnds++
          callback()
        },
      }),
    )
    check(
      sent.length > 0 && clusterEnds === sent.length,
      `${clusterEnds} clusters read, ${sent.length} chunked`,
    )

    // 1. Put with the primitives: file → chunker → bytes → PutMedia → acks (the transport README's pipeline).
    const primitives = `smoke-primitives-${suffix}`
    await client.send(new CreateStreamCommand({ StreamName: primitives, DataRetentionInHours: 24 }))
    const putEndpoint = await resolver.resolve(primitives, 'PUT_MEDIA')
    let persisted = 0
    await pipeline(
      Readable.from([input]),
      createClusterChunkerTransform(),
      mkvBytes,
      putMedia({ endpoint: putEndpoint, streamName: primitives, signer }),
      createAckDecoderTransform(),
      new Writable({
        objectMode: true,
        write(event: AckDecoderEvent, _encoding, callback) {
          if (event.type !== 'ack') return callback()
          if (isTerminalAck(event.ack)) return callback(new Error(`PutMedia ERROR ${event.ack.errorId}`))
          if (event.ack.eventType === 'PERSISTED') persisted++
          callback()
        },
      }),
    )
    check(persisted === sent.length, `${persisted} of ${sent.length} fragments PERSISTED`)

    // 2. Put with the resilient producer (the producer README's example).
    const produced = `smoke-producer-${suffix}`
    await client.send(new CreateStreamCommand({ StreamName: produced, DataRetentionInHours: 24 }))
    const producer = createProducer({
      streamName: produced,
      region,
      credentials,
      endpoint,
      fragmentTimecodeType: 'RELATIVE',
    })
    await pipeline(Readable.from([input]), producer.writable)
    const stats = await producer.close()
    check(
      stats.fragments.acknowledged === sent.length,
      `producer: ${stats.fragments.acknowledged} acknowledged`,
    )

    // 3. Read both back with resumable GetMedia: every Cluster byte-identical to the one sent.
    for (const streamName of [primitives, produced]) {
      const fragments = await readBack(streamName, signer, resolver, sent.length)
      const back = fragments.flatMap((fragment) => clusterElements(concatBytes(fragment.parts)))
      check(back.length === sent.length, `${streamName}: ${back.length} of ${sent.length} clusters read back`)
      back.forEach((cluster, index) => {
        const expected = sent[index]
        check(
          expected !== undefined && Buffer.from(cluster).equals(expected),
          `${streamName}: cluster ${index} differs`,
        )
      })

      // 4. The same bytes through the parser alone (./parser core and ./node Transform): one fragment-end each.
      const parser = createGetMediaParser()
      const bodies = fragments.map((fragment) => concatBytes(fragment.parts))
      const parsed: GetMediaEvent[] = bodies.flatMap((body) => parser.push(body))
      parsed.push(...parser.end())
      const ends = parsed.filter((event) => event.type === 'fragment-end').length
      check(ends === sent.length, `parser: ${ends} fragment-end events`)
      let transformEnds = 0
      await pipeline(
        Readable.from(bodies),
        createGetMediaParserTransform(),
        new Writable({
          objectMode: true,
          write(event: GetMediaEvent, _encoding, callback) {
            if (event.type === 'fragment-end') transformEnds++
            callback()
          },
        }),
      )
      check(transformEnds === sent.length, `parser Transform: ${transformEnds} fragment-end events`)
    }
    check(ExitCode.Ok === 0, 'ExitCode.Ok is 0')
    console.log(
      `consumer smoke OK: ${sent.length} clusters put twice (primitives, producer), read back identical`,
    )
  } finally {
    client.destroy()
  }
}

const [endpoint, file] = process.argv.slice(2)
if (endpoint === undefined || file === undefined)
  throw new TypeError('usage: put-get <endpoint-url> <file.mkv>')
main(endpoint, file).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
