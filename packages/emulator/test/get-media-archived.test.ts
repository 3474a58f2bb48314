import {
  GetMediaForFragmentListCommand,
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { createGetMediaParser, type GetMediaEvent } from '@kvs-streams/get-media'
import { createKvsSigner } from '@kvs-streams/signer'
import {
  getMediaForFragmentList,
  KvsHttpError,
  type ListFragmentsOptions,
  type ListFragmentsOutput,
  listAllFragments,
  listFragments,
} from '@kvs-streams/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Emulator, type FragmentInfo, startEmulator } from '../src/index.ts'
import { callJson, createStream, openPutMedia } from './support/client.ts'
import { documentLayout, openMedia } from './support/media-reader.ts'
import { mkvCluster, mkvHeader, videoCluster } from './support/mkv.ts'

let emulator: Emulator
let client: KinesisVideoArchivedMediaClient
let stored: FragmentInfo[]
let streamArn: string
const STREAM = 'archive'
/** RELATIVE producer timestamps from here: fragment i starts at START_MS + i s. */
const START_MS = 1_700_000_000_000

beforeAll(async () => {
  emulator = await startEmulator()
  client = new KinesisVideoArchivedMediaClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...emulator.credentials[0]! },
  })
  streamArn = await createStream(emulator, STREAM)
  // Ten fragments, written one at a time a few ms apart so their server timestamps differ too.
  const upload = await openPutMedia(emulator, {
    streamName: STREAM,
    timecodeType: 'RELATIVE',
    producerStartMs: START_MS,
  })
  await upload.write(mkvHeader())
  for (let index = 0; index < 10; index++) {
    await upload.write(
      mkvCluster({
        ...videoCluster(index * 1000, 3, 300),
        tags: [[{ name: 'index', value: String(index) }]],
      }),
    )
    await new Promise((resolve) => setTimeout(resolve, 3))
  }
  upload.end()
  await upload.result
  stored = emulator.storage.listFragments(STREAM)
})

afterAll(async () => {
  client?.destroy()
  await emulator?.close()
})

const signer = () =>
  createKvsSigner({ region: emulator.region, credentials: { ...emulator.credentials[0]! } })

describe('ListFragments', () => {
  it('lists every fragment with its number, size, timestamps and length through the AWS SDK', async () => {
    const output = await client.send(new ListFragmentsCommand({ StreamName: STREAM }))
    expect(output.NextToken).toBeUndefined()
    expect(output.Fragments).toHaveLength(10)
    const byNumber = new Map(output.Fragments!.map((fragment) => [fragment.FragmentNumber, fragment]))
    for (const [index, fragment] of stored.entries()) {
      const listed = byNumber.get(fragment.fragmentNumber)!
      expect(listed).toEqual({
        FragmentNumber: fragment.fragmentNumber,
        FragmentSizeInBytes: fragment.sizeBytes,
        ProducerTimestamp: new Date(START_MS + index * 1000),
        ServerTimestamp: new Date(fragment.serverTimestampMs),
        FragmentLengthInMilliseconds: fragment.durationMs,
      })
      expect(listed.FragmentLengthInMilliseconds).toBeGreaterThan(0)
    }
  })

  it('pages with MaxResults and NextToken (transport.listFragments), each fragment once', async () => {
    const pages: ListFragmentsOutput[] = []
    let nextToken: string | undefined
    do {
      const options: ListFragmentsOptions = {
        endpoint: emulator.url,
        streamName: STREAM,
        signer: signer(),
        maxResults: 3,
      }
      if (nextToken !== undefined) options.nextToken = nextToken
      const page = await listFragments(options)
      pages.push(page)
      nextToken = page.NextToken
    } while (nextToken !== undefined)
    expect(pages.map((page) => page.Fragments.length)).toEqual([3, 3, 3, 1])
    expect(pages.flatMap((page) => page.Fragments.map((fragment) => fragment.FragmentNumber)).sort()).toEqual(
      stored.map((fragment) => fragment.fragmentNumber).sort(),
    )
  })

  it('lists every fragment once through transport.listAllFragments, three per page', async () => {
    const numbers: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: emulator.url,
      streamName: STREAM,
      signer: signer(),
      maxResults: 3,
    })) {
      numbers.push(fragment.FragmentNumber)
    }
    expect(numbers).toHaveLength(10)
    expect(numbers.sort()).toEqual(stored.map((fragment) => fragment.fragmentNumber).sort())
  })

  it('selects by producer and server timestamp ranges, inclusive on fragment start times, across pages', async () => {
    const byProducer = await client.send(
      new ListFragmentsCommand({
        StreamName: STREAM,
        FragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: {
            StartTimestamp: new Date(START_MS + 2000),
            EndTimestamp: new Date(START_MS + 5000),
          },
        },
      }),
    )
    expect(byProducer.Fragments!.map((fragment) => fragment.FragmentNumber).sort()).toEqual(
      stored.slice(2, 6).map((fragment) => fragment.fragmentNumber),
    )
    // The middle of fragment 2 to the middle of fragment 5 (by ARN): starts 3, 4 and 5.
    const middle = await listFragments({
      endpoint: emulator.url,
      streamArn,
      signer: signer(),
      fragmentSelector: {
        FragmentSelectorType: 'PRODUCER_TIMESTAMP',
        TimestampRange: {
          StartTimestamp: new Date(START_MS + 2500),
          EndTimestamp: new Date(START_MS + 5500),
        },
      },
    })
    expect(middle.Fragments.map((fragment) => fragment.ProducerTimestamp!.getTime()).sort()).toEqual([
      START_MS + 3000,
      START_MS + 4000,
      START_MS + 5000,
    ])

    const first = stored[6]!.serverTimestampMs
    const last = stored[8]!.serverTimestampMs
    const pages: string[] = []
    let nextToken: string | undefined
    do {
      const page = await client.send(
        new ListFragmentsCommand({
          StreamName: STREAM,
          MaxResults: 2,
          NextToken: nextToken,
          FragmentSelector: {
            FragmentSelectorType: 'SERVER_TIMESTAMP',
            TimestampRange: { StartTimestamp: new Date(first), EndTimestamp: new Date(last) },
          },
        }),
      )
      pages.push(...page.Fragments!.map((fragment) => fragment.FragmentNumber!))
      nextToken = page.NextToken
    } while (nextToken !== undefined)
    expect(pages.sort()).toEqual(stored.slice(6, 9).map((fragment) => fragment.fragmentNumber))
  })

  it('refuses an unknown stream, a bad range and a foreign NextToken like the service', async () => {
    await expect(client.send(new ListFragmentsCommand({ StreamName: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    })
    await expect(
      client.send(
        new ListFragmentsCommand({
          StreamName: STREAM,
          FragmentSelector: {
            FragmentSelectorType: 'SERVER_TIMESTAMP',
            TimestampRange: { StartTimestamp: new Date(2000), EndTimestamp: new Date(1000) },
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidArgumentException' })
    await createStream(emulator, 'archive-other')
    const page = await listFragments({
      endpoint: emulator.url,
      streamName: STREAM,
      signer: signer(),
      maxResults: 1,
    })
    const foreign = listFragments({
      endpoint: emulator.url,
      streamName: 'archive-other',
      signer: signer(),
      nextToken: page.NextToken!,
    })
    await expect(foreign).rejects.toSatisfy(
      (error) =>
        KvsHttpError.is(error) && error.errorType === 'InvalidArgumentException' && error.status === 400,
    )
  })
})

/** The events of a whole GetMediaForFragmentList body. */
async function parseAll(body: AsyncIterable<Uint8Array>): Promise<GetMediaEvent[]> {
  const parser = createGetMediaParser()
  const events: GetMediaEvent[] = []
  for await (const chunk of body) events.push(...parser.push(chunk))
  events.push(...parser.end())
  return events
}

describe('GetMediaForFragmentList', () => {
  it('returns the listed fragments in the order asked, service tags before the cluster and producer tags after', async () => {
    const wanted = [stored[7]!, stored[1]!, stored[4]!]
    const body = await getMediaForFragmentList({
      endpoint: emulator.url,
      streamName: STREAM,
      signer: signer(),
      fragments: wanted.map((fragment) => fragment.fragmentNumber),
    })
    expect(body.contentType).toBe('video/webm')
    const events = await parseAll(body)
    const starts = events.filter((event) => event.type === 'fragment-start')
    const ends = events.filter((event) => event.type === 'fragment-end')
    expect(starts.map((event) => event.fragmentNumber)).toEqual(
      wanted.map((fragment) => fragment.fragmentNumber),
    )
    expect(starts.map((event) => event.producerTimestampMs)).toEqual(
      wanted.map((fragment) => fragment.producerTimestampMs),
    )
    expect(starts.map((event) => event.serverTimestampMs)).toEqual(
      wanted.map((fragment) => fragment.serverTimestampMs),
    )
    expect(
      ends.map((event) => [event.tags, event.millisBehindNow, event.continuationToken, event.frameCount]),
    ).toEqual([
      [{ index: '7' }, undefined, undefined, 3],
      [{ index: '1' }, undefined, undefined, 3],
      [{ index: '4' }, undefined, undefined, 3],
    ])
    expect(events.filter((event) => event.type === 'frame')).toHaveLength(9)
  })

  it('writes the documented layout: FRAGMENT_NUMBER, SERVER_TIMESTAMP, PRODUCER_TIMESTAMP, the cluster, then the user Tags', async () => {
    const reader = await openMedia(emulator, '/getMediaForFragmentList', {
      StreamName: STREAM,
      Fragments: [stored[3]!.fragmentNumber],
    })
    expect(await reader.ended).toEqual({ complete: true })
    const layout = documentLayout(reader.body())
    expect(layout.slice(4).map((element) => element.tags ?? element.id)).toEqual([
      {
        AWS_KINESISVIDEO_FRAGMENT_NUMBER: stored[3]!.fragmentNumber,
        AWS_KINESISVIDEO_SERVER_TIMESTAMP: expect.stringMatching(/^\d+\.\d{3}$/),
        AWS_KINESISVIDEO_PRODUCER_TIMESTAMP: '1700000003.000',
      },
      0x1f43b675,
      { index: '3' },
    ])
  })

  it('is read by the AWS SDK, and reports a fragment that does not exist in an error chunk without stopping', async () => {
    const missing = '91343852333181432392682062201909211623964306247'
    const output = await client.send(
      new GetMediaForFragmentListCommand({
        StreamName: STREAM,
        Fragments: [stored[0]!.fragmentNumber, missing, stored[9]!.fragmentNumber],
      }),
    )
    expect(output.ContentType).toBe('video/webm')
    const events = await parseAll(output.Payload as AsyncIterable<Uint8Array>)
    expect(
      events.flatMap((event) =>
        event.type === 'fragment-start'
          ? [event.fragmentNumber]
          : event.type === 'service-error'
            ? [`error ${event.error.errorCode} ${event.error.fragmentNumber}`]
            : [],
      ),
    ).toEqual([
      stored[0]!.fragmentNumber,
      `error ResourceNotFoundException ${missing}`,
      stored[9]!.fragmentNumber,
    ])
  })

  it('refuses more than 1000 fragments, numbers that are not numbers and unknown streams', async () => {
    const many = await callJson(emulator, '/getMediaForFragmentList', {
      StreamName: STREAM,
      Fragments: Array.from({ length: 1001 }, () => stored[0]!.fragmentNumber),
    })
    expect(many.status).toBe(400)
    expect(many.headers['x-amzn-errortype']).toMatch(/^InvalidArgumentException:/)
    const bad = await callJson(emulator, '/getMediaForFragmentList', {
      StreamName: STREAM,
      Fragments: ['x1'],
    })
    expect(bad.status).toBe(400)
    const unknown = await callJson(emulator, '/getMediaForFragmentList', {
      StreamName: 'nope',
      Fragments: ['1'],
    })
    expect(unknown.status).toBe(404)
  })
})
