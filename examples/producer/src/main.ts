// Puts an MKV file into a local Kinesis Video Streams emulator through the resilient producer, with one progress
// line per acknowledgement:
//   file → producer.writable (chunker, replay buffer, PutMedia sessions, acks, reconnect and rewind) → emulator
// Run: pnpm --filter @kvs-streams/example-producer... build && pnpm --filter @kvs-streams/example-producer start [file.mkv]
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import { createProducer, type ProducerStats } from '@kvs-streams/producer'

/** The default input, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

/** Starts an emulator, creates a stream, puts `file` into it through a producer and prints its progress. */
export async function produceFile(
  file: string,
  print: (line: string) => void = console.log,
): Promise<ProducerStats> {
  const emulator = await startEmulator({ port: 0 })
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  try {
    const streamName = 'producer-example'
    await client.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }))
    const producer = createProducer({
      streamName,
      region: emulator.region,
      credentials,
      // The control plane (DescribeStream, GetDataEndpoint); the data endpoint comes from GetDataEndpoint.
      endpoint: emulator.url,
      // clusters.mkv counts its timecodes from 0: they are relative to the producer start time.
      fragmentTimecodeType: 'RELATIVE',
    })
    print(`putting ${file} into ${streamName}`)
    producer.on('state', ({ state, reason }) => print(`state: ${state} (${reason})`))
    producer.on('ack', ({ ack, fragment }) => {
      const which =
        fragment === undefined ? '' : ` fragment ${fragment.index} (timecode ${fragment.timecode})`
      const error = ack.eventType === 'ERROR' ? ` ${ack.errorId} ${ack.errorCode}` : ''
      print(`${ack.eventType.padEnd(9)}${which}${error}`)
    })
    producer.on('fragment-skipped', ({ fragment, reason, message }) =>
      print(`skipped fragment ${fragment.index}: ${reason}: ${message}`),
    )
    // Resolves once every fragment is acknowledged (PERSISTED: the stream retains data).
    await pipeline(createReadStream(file), producer.writable)
    const stats = await producer.close()
    const { acknowledged, accepted } = stats.fragments
    const { p50, p99 } = stats.ackLatencyMs.persisted
    print(
      `done: ${acknowledged}/${accepted} fragments acknowledged, ${stats.bytesSent} bytes sent in ` +
        `${stats.sessions} session(s); PERSISTED latency p50 ${p50} ms, p99 ${p99} ms`,
    )
    return stats
  } finally {
    client.destroy()
    await emulator.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await produceFile(process.argv[2] ?? defaultFile)
}
