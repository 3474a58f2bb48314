// Puts an MKV file into a local Kinesis Video Streams emulator and prints each ack as it arrives:
//   file → cluster chunker → its events as bytes → PutMedia (streaming HTTP/1.1 body, acks read concurrently) → ack decoder → print
// Run: pnpm --filter @kvs-streams/example-put-file... build && \
//   pnpm --filter @kvs-streams/example-put-file start [file.mkv]
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { AckDecoderEvent } from '@kvs-streams/acks'
import { createAckDecoderTransform } from '@kvs-streams/acks/node'
import type { ChunkerEvent } from '@kvs-streams/chunker'
import { createClusterChunkerTransform } from '@kvs-streams/chunker/node'
import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { createDataEndpointResolver, type PutMediaInput, putMedia } from '@kvs-streams/transport'

/** The default input, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

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

/** Starts an emulator, creates a stream, puts `file` into it and hands each ack event to `print`. */
export async function putFile(file: string, print: (line: string) => void = console.log): Promise<void> {
  const emulator = await startEmulator({ port: 0 })
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  try {
    const streamName = 'put-file-example'
    await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }))
    const resolver = createDataEndpointResolver({ client })
    const endpoint = await resolver.resolve(streamName, 'PUT_MEDIA')
    const signer = createKvsSigner({ region: emulator.region, credentials })
    print(`putting ${file} into ${streamName} at ${endpoint}`)

    await pipeline(
      createReadStream(file),
      createClusterChunkerTransform(),
      mkvBytes,
      putMedia({ endpoint, streamName, signer }),
      createAckDecoderTransform(),
      async (events: AsyncIterable<AckDecoderEvent>) => {
        for await (const event of events) {
          if (event.type === 'ack') {
            const { eventType, fragmentTimecode, fragmentNumber, errorId, errorCode } = event.ack
            const detail = eventType === 'ERROR' ? ` ${errorId} ${errorCode}` : ''
            print(
              `${eventType.padEnd(9)} timecode=${fragmentTimecode ?? '-'} fragment=${fragmentNumber ?? '-'}${detail}`,
            )
          } else {
            print(`service error: ${event.error.message}`)
          }
        }
      },
    )
  } finally {
    client.destroy()
    await emulator.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await putFile(process.argv[2] ?? defaultFile)
}
