// Where the demo runs: an emulator embedded in this process, or Kinesis Video Streams in an AWS region.
import { randomBytes } from 'node:crypto'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import type { KvsSignerOptions } from '@kvs-streams/signer'

export interface DemoTarget {
  kind: 'emulator' | 'aws'
  region: string
  credentials: KvsSignerOptions['credentials']
  /** Control-plane endpoint override (the emulator's URL); undefined for AWS. */
  endpoint: string | undefined
  /** The stream the demo creates (and deletes at the end on AWS unless kept). */
  streamName: string
  /** The emulator's console page (`http://127.0.0.1:PORT/`); undefined for AWS. */
  consoleUrl: string | undefined
  /** One line saying where the demo runs. */
  description: string
  close(): Promise<void>
}

/**
 * Starts an in-memory emulator on a free loopback port (no AWS account needed), or, with `region`, targets
 * AWS with the default credential chain (environment, `profile`, SSO, …) and a stream name of its own.
 */
export async function openTarget(options: {
  region?: string | undefined
  profile?: string | undefined
}): Promise<DemoTarget> {
  if (options.region === undefined) {
    const emulator = await startEmulator({ port: 0, storage: 'memory', console: true })
    return {
      kind: 'emulator',
      region: emulator.region,
      credentials: { ...DEFAULT_CREDENTIALS },
      endpoint: emulator.url,
      consoleUrl: emulator.consoleUrl,
      streamName: 'kvs-streams-demo',
      description: `local emulator at ${emulator.url} (in this process, in memory; no AWS account used)`,
      close: () => emulator.close(),
    }
  }
  const credentials = fromNodeProviderChain(options.profile === undefined ? {} : { profile: options.profile })
  // Fail here, with the credential chain's error, rather than halfway through.
  await credentials()
  return {
    kind: 'aws',
    region: options.region,
    credentials,
    endpoint: undefined,
    consoleUrl: undefined,
    streamName: `kvs-streams-demo-${randomBytes(4).toString('hex')}`,
    description: `Amazon Kinesis Video Streams in ${options.region}${options.profile === undefined ? '' : ` (profile ${options.profile})`}`,
    close: async () => {},
  }
}
