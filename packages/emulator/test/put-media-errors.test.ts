import { once } from 'node:events'
import { connect } from 'node:net'
import { ACK_ERRORS, type Ack } from '@kvs-streams/acks'
import { concatBytes } from '@kvs-streams/core'
import { describe, expect, it } from 'vitest'
import type { EmulatorOptions } from '../src/index.ts'
import {
  acksByFragment,
  callJson,
  createStream,
  openPutMedia,
  putMedia,
  testEmulator,
} from './support/client.ts'
import {
  AUDIO,
  type ClusterSpec,
  mkvCluster,
  mkvStream,
  type TrackSpec,
  VIDEO,
  videoCluster,
} from './support/mkv.ts'

interface ErrorCase {
  name: string
  errorId: number
  body: () => Uint8Array
  options?: EmulatorOptions
  /** The cluster timecode the ERROR ack names, when it names one. */
  timecode?: number
  timecodeType?: 'ABSOLUTE' | 'RELATIVE'
}

const longValue = 'v'.repeat(257)
const withTags = (tags: { name: string; value: string }[]): ClusterSpec => ({
  ...videoCluster(0),
  tags: [tags],
})

const cases: ErrorCase[] = [
  {
    name: 'a fragment larger than maxFragmentBytes',
    errorId: 4001,
    options: { maxFragmentBytes: 2000 },
    body: () => mkvStream([{ timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: true, size: 3000 }] }]),
    timecode: 0,
  },
  {
    name: 'a fragment longer than 10 s',
    errorId: 4002,
    body: () =>
      mkvStream([
        {
          timecode: 0,
          blocks: [
            { track: 1, timecode: 0, keyframe: true },
            { track: 1, timecode: 11_000 },
          ],
        },
      ]),
    timecode: 0,
  },
  {
    name: 'a fragment starting before the previous one ended',
    errorId: 4004,
    body: () => mkvStream([videoCluster(5000), videoCluster(2000)]),
    timecode: 2000,
  },
  {
    name: 'a body that is not Matroska',
    errorId: 4006,
    body: () => new TextEncoder().encode('this is not an MKV stream at all, just text sent by mistake'),
  },
  {
    name: 'a second EBML document in the body',
    errorId: 4006,
    body: () => concatBytes([mkvStream([videoCluster(0)]), mkvStream([videoCluster(1000)])]),
  },
  {
    name: 'a producer timestamp an hour in the future (ABSOLUTE)',
    errorId: 4007,
    body: () => mkvStream([videoCluster(Date.now() + 3_600_000)]),
  },
  {
    name: 'a producer timestamp an hour in the future (RELATIVE)',
    errorId: 4007,
    timecodeType: 'RELATIVE',
    body: () => mkvStream([videoCluster(3_600_000)]),
  },
  {
    name: 'a stream still CREATING',
    errorId: 4008,
    options: { streamActivationDelayMs: 60_000 },
    body: () => mkvStream([videoCluster(0)]),
    timecode: 0,
  },
  {
    name: 'more than 10 metadata tags in a fragment',
    errorId: 4009,
    body: () =>
      mkvStream([
        withTags(Array.from({ length: 11 }, (_, i) => ({ name: `tag${i}`, value: String(i) }))),
        videoCluster(1000),
      ]),
    timecode: 0,
  },
  {
    name: 'a metadata name over 128 bytes',
    errorId: 4009,
    body: () => mkvStream([withTags([{ name: 'n'.repeat(129), value: 'x' }]), videoCluster(1000)]),
    timecode: 0,
  },
  {
    name: 'a metadata value over 256 bytes',
    errorId: 4009,
    body: () => mkvStream([withTags([{ name: 'note', value: longValue }])]),
    timecode: 0,
  },
  {
    name: 'a user metadata name starting with AWS',
    errorId: 4009,
    body: () => mkvStream([withTags([{ name: 'AWS_MY_TAG', value: 'x' }])]),
    timecode: 0,
  },
  {
    name: 'a frame of an undeclared track',
    errorId: 4010,
    body: () => mkvStream([{ timecode: 0, blocks: [{ track: 5, timecode: 0, keyframe: true }] }]),
    timecode: 0,
  },
  {
    name: 'a fragment without frames of a declared track',
    errorId: 4011,
    body: () => mkvStream([videoCluster(0)], [VIDEO, AUDIO]),
    timecode: 0,
  },
  {
    name: 'more than 3 tracks',
    errorId: 4012,
    body: () => {
      const tracks: TrackSpec[] = [1, 2, 3, 4].map((number) => ({ number, type: 2, codecId: 'A_AAC' }))
      return mkvStream(
        [
          {
            timecode: 0,
            blocks: tracks.map((track) => ({ track: track.number, timecode: 0, keyframe: true })),
          },
        ],
        tracks,
      )
    },
  },
]

function errorAcks(acks: readonly Ack[]): Ack[] {
  return acks.filter((ack) => ack.eventType === 'ERROR')
}

describe('PutMedia ERROR acks', () => {
  it.each(cases)('answers $name with ERROR $errorId and closes the connection', async (errorCase) => {
    const emulator = await testEmulator(errorCase.options)
    await createStream(emulator, 'errors')
    const upload = await openPutMedia(emulator, {
      streamName: 'errors',
      timecodeType: errorCase.timecodeType ?? 'ABSOLUTE',
      producerStartMs: Date.now(),
    })
    // A fragment is complete when the next cluster starts: the trailing cluster completes the last one, and the
    // body stays open, so the server ends the response and closes the connection by itself.
    await upload.write(concatBytes([errorCase.body(), mkvCluster(videoCluster(600_000))]))
    const result = await upload.result
    await upload.socketClosed
    expect(result.status).toBe(200)
    expect(result.complete).toBe(true)
    const errors = errorAcks(result.acks)
    expect(errors).toHaveLength(1)
    const error = errors[0]!
    expect(result.acks[result.acks.length - 1]).toBe(error)
    expect(error.errorId).toBe(errorCase.errorId)
    expect(error.errorCode).toBe(ACK_ERRORS.get(errorCase.errorId)!.errorCode)
    if (errorCase.timecode !== undefined) expect(error.fragmentTimecode).toBe(errorCase.timecode)
    upload.abort()
  })

  it('acknowledges the fragments before a broken one, PERSISTED included, then the ERROR', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'partial')
    const result = await putMedia(
      emulator,
      mkvStream([videoCluster(0), videoCluster(1000), videoCluster(500)]),
      {
        streamName: 'partial',
      },
    )
    expect([...acksByFragment(result.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'ERROR'],
    ])
    expect(result.acks[result.acks.length - 1]).toMatchObject({
      eventType: 'ERROR',
      errorId: 4004,
      fragmentTimecode: 500,
    })
    expect(emulator.storage.listFragments('partial')).toHaveLength(2)
  })

  it('accepts fragments that do not start with a key frame (no ErrorId exists for that)', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'no-keyframe')
    const cluster: ClusterSpec = { timecode: 0, blocks: [{ track: 1, timecode: 0, keyframe: false }] }
    const result = await putMedia(emulator, mkvStream([cluster]), { streamName: 'no-keyframe' })
    expect(result.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    expect(emulator.storage.listFragments('no-keyframe')[0]!.keyframe).toBe(false)
  })

  it('reports a body that ends inside a cluster as 4006 after acknowledging the complete fragments', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'truncated')
    const body = mkvStream([videoCluster(0), videoCluster(1000)])
    const result = await putMedia(emulator, body.subarray(0, body.length - 10), { streamName: 'truncated' })
    expect([...acksByFragment(result.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'ERROR'],
    ])
    expect(result.acks[result.acks.length - 1]).toMatchObject({ errorId: 4006, fragmentTimecode: 1000 })
  })

  it('drops reserved producer tags from stored metadata but accepts them', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'reserved')
    const tags = [
      { name: 'AWS_KINESISVIDEO_NOTIFICATION', value: 'x' },
      ...Array.from({ length: 10 }, (_, i) => ({ name: `user${i}`, value: 'v' })),
    ]
    const result = await putMedia(emulator, mkvStream([withTags(tags), videoCluster(1000)]), {
      streamName: 'reserved',
    })
    expect(errorAcks(result.acks)).toEqual([])
    const [first] = emulator.storage.listFragments('reserved')
    expect(first!.metadata.map((tag) => tag.name)).toEqual(tags.slice(1).map((tag) => tag.name))
  })

  it('ends a connection with ERROR 4008 when its stream is deleted', async () => {
    const emulator = await testEmulator()
    const arn = await createStream(emulator, 'doomed')
    const upload = await openPutMedia(emulator, { streamName: 'doomed' })
    await upload.write(mkvStream([videoCluster(0)]))
    await upload.waitForAck((ack) => ack.eventType === 'BUFFERING')
    expect((await callJson(emulator, '/deleteStream', { StreamARN: arn })).status).toBe(200)
    const result = await upload.result
    expect(errorAcks(result.acks)).toMatchObject([{ errorId: 4008, errorCode: 'STREAM_NOT_ACTIVE' }])
  })
})

describe('PutMedia HTTP errors before the 200', () => {
  it.each([
    ['a missing stream', { 'x-amzn-stream-name': 'missing' }, 404, 'ResourceNotFoundException'],
    [
      'both a name and an ARN',
      { 'x-amzn-stream-arn': 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/s/1' },
      400,
      'InvalidArgumentException',
    ],
    [
      'a bad timecode type',
      { 'x-amzn-fragment-timecode-type': 'SOMETIMES' },
      400,
      'InvalidArgumentException',
    ],
    [
      'a bad producer start timestamp',
      { 'x-amzn-producer-start-timestamp': 'yesterday' },
      400,
      'InvalidArgumentException',
    ],
  ])('answers %s with %d %s', async (_label, headers, status, errorType) => {
    const emulator = await testEmulator({ verifySignatures: false })
    await createStream(emulator, 'exists')
    const upload = await openPutMedia(emulator, { streamName: 'exists', headers })
    await upload.write(mkvStream([videoCluster(0)]))
    const result = await upload.result
    expect(result.status).toBe(status)
    expect(result.headers['x-amzn-errortype']).toMatch(new RegExp(`^${errorType}:`))
    expect(result.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(JSON.parse(result.text).Message).toEqual(expect.any(String))
    upload.abort()
  })

  it('closes a refused upload gracefully: the answer, a FIN, and the rest of the body read and discarded, never a reset', async () => {
    const emulator = await testEmulator({ verifySignatures: false })
    const url = new URL(emulator.url)
    // Half-open allowed, as an HTTP client that keeps uploading after the answer and its FIN.
    const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true })
    const errors: Error[] = []
    socket.on('error', (error) => errors.push(error))
    let response = ''
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1')
    })
    const ended = once(socket, 'end')
    const closed = once(socket, 'close')
    socket.write(
      'POST /putMedia HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n' +
        'x-amzn-stream-name: missing\r\nx-amzn-fragment-timecode-type: ABSOLUTE\r\n\r\n',
    )
    const chunk = Buffer.alloc(64 * 1024, 1)
    // Keeps uploading (4 MB) after the answer has arrived, as a client does until it reads it.
    for (let index = 0; index < 64 && errors.length === 0; index++) {
      socket.write(`${chunk.length.toString(16)}\r\n`)
      socket.write(chunk)
      socket.write('\r\n')
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(response).toMatch(/^HTTP\/1\.1 404 /)
    socket.end('0\r\n\r\n')
    await ended
    await closed
    expect(errors).toEqual([])
    expect(response).toMatch(/\r\nconnection: close\r\n/i)
    expect(response).toMatch(/"Message":"[^"]+"}$/)
  })
})
