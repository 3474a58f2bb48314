import { DescribeStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import type { KvsSigner } from '@kvs-streams/signer'
import {
  createDataEndpointResolver,
  type DataEndpointApiName,
  type DataEndpointResolver,
} from '@kvs-streams/transport'
import type { ProducerCredentials } from './options.ts'

type AwsCredentialIdentity = Awaited<ReturnType<KvsSigner['credentials']>>

/** What the producer needs from the control plane: the stream's retention and status, and data endpoints. */
export interface ControlPlane {
  /** DescribeStream: `DataRetentionInHours` and `Status`. Rejects with the AWS SDK's error. */
  describeStream(signal: AbortSignal): Promise<{ retentionHours: number; status: string }>
  /** GetDataEndpoint (cached) for one API, or the fixed `dataEndpoint`. */
  dataEndpoint(apiName: DataEndpointApiName): Promise<string>
  /** The AWS SDK's default credentials (its provider chain), for a producer given neither credentials nor signer. */
  defaultCredentials(): Promise<AwsCredentialIdentity>
  /** Forgets a cached data endpoint after it failed. */
  invalidate(apiName: DataEndpointApiName): void
  close(): void
}

export interface ControlPlaneOptions {
  streamName: string
  /** A client to use instead of making one (shared between producers); it is not destroyed by `close()`. */
  client: KinesisVideoClient | undefined
  region: string | undefined
  credentials: ProducerCredentials | undefined
  /** Control-plane endpoint override. */
  endpoint: string | undefined
  /** A fixed data endpoint: GetDataEndpoint is never called. */
  dataEndpoint: string | undefined
  clock: () => number
}

/**
 * The control plane over `@aws-sdk/client-kinesis-video`, created on first use (a producer with
 * `dataEndpoint` and `acknowledgeOn` never makes one). Endpoints come from `createDataEndpointResolver`.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_DescribeStream.html
 */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  let client: KinesisVideoClient | undefined = options.client
  let resolver: DataEndpointResolver | undefined
  const getClient = (): KinesisVideoClient => {
    client ??= new KinesisVideoClient({
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // The producer retries with its own backoff; one quick SDK retry covers a dropped keep-alive socket.
      maxAttempts: 2,
    })
    return client
  }
  return {
    async describeStream(signal) {
      const output = await getClient().send(new DescribeStreamCommand({ StreamName: options.streamName }), {
        abortSignal: signal,
      })
      return {
        retentionHours: output.StreamInfo?.DataRetentionInHours ?? 0,
        status: output.StreamInfo?.Status ?? 'ACTIVE',
      }
    },
    dataEndpoint(apiName) {
      if (options.dataEndpoint !== undefined) return Promise.resolve(options.dataEndpoint)
      resolver ??= createDataEndpointResolver({ client: getClient(), clock: options.clock })
      return resolver.resolve(options.streamName, apiName)
    },
    async defaultCredentials() {
      const provider = getClient().config.credentials
      if (typeof provider !== 'function') throw new TypeError('The AWS SDK resolved no credentials provider')
      return provider()
    },
    invalidate(apiName) {
      resolver?.invalidate(options.streamName, apiName)
    },
    close() {
      if (client !== options.client) client?.destroy()
      client = options.client
    },
  }
}
