import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { DEFAULT_CREDENTIALS, type Emulator } from '@kvs-streams/emulator'
import { sha256 } from '../../src/index.ts'

export const REGION = 'us-east-1'

/** The emulator's default key pair, as a fresh object (the AWS SDK annotates credentials it is given). */
export const credentials = (): { accessKeyId: string; secretAccessKey: string } => ({
  ...DEFAULT_CREDENTIALS,
})

/** Creates a stream through the control plane, straight at the emulator. */
export async function createStream(url: string, streamName: string, retentionHours = 1): Promise<void> {
  const client = new KinesisVideoClient({ region: REGION, credentials: credentials(), endpoint: url })
  try {
    await client.send(
      new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: retentionHours }),
    )
  } finally {
    client.destroy()
  }
}

/** SHA-256 of every stored fragment's Cluster, in storage order, read from an in-process emulator's storage. */
export async function storedHashes(
  emulator: Pick<Emulator, 'storage'>,
  streamName: string,
): Promise<string[]> {
  const hashes: string[] = []
  for (const info of emulator.storage.listFragments(streamName)) {
    const fragment = await emulator.storage.readFragment(streamName, info.fragmentNumber)
    if (fragment === undefined)
      throw new Error(`fragment ${info.fragmentNumber} is listed but cannot be read`)
    hashes.push(sha256(fragment.cluster))
  }
  return hashes
}
