import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  KinesisVideoClient,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  paginateListStreams,
  TagStreamCommand,
  UntagStreamCommand,
  UpdateDataRetentionCommand,
  UpdateStreamCommand,
} from '@aws-sdk/client-kinesis-video'
import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { testEmulator } from './support/client.ts'

function client(emulator: Emulator, secretAccessKey?: string): KinesisVideoClient {
  const pair = emulator.credentials[0]!
  return new KinesisVideoClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { accessKeyId: pair.accessKeyId, secretAccessKey: secretAccessKey ?? pair.secretAccessKey },
    maxAttempts: 1,
  })
}

describe('control plane through @aws-sdk/client-kinesis-video', () => {
  it('creates, describes, lists, finds the endpoint of and deletes a stream', async () => {
    const emulator = await testEmulator()
    const kvs = client(emulator)
    const { StreamARN } = await kvs.send(
      new CreateStreamCommand({ StreamName: 'sdk-stream', DataRetentionInHours: 2, Tags: { team: 'video' } }),
    )
    expect(StreamARN).toMatch(/^arn:aws:kinesisvideo:us-east-1:000000000000:stream\/sdk-stream\/[0-9]+$/)
    for (const name of ['sdk-a', 'sdk-b', 'other'])
      await kvs.send(new CreateStreamCommand({ StreamName: name }))

    const { StreamInfo } = await kvs.send(new DescribeStreamCommand({ StreamARN }))
    expect(StreamInfo).toMatchObject({ StreamName: 'sdk-stream', Status: 'ACTIVE', DataRetentionInHours: 2 })
    expect(StreamInfo!.CreationTime).toBeInstanceOf(Date)
    expect(Number(StreamARN!.split('/').pop())).toBe(StreamInfo!.CreationTime!.getTime())

    const names: string[] = []
    for await (const page of paginateListStreams(
      { client: kvs, pageSize: 2 },
      { StreamNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'sdk' } },
    )) {
      expect(page.StreamInfoList!.length).toBeLessThanOrEqual(2)
      names.push(...page.StreamInfoList!.map((stream) => stream.StreamName!))
    }
    expect(names).toEqual(['sdk-a', 'sdk-b', 'sdk-stream'])
    const all = await kvs.send(new ListStreamsCommand({}))
    expect(all.StreamInfoList).toHaveLength(4)
    expect(all.NextToken).toBeUndefined()

    const endpoint = await kvs.send(
      new GetDataEndpointCommand({ StreamName: 'sdk-stream', APIName: 'GET_MEDIA' }),
    )
    expect(endpoint.DataEndpoint).toBe(emulator.url)

    await kvs.send(new TagStreamCommand({ StreamARN, Tags: { site: 'lab', owner: 'me' } }))
    await kvs.send(new UntagStreamCommand({ StreamName: 'sdk-stream', TagKeyList: ['owner'] }))
    const { Tags } = await kvs.send(new ListTagsForStreamCommand({ StreamName: 'sdk-stream' }))
    expect(Tags).toEqual({ team: 'video', site: 'lab' })

    await kvs.send(
      new UpdateDataRetentionCommand({
        StreamName: 'sdk-stream',
        CurrentVersion: StreamInfo!.Version,
        Operation: 'INCREASE_DATA_RETENTION',
        DataRetentionChangeInHours: 22,
      }),
    )
    const updated = (await kvs.send(new DescribeStreamCommand({ StreamName: 'sdk-stream' }))).StreamInfo!
    expect(updated.DataRetentionInHours).toBe(24)
    expect(updated.Version).not.toBe(StreamInfo!.Version)
    await kvs.send(
      new UpdateStreamCommand({
        StreamName: 'sdk-stream',
        CurrentVersion: updated.Version,
        MediaType: 'video/h265',
      }),
    )

    await expect(
      kvs.send(new DeleteStreamCommand({ StreamARN, CurrentVersion: StreamInfo!.Version })),
    ).rejects.toMatchObject({ name: 'VersionMismatchException', $metadata: { httpStatusCode: 400 } })
    await kvs.send(new DeleteStreamCommand({ StreamARN }))
    await expect(kvs.send(new DescribeStreamCommand({ StreamARN }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'The requested stream is not found or not active.',
      $metadata: { httpStatusCode: 404, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    })
  })

  it('raises the modelled exceptions', async () => {
    const emulator = await testEmulator()
    const kvs = client(emulator)
    await kvs.send(new CreateStreamCommand({ StreamName: 'twice' }))
    await expect(kvs.send(new CreateStreamCommand({ StreamName: 'twice' }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
    })
    await expect(
      kvs.send(new GetDataEndpointCommand({ StreamName: 'twice', APIName: 'SOMETHING' as 'GET_MEDIA' })),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException' })
    await expect(
      kvs.send(
        new UpdateDataRetentionCommand({
          StreamName: 'twice',
          CurrentVersion: 'abc',
          Operation: 'DECREASE_DATA_RETENTION',
          DataRetentionChangeInHours: 1,
        }),
      ),
    ).rejects.toMatchObject({ name: 'VersionMismatchException' })
  })

  it('is refused with a wrong secret key', async () => {
    const emulator = await testEmulator()
    await expect(client(emulator, 'wrong').send(new ListStreamsCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    })
  })
})
