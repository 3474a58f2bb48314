import { GetDataEndpointCommand } from '@aws-sdk/client-kinesis-video'
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media'
import { type AwsSession, openAwsSession } from './aws.ts'
import { type CommandContext, stringOption } from './command.ts'
import { usageError } from './errors.ts'
import { parseTime } from './time.ts'

/** GetDataEndpoint's `APIName` of the playback operations. */
export type PlaybackApiName =
  | 'GET_HLS_STREAMING_SESSION_URL'
  | 'GET_DASH_STREAMING_SESSION_URL'
  | 'GET_CLIP'
  | 'GET_IMAGES'

/** The archived-media client of one playback command, on the stream's data endpoint. */
export interface ArchivedMediaSession {
  aws: AwsSession
  client: KinesisVideoArchivedMediaClient
  dataEndpoint: string
  close(): void
}

/**
 * Resolves settings as every command does (`openAwsSession`), asks GetDataEndpoint for `apiName` and makes the
 * AWS SDK's archived-media client on that endpoint: the same calls as against AWS, with no request of our own.
 */
export async function openArchivedMedia(
  context: CommandContext,
  streamName: string,
  apiName: PlaybackApiName,
): Promise<ArchivedMediaSession> {
  const aws = await openAwsSession(context)
  try {
    const { DataEndpoint } = await aws.client.send(
      new GetDataEndpointCommand({ StreamName: streamName, APIName: apiName }),
    )
    if (DataEndpoint === undefined) throw new Error('GetDataEndpoint returned no DataEndpoint')
    context.debug(`data endpoint ${DataEndpoint} (GetDataEndpoint ${apiName})`)
    const client = new KinesisVideoArchivedMediaClient({
      region: aws.region,
      credentials: aws.credentials,
      endpoint: DataEndpoint,
      maxAttempts: 2,
    })
    return {
      aws,
      client,
      dataEndpoint: DataEndpoint,
      close: () => {
        client.destroy()
        aws.close()
      },
    }
  } catch (error) {
    aws.close()
    throw error
  }
}

/** A `--start` / `--end` time (now, ISO 8601, epoch seconds, -<duration> ago) as epoch ms. */
export function timeOption(context: CommandContext, name: string, now: number): number | undefined {
  const text = stringOption(context, name)
  if (text === undefined) return undefined
  const value = parseTime(text, now)
  if (value === undefined) {
    throw usageError(
      `--${name} must be now, an ISO 8601 time, epoch seconds or -<duration>, got ${JSON.stringify(text)}`,
      [`Examples: --${name} -5m, --${name} 2026-11-28T12:00:00Z, --${name} 1764331200`],
    )
  }
  return value
}

/** `--timestamp-type server|producer` as the archived-media selector type (server by default). */
export function selectorType(context: CommandContext): 'SERVER_TIMESTAMP' | 'PRODUCER_TIMESTAMP' {
  const value = stringOption(context, 'timestamp-type') ?? 'server'
  if (value !== 'server' && value !== 'producer') {
    throw usageError(`--timestamp-type must be server or producer, got ${JSON.stringify(value)}`)
  }
  return value === 'server' ? 'SERVER_TIMESTAMP' : 'PRODUCER_TIMESTAMP'
}

/** The one stream name a playback command takes. */
export function streamArgument(context: CommandContext, command: string): string {
  const [streamName, ...extra] = context.positionals
  if (streamName === undefined || streamName === '') throw usageError(`kvs ${command} needs a stream name`)
  if (extra.length > 0) throw usageError(`kvs ${command} takes one stream, got also ${extra.join(' ')}`)
  context.errorContext.streamName = streamName
  return streamName
}
