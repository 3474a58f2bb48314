import {
  DescribeStreamCommand,
  type GetDataEndpointCommand,
  KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video'
import {
  type AwsSettings,
  createDataEndpointResolver,
  type DataEndpointApiName,
  type DataEndpointResolver,
  resolveAwsSettings,
} from '@kvs-streams/transport'
import type { ProducerCredentials } from './options.ts'

/** What the producer needs from the control plane: the stream's retention and status, and data endpoints. */
export interface ControlPlane {
  /** DescribeStream: `DataRetentionInHours` and `Status`. Rejects with the AWS SDK's error. */
  describeStream(signal: AbortSignal): Promise<{ retentionHours: number; status: string }>
  /** GetDataEndpoint (cached) for one API, or the fixed `dataEndpoint`. */
  dataEndpoint(apiName: DataEndpointApiName): Promise<string>
  /**
   * Region, endpoint and credentials: the options', the rest resolved once as the AWS SDK does
   * (`resolveAwsSettings`). Rejects with a `KvsSettingsError` (no region, a missing profile).
   */
  settings(): Promise<AwsSettings>
  /** Forgets a cached data endpoint after it failed. */
  invalidate(apiName: DataEndpointApiName): void
  close(): void
}

export interface ControlPlaneOptions {
  streamName: string
  /** A client to use instead of making one (shared between producers); it is not destroyed by `close()`. */
  client: KinesisVideoClient | undefined
  region: string | undefined
  profile: string | undefined
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
  let settings: Promise<AwsSettings> | undefined
  const getSettings = (): Promise<AwsSettings> => {
    if (settings === undefined) {
      const attempt = resolveAwsSettings({
        region: options.region,
        profile: options.profile,
        credentials: options.credentials,
        endpoint: options.endpoint,
      })
      settings = attempt
      // A failure (no region yet, a profile file being written) is tried again on the next attempt.
      attempt.catch(() => {
        if (settings === attempt) settings = undefined
      })
    }
    return settings
  }
  const getClient = async (): Promise<KinesisVideoClient> => {
    if (client !== undefined) return client
    const resolved = await getSettings()
    client ??= new KinesisVideoClient({
      region: resolved.region.value,
      credentials: resolved.credentials,
      ...(resolved.endpoint === undefined ? {} : { endpoint: resolved.endpoint.value }),
      // The producer retries with its own backoff; one quick SDK retry covers a dropped keep-alive socket.
      maxAttempts: 2,
    })
    return client
  }
  const lazyClient = {
    send: (command: GetDataEndpointCommand) => getClient().then((made) => made.send(command)),
  }
  return {
    async describeStream(signal) {
      const output = await (await getClient()).send(
        new DescribeStreamCommand({ StreamName: options.streamName }),
        {
          abortSignal: signal,
        },
      )
      return {
        retentionHours: output.StreamInfo?.DataRetentionInHours ?? 0,
        status: output.StreamInfo?.Status ?? 'ACTIVE',
      }
    },
    dataEndpoint(apiName) {
      if (options.dataEndpoint !== undefined) return Promise.resolve(options.dataEndpoint)
      resolver ??= createDataEndpointResolver({ client: lazyClient, clock: options.clock })
      return resolver.resolve(options.streamName, apiName)
    },
    settings: getSettings,
    invalidate(apiName) {
      resolver?.invalidate(options.streamName, apiName)
    },
    close() {
      if (client !== options.client) client?.destroy()
      client = options.client
    },
  }
}
