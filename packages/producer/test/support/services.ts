import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'

/** The emulator's default key pair, as a mutable object (the AWS SDK annotates credentials it is given). */
export const credentials = (): { accessKeyId: string; secretAccessKey: string } => ({
  ...DEFAULT_CREDENTIALS,
})

/** Creates a stream through the control plane. */
export async function createStream(
  url: string,
  region: string,
  streamName: string,
  retentionHours = 1,
  keyPair: { accessKeyId: string; secretAccessKey: string } = credentials(),
): Promise<void> {
  const client = new KinesisVideoClient({ region, credentials: { ...keyPair }, endpoint: url })
  try {
    await client.send(
      new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: retentionHours }),
    )
  } finally {
    client.destroy()
  }
}
