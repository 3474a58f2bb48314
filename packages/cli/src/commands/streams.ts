import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  ListStreamsCommand,
  type ListStreamsCommandInput,
  type StreamInfo,
} from '@aws-sdk/client-kinesis-video'
import { openAwsSession, waitUntilActive } from '../aws.ts'
import { type CommandContext, stringOption } from '../command.ts'
import { usageError } from '../errors.ts'
import { formatTable } from '../format.ts'
import { write } from '../io.ts'

/** `--retention-hours`: a whole number of hours from 0 to 87,600 (10 years). */
export function retentionHours(context: CommandContext, fallback: number): number {
  const text = stringOption(context, 'retention-hours')
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text.trim()) || Number(text) > 87_600) {
    throw usageError(
      `--retention-hours must be a whole number of hours from 0 to 87600, got ${JSON.stringify(text)}`,
    )
  }
  return Number(text)
}

/** StreamInfo for `--json`: the AWS CLI's member names, times as ISO 8601. */
export function streamInfoJson(info: StreamInfo): Record<string, unknown> {
  return {
    DeviceName: info.DeviceName,
    StreamName: info.StreamName,
    StreamARN: info.StreamARN,
    MediaType: info.MediaType,
    KmsKeyId: info.KmsKeyId,
    Version: info.Version,
    Status: info.Status,
    CreationTime: info.CreationTime?.toISOString(),
    DataRetentionInHours: info.DataRetentionInHours,
  }
}

function requireStreamArgument(context: CommandContext, command: string): string {
  const [name, ...rest] = context.positionals
  if (name === undefined || name === '') throw usageError(`kvs ${command} needs a stream name`)
  if (rest.length > 0)
    throw usageError(
      `kvs ${command} takes one stream, got also ${rest.map((value) => JSON.stringify(value)).join(' ')}`,
    )
  context.errorContext.streamName = name
  return name
}

const out = (context: CommandContext, line: string): Promise<void> => write(context.io.stdout, `${line}\n`)

/** `kvs streams create <stream>`. */
export async function streamsCreate(context: CommandContext): Promise<number> {
  const streamName = requireStreamArgument(context, 'streams create')
  const hours = retentionHours(context, 24)
  const session = await openAwsSession(context)
  try {
    const created = await session.client.send(
      new CreateStreamCommand({
        StreamName: streamName,
        DataRetentionInHours: hours,
        MediaType: stringOption(context, 'media-type') ?? 'video/h264',
        ...(stringOption(context, 'device-name') === undefined
          ? {}
          : { DeviceName: stringOption(context, 'device-name') }),
        ...(stringOption(context, 'kms-key-id') === undefined
          ? {}
          : { KmsKeyId: stringOption(context, 'kms-key-id') }),
      }),
    )
    const info = await waitUntilActive(session, streamName, context.io.signal)
    if (context.global.json) {
      await out(context, JSON.stringify({ StreamARN: created.StreamARN, Status: info?.Status }))
    } else {
      await out(context, `created stream ${streamName} (${info?.Status ?? 'CREATING'}, retention ${hours} h)`)
      await out(context, `  ${created.StreamARN ?? ''}`)
    }
    return 0
  } finally {
    session.close()
  }
}

/** `kvs streams describe <stream>`. */
export async function streamsDescribe(context: CommandContext): Promise<number> {
  const streamName = requireStreamArgument(context, 'streams describe')
  const session = await openAwsSession(context)
  try {
    // A missing stream fails with the service's ResourceNotFoundException, worded by explainError.
    const { StreamInfo: info = {} } = await session.client.send(
      new DescribeStreamCommand({ StreamName: streamName }),
    )
    if (context.global.json) {
      await out(context, JSON.stringify({ StreamInfo: streamInfoJson(info) }))
      return 0
    }
    const rows: [string, string][] = [
      ['StreamName', info.StreamName ?? ''],
      ['Status', info.Status ?? ''],
      ['StreamARN', info.StreamARN ?? ''],
      ['DataRetentionInHours', String(info.DataRetentionInHours ?? '')],
      ['MediaType', info.MediaType ?? '-'],
      ['DeviceName', info.DeviceName ?? '-'],
      ['KmsKeyId', info.KmsKeyId ?? '-'],
      ['CreationTime', info.CreationTime?.toISOString() ?? '-'],
      ['Version', info.Version ?? ''],
    ]
    const width = Math.max(...rows.map(([key]) => key.length))
    for (const [key, value] of rows) await out(context, `${key.padEnd(width)}  ${value}`)
    return 0
  } finally {
    session.close()
  }
}

/** `kvs streams list [--prefix P]`. */
export async function streamsList(context: CommandContext): Promise<number> {
  if (context.positionals.length > 0)
    throw usageError('kvs streams list takes no arguments (use --prefix to filter)')
  const prefix = stringOption(context, 'prefix')
  const session = await openAwsSession(context)
  try {
    const streams: StreamInfo[] = []
    let nextToken: string | undefined
    do {
      const input: ListStreamsCommandInput = {
        MaxResults: 1000,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        ...(prefix === undefined || prefix === ''
          ? {}
          : { StreamNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: prefix } }),
      }
      const page = await session.client.send(new ListStreamsCommand(input))
      streams.push(...(page.StreamInfoList ?? []))
      nextToken = page.NextToken
    } while (nextToken !== undefined && nextToken !== '' && !context.io.signal.aborted)
    if (context.global.json) {
      await out(context, JSON.stringify({ StreamInfoList: streams.map(streamInfoJson) }))
      return 0
    }
    if (streams.length === 0) {
      await out(
        context,
        prefix === undefined ? 'no streams' : `no streams whose name begins with ${JSON.stringify(prefix)}`,
      )
      return 0
    }
    const table = formatTable([
      ['NAME', 'STATUS', 'RETENTION', 'MEDIA TYPE', 'CREATED'],
      ...streams.map((info) => [
        info.StreamName ?? '',
        info.Status ?? '',
        `${info.DataRetentionInHours ?? 0} h`,
        info.MediaType ?? '-',
        info.CreationTime?.toISOString() ?? '-',
      ]),
    ])
    for (const line of table) await out(context, line)
    return 0
  } finally {
    session.close()
  }
}

/** `kvs streams delete <stream|arn>`. */
export async function streamsDelete(context: CommandContext): Promise<number> {
  const stream = requireStreamArgument(context, 'streams delete')
  const session = await openAwsSession(context)
  try {
    let arn = stream
    if (!stream.startsWith('arn:')) {
      const { StreamInfo: info } = await session.client.send(
        new DescribeStreamCommand({ StreamName: stream }),
      )
      arn = info?.StreamARN ?? stream
    }
    await session.client.send(new DeleteStreamCommand({ StreamARN: arn }))
    if (context.global.json) await out(context, JSON.stringify({ StreamARN: arn, deleted: true }))
    else await out(context, `deleted stream ${stream}`)
    return 0
  } finally {
    session.close()
  }
}
