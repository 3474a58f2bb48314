import { DescribeStreamCommand, KinesisVideoClient, type StreamInfo } from '@aws-sdk/client-kinesis-video'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import { createDataEndpointResolver, type DataEndpointResolver } from '@kvs-streams/transport'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { CommandContext } from './command.ts'
import { type AwsSettings, resolveAwsSettings } from './config.ts'

/** The clients of one command: control plane, SigV4 signer for the data plane, data-endpoint resolver. */
export interface AwsSession {
  settings: AwsSettings
  region: string
  credentials: AwsCredentialIdentityProvider
  /** The control-plane endpoint override, if any. */
  endpoint: string | undefined
  client: KinesisVideoClient
  signer: KvsSigner
  resolver: DataEndpointResolver
  /** Releases the client's sockets. */
  close(): void
}

/** How the control-plane client retries (the SDK's `maxAttempts` and `retryMode`). */
export interface AwsSessionOptions {
  /** Attempts per call, the first included. Default 2: one quick retry covers a dropped keep-alive socket. */
  maxAttempts?: number
  /** `adaptive` also slows every call of the client down while the service throttles. Default `standard`. */
  retryMode?: 'standard' | 'adaptive'
}

/**
 * Resolves region, endpoint and credentials (failing early, with the AWS CLI's words, when there are no
 * credentials), and creates the clients.
 */
export async function openAwsSession(
  context: CommandContext,
  options: AwsSessionOptions = {},
): Promise<AwsSession> {
  const settings = await resolveAwsSettings(context.global)
  context.errorContext.region = settings.region.value
  context.errorContext.endpoint = settings.endpoint
  context.errorContext.profile = settings.profile?.value
  context.debug(`region ${settings.region.value} (from ${settings.region.source})`)
  if (settings.profile !== undefined) {
    context.debug(`profile ${settings.profile.value} (from ${settings.profile.source})`)
  }
  context.debug(
    settings.endpoint === undefined
      ? 'endpoint: the AWS default for the region'
      : `endpoint ${settings.endpoint.value} (from ${settings.endpoint.source})`,
  )
  const identity = await settings.credentials()
  context.debug(
    `credentials: access key id ${identity.accessKeyId}${identity.sessionToken ? ' with a session token' : ''}`,
  )
  const endpoint = settings.endpoint?.value
  const client = new KinesisVideoClient({
    region: settings.region.value,
    credentials: settings.credentials,
    ...(endpoint === undefined ? {} : { endpoint }),
    maxAttempts: options.maxAttempts ?? 2,
    ...(options.retryMode === undefined ? {} : { retryMode: options.retryMode }),
    ...(context.global.debug ? { logger: debugLogger(context) } : {}),
  })
  return {
    settings,
    region: settings.region.value,
    credentials: settings.credentials,
    endpoint,
    client,
    signer: createKvsSigner({ region: settings.region.value, credentials: settings.credentials }),
    resolver: createDataEndpointResolver({ client }),
    close: () => client.destroy(),
  }
}

function debugLogger(context: CommandContext) {
  const log = (...values: unknown[]) =>
    context.debug(
      values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(' '),
    )
  return { trace: () => {}, debug: log, info: log, warn: log, error: log }
}

/** DescribeStream; `undefined` when the stream does not exist. */
export async function describeStream(
  session: AwsSession,
  streamName: string,
): Promise<StreamInfo | undefined> {
  try {
    const output = await session.client.send(new DescribeStreamCommand({ StreamName: streamName }))
    return output.StreamInfo
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined
    throw error
  }
}

/** Polls DescribeStream until the stream is ACTIVE (new streams are CREATING for a few seconds). */
export async function waitUntilActive(
  session: AwsSession,
  streamName: string,
  signal: AbortSignal,
  timeoutMs = 120_000,
): Promise<StreamInfo | undefined> {
  const deadline = Date.now() + timeoutMs
  let delay = 250
  for (;;) {
    const info = await describeStream(session, streamName)
    if (info?.Status === 'ACTIVE' || Date.now() > deadline || signal.aborted) return info
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(2000, delay * 2)
  }
}
