// Starts a local Kinesis Video Streams emulator in this process, creates a stream through the AWS SDK, prints
// the endpoint and credentials a producer would use, and closes.
// Run: pnpm --filter @kvs-streams/example-emulator build && pnpm --filter @kvs-streams/example-emulator start
import { pathToFileURL } from 'node:url'
import { CreateStreamCommand, DescribeStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'

/** Runs the example, handing each output line to `print`. */
export async function main(print: (line: string) => void = console.log): Promise<void> {
  // Port 0 picks a free port; memory storage is the default without `dataDir`.
  const emulator = await startEmulator({ port: 0 })
  const client = new KinesisVideoClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...DEFAULT_CREDENTIALS },
  })
  try {
    const { StreamARN } = await client.send(
      new CreateStreamCommand({
        StreamName: 'example-stream',
        DataRetentionInHours: 24,
        MediaType: 'video/h264',
      }),
    )
    const { StreamInfo } = await client.send(new DescribeStreamCommand({ StreamARN }))
    print(`endpoint:   ${emulator.url}`)
    print(`region:     ${emulator.region}`)
    print(`access key: ${DEFAULT_CREDENTIALS.accessKeyId} / ${DEFAULT_CREDENTIALS.secretAccessKey}`)
    print(
      `stream:     ${StreamInfo?.StreamName} (${StreamInfo?.Status}, retention ${StreamInfo?.DataRetentionInHours} h)`,
    )
    print(`stream ARN: ${StreamARN}`)
  } finally {
    client.destroy()
    await emulator.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
