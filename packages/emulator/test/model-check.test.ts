import { channel, hasSubscribers, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { existsSync, readFileSync } from 'node:fs'
import { type ClientRequest, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EMULATOR_RESPONSE_CHANNEL, type EmulatorResponseMessage } from '../src/index.ts'
import { callJson, createStream, openPutMedia, send, signerFor, testEmulator } from './support/client.ts'
import { openGetMedia, openMedia } from './support/media-reader.ts'
import { mkvCluster, mkvHeader, videoCluster } from './support/mkv.ts'
import { checkResponse, MODEL_FILES, MODELS_DIR } from './support/model-check.ts'
import { takeModelViolations } from './support/model-check-setup.ts'

const DEBIAN_MODELS = '/usr/lib/python3/dist-packages/botocore/data'
const PROVENANCE_VERSION = /botocore 1\.29\.27/

/** A response message as the emulator publishes it, with a request id and JSON content type. */
function message(
  path: string | undefined,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): EmulatorResponseMessage {
  return {
    path,
    operation: undefined,
    requestId: 'r',
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': 'r', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  }
}

const ARN = 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/s/1700000000000'
const STREAM_INFO = {
  CreationTime: 1.562589645061e9,
  DataRetentionInHours: 24,
  DeviceName: null,
  KmsKeyId: 'arn:aws:kms:us-west-2:175499281365:alias/aws/kinesisvideo',
  MediaType: null,
  Status: 'ACTIVE',
  StreamARN: ARN,
  StreamName: 's',
  Version: '6CRnafBoUOwmTbDTPS8U',
}
const FRAGMENT = {
  FragmentNumber: '91343852333181432392682062607743920146264440742',
  FragmentSizeInBytes: 788604,
  ProducerTimestamp: 1_700_000_000.5,
  ServerTimestamp: 1_700_000_001.25,
  FragmentLengthInMilliseconds: 1796,
}
const notFound = {
  'x-amzn-errortype': 'ResourceNotFoundException:https://kinesisvideo.amazonaws.com/doc/2017-09-30/',
}

describe('the service-model check', () => {
  it('uses models byte-for-byte those of the Debian python3-botocore its PROVENANCE names, when installed', (context) => {
    const provenance = readFileSync(new URL('PROVENANCE.md', MODELS_DIR), 'utf8')
    expect(provenance).toMatch(PROVENANCE_VERSION)
    const versionFile = `${DEBIAN_MODELS}/../__init__.py`
    if (!existsSync(versionFile) || !/__version__ = '1\.29\.27'/.test(readFileSync(versionFile, 'utf8'))) {
      context.skip('Debian python3-botocore 1.29.27 is not installed')
    }
    for (const [service, file] of Object.entries(MODEL_FILES)) {
      const installed = readFileSync(`${DEBIAN_MODELS}/${service}/2017-09-30/service-2.json`, 'utf8')
      expect(readFileSync(new URL(file, MODELS_DIR), 'utf8'), service).toBe(installed)
    }
  })

  it('accepts responses shaped like the real service', () => {
    const cases = [
      message('/describeStream', 200, `{"StreamInfo":${JSON.stringify(STREAM_INFO)}}`),
      message('/listStreams', 200, { StreamInfoList: [STREAM_INFO], NextToken: 'cw==' }),
      message('/listFragments', 200, { Fragments: [FRAGMENT], NextToken: 'eyJ9' }),
      message('/createStream', 200, { StreamARN: ARN }),
      message('/deleteStream', 200, ''),
      message('/listTagsForStream', 200, { Tags: { site: 'lab' } }),
      message('/getDataEndpoint', 200, { DataEndpoint: 'https://127.0.0.1:4567' }),
      message('/getMedia', 200, undefined, { 'content-type': 'video/webm' }),
      message(
        '/describeStream',
        404,
        { Message: 'The requested stream is not found or not active.' },
        notFound,
      ),
      message('/putMedia', 404, { Message: 'no stream' }, notFound),
      message(
        '/createStream',
        403,
        { message: 'Signature expired' },
        { 'x-amzn-errortype': 'InvalidSignatureException' },
      ),
      message(
        undefined,
        431,
        { Message: 'too large' },
        { 'x-amzn-errortype': 'RequestHeaderFieldsTooLargeException' },
      ),
    ]
    for (const response of cases)
      expect(checkResponse(response), `${response.path} ${response.body}`).toEqual([])
  })

  const wrong: [string, EmulatorResponseMessage, RegExp][] = [
    [
      'a fractional Long',
      message('/listFragments', 200, {
        Fragments: [{ ...FRAGMENT, FragmentLengthInMilliseconds: 766.333333 }],
      }),
      /Fragments\[0\]\.FragmentLengthInMilliseconds \(Long, long\) must be a whole number, got 766\.333333/,
    ],
    [
      'a number as a string',
      message('/listFragments', 200, { Fragments: [{ ...FRAGMENT, FragmentSizeInBytes: '788604' }] }),
      /FragmentSizeInBytes \(Long, long\) must be a whole number/,
    ],
    [
      'a timestamp in milliseconds',
      message('/listFragments', 200, { Fragments: [{ ...FRAGMENT, ServerTimestamp: 1_700_000_001_250 }] }),
      /ServerTimestamp \(Timestamp, timestamp\) must be epoch seconds/,
    ],
    [
      'a timestamp as an ISO string',
      message('/describeStream', 200, {
        StreamInfo: { ...STREAM_INFO, CreationTime: '2023-11-14T22:13:20Z' },
      }),
      /CreationTime \(Timestamp, timestamp\) must be epoch seconds/,
    ],
    [
      'a value outside the enum',
      message('/describeStream', 200, { StreamInfo: { ...STREAM_INFO, Status: 'READY' } }),
      /Status \(Status, string\) must be one of CREATING, ACTIVE, UPDATING, DELETING, got "READY"/,
    ],
    [
      'an ARN off the pattern',
      message('/createStream', 200, { StreamARN: 'arn:aws:kinesisvideo:us-east-1:0:stream/s' }),
      /StreamARN \(ResourceARN, string\) does not match the pattern/,
    ],
    [
      'a string too long',
      message('/describeStream', 200, { StreamInfo: { ...STREAM_INFO, Version: 'a'.repeat(65) } }),
      /Version \(Version, string\) has 65 characters, more than 64/,
    ],
    [
      'a null the service does not send',
      message('/describeStream', 200, { StreamInfo: { ...STREAM_INFO, KmsKeyId: null } }),
      /StreamInfo\.KmsKeyId is null/,
    ],
    [
      'a member the model does not define',
      message('/getDataEndpoint', 200, { DataEndpoint: 'https://x', Region: 'us-east-1' }),
      /has Region, a member the model does not define/,
    ],
    [
      'an empty map the model sizes from 1',
      message('/listTagsForStream', 200, { Tags: {} }),
      /Tags \(ResourceTags, map\) has 0 entries, fewer than 1/,
    ],
    [
      'a body for an operation without output',
      message('/tagStream', 200, { ok: true }),
      /the model has no output members/,
    ],
    [
      'an error with the wrong status',
      message('/describeStream', 400, { Message: 'gone' }, notFound),
      /ResourceNotFoundException is HTTP 404 in the model, got 400/,
    ],
    [
      'an error the operation does not declare',
      message('/listFragments', 400, { Message: 'x' }, { 'x-amzn-errortype': 'VersionMismatchException' }),
      /VersionMismatchException is neither an error of ListFragments in the model nor a common AWS error/,
    ],
    [
      'an error body without Message',
      message('/describeStream', 404, { error: 'gone' }, notFound),
      /has error, a member the model does not define/,
    ],
    [
      'a media content type off the pattern',
      message('/getMedia', 200, undefined, { 'content-type': 'video/x-matroska' }),
      /header Content-Type \(ContentType, string\) does not match the pattern/,
    ],
    [
      'no request id',
      {
        ...message('/createStream', 200, { StreamARN: ARN }),
        headers: { 'content-type': 'application/json' },
      },
      /no x-amzn-RequestId header/,
    ],
  ]
  it.each(wrong)('finds %s', (_, response, expected) => {
    const violations = checkResponse(response)
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatch(expected)
  })

  it('is subscribed to every emulator response of the test run, and reports what does not fit', () => {
    expect(hasSubscribers(EMULATOR_RESPONSE_CHANNEL)).toBe(true)
    channel(EMULATOR_RESPONSE_CHANNEL).publish(
      message('/listFragments', 200, {
        Fragments: [{ ...FRAGMENT, FragmentLengthInMilliseconds: 766.333333 }],
      }),
    )
    // What the setup's afterEach would have thrown for; taken here so this test itself passes.
    expect(takeModelViolations()).toEqual([
      expect.stringMatching(
        /FragmentLengthInMilliseconds \(Long, long\) must be a whole number, got 766\.333333/,
      ),
    ])
  })

  it('also checks what the test client receives, for emulators running in child processes', async () => {
    // A stand-in for a child-process emulator: no in-process channel sees its answers.
    const server = createServer((request, response) => {
      request.resume()
      response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'child' })
      response.end(JSON.stringify({ Fragments: [{ ...FRAGMENT, FragmentLengthInMilliseconds: 1.5 }] }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    expect((await send(`http://127.0.0.1:${port}`, { path: '/listFragments', body: '{}' })).status).toBe(200)
    expect(takeModelViolations()).toEqual([
      expect.stringMatching(/FragmentLengthInMilliseconds \(Long, long\) must be a whole number, got 1\.5/),
    ])
  })
})

describe('emulator responses', () => {
  it('fit the service models for every operation, successes and errors', async () => {
    const seen: EmulatorResponseMessage[] = []
    const listener = (response: unknown) => seen.push(response as EmulatorResponseMessage)
    subscribe(EMULATOR_RESPONSE_CHANNEL, listener)
    onTestFinished(() => {
      unsubscribe(EMULATOR_RESPONSE_CHANNEL, listener)
    })
    const emulator = await testEmulator()
    const arn = await createStream(emulator, 'shapes')
    expect((await callJson(emulator, '/createStream', { StreamName: 'shapes' })).status).toBe(400)
    await createStream(emulator, 'shapes-2')
    const described = await callJson(emulator, '/describeStream', { StreamName: 'shapes' })
    const version = (described.json!.StreamInfo as { Version: string }).Version
    expect((await callJson(emulator, '/describeStream', { StreamName: 'none' })).status).toBe(404)
    expect((await callJson(emulator, '/listStreams', { MaxResults: 1 })).json?.NextToken).toBeTypeOf('string')
    expect((await callJson(emulator, '/listTagsForStream', { StreamName: 'shapes' })).json).toEqual({})
    expect((await callJson(emulator, '/tagStream', { StreamARN: arn, Tags: { site: 'lab' } })).status).toBe(
      200,
    )
    const tags = await callJson(emulator, '/listTagsForStream', { StreamARN: arn })
    expect(tags.json).toEqual({ Tags: { site: 'lab' } })
    expect((await callJson(emulator, '/untagStream', { StreamARN: arn, TagKeyList: ['site'] })).status).toBe(
      200,
    )
    const update = { StreamName: 'shapes', CurrentVersion: version, MediaType: 'video/h264' }
    expect((await callJson(emulator, '/updateStream', update)).status).toBe(200)
    expect((await callJson(emulator, '/updateStream', update)).status).toBe(400)
    const retention = {
      StreamName: 'shapes-2',
      CurrentVersion: version,
      Operation: 'INCREASE_DATA_RETENTION',
      DataRetentionChangeInHours: 1,
    }
    expect((await callJson(emulator, '/updateDataRetention', retention)).status).toBe(400)
    const endpoint = await callJson(emulator, '/getDataEndpoint', {
      StreamName: 'shapes',
      APIName: 'GET_MEDIA',
    })
    expect(endpoint.json).toEqual({ DataEndpoint: emulator.url })
    expect(
      (await callJson(emulator, '/getDataEndpoint', { StreamName: 'shapes', APIName: 'X' })).status,
    ).toBe(400)
    expect((await callJson(emulator, '/nothing', {})).status).toBe(404)
    expect((await callJson(emulator, '/listStreams', {}, { rawBody: '{' })).status).toBe(400)
    const badSigner = signerFor(emulator, { secretAccessKey: 'wrong' })
    expect((await callJson(emulator, '/listStreams', {}, { signer: badSigner })).status).toBe(403)
    expect((await send(emulator.url, { path: '/listStreams', body: '{}' })).status).toBe(403)

    // One fragment on a 1/3 ms TimecodeScale: frames at 0 and 2299 units, i.e. 766.332567 ms apart.
    const upload = await openPutMedia(emulator, { streamName: 'shapes', timecodeType: 'RELATIVE' })
    await upload.write(mkvHeader(undefined, 333_333))
    await upload.write(mkvCluster(videoCluster(0, 2, 2299)))
    await upload.write(mkvCluster(videoCluster(3000, 1, 0)))
    upload.end()
    expect((await upload.result).status).toBe(200)
    expect((await (await openPutMedia(emulator, { streamName: 'none' })).result).status).toBe(404)
    const listed = await callJson(emulator, '/listFragments', { StreamName: 'shapes' })
    const fragments = listed.json?.Fragments as {
      FragmentLengthInMilliseconds: number
      FragmentNumber: string
    }[]
    expect(emulator.storage.listFragments('shapes')[0]!.durationMs).toBeCloseTo(766.332567, 6)
    expect(fragments.map((fragment) => fragment.FragmentLengthInMilliseconds)).toEqual([766, 0])
    expect((await callJson(emulator, '/listFragments', { StreamName: 'none' })).status).toBe(404)
    const list = await openMedia(emulator, '/getMediaForFragmentList', {
      StreamName: 'shapes',
      Fragments: [fragments[0]!.FragmentNumber],
    })
    await list.ended
    const media = await openGetMedia(emulator, 'shapes', { StartSelectorType: 'EARLIEST' })
    await media.waitForFragments(2)
    media.close()
    expect((await openGetMedia(emulator, 'none', { StartSelectorType: 'NOW' })).status).toBe(404)
    expect((await callJson(emulator, '/deleteStream', { StreamARN: arn })).status).toBe(200)
    await emulator.close()

    const operations = new Set(seen.map((response) => `${response.operation} ${response.status}`))
    for (const expected of [
      'CreateStream 200',
      'CreateStream 400',
      'DescribeStream 200',
      'DescribeStream 404',
      'ListStreams 200',
      'ListStreams 400',
      'ListStreams 403',
      'TagStream 200',
      'UntagStream 200',
      'ListTagsForStream 200',
      'UpdateStream 200',
      'UpdateStream 400',
      'UpdateDataRetention 400',
      'GetDataEndpoint 200',
      'GetDataEndpoint 400',
      'DeleteStream 200',
      'PutMedia 200',
      'PutMedia 404',
      'ListFragments 200',
      'ListFragments 404',
      'GetMediaForFragmentList 200',
      'GetMedia 200',
      'GetMedia 404',
      'undefined 404',
    ]) {
      expect(operations, expected).toContain(expected)
    }
    for (const response of seen)
      expect(checkResponse(response), `${response.operation} ${response.status}`).toEqual([])
  })

  it('answers a sixth GetMediaForFragmentList with the model’s ClientLimitExceededException', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'busy')
    const upload = await openPutMedia(emulator, { streamName: 'busy', timecodeType: 'RELATIVE' })
    await upload.write(mkvHeader())
    const big = { track: 1, size: 64 * 1024 }
    await upload.write(
      mkvCluster({ timecode: 0, blocks: [0, 33, 66].map((timecode) => ({ ...big, timecode })) }),
    )
    await upload.write(mkvCluster(videoCluster(1000)))
    upload.end()
    const fragment = (await upload.result).acks.find((ack) => ack.eventType === 'PERSISTED')!.fragmentNumber!
    // Five readers that never read a list of 1000 times a 192 KiB fragment: each stays open, waiting to drain.
    const body = JSON.stringify({ StreamName: 'busy', Fragments: Array(1000).fill(fragment) })
    const open: ClientRequest[] = []
    onTestFinished(() => {
      for (const request of open) request.destroy()
    })
    const stalled = async () => {
      const signed = await signerFor(emulator).signJson({
        url: `${emulator.url}/getMediaForFragmentList`,
        body,
      })
      return new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          new URL('/getMediaForFragmentList', emulator.url),
          { method: 'POST', headers: signed.headers, agent: false },
          (response) => resolve(response.statusCode ?? 0),
        )
        request.on('error', reject)
        request.end(body)
        open.push(request)
      })
    }
    for (let i = 0; i < 5; i++) expect(await stalled()).toBe(200)
    const refused = await callJson(emulator, '/getMediaForFragmentList', {
      StreamName: 'busy',
      Fragments: [fragment],
    })
    expect(refused.status).toBe(400)
    expect(refused.headers['x-amzn-errortype']).toMatch(/^ClientLimitExceededException:/)
    expect(
      checkResponse({
        path: '/getMediaForFragmentList',
        operation: 'GetMediaForFragmentList',
        requestId: String(refused.headers['x-amzn-requestid']),
        status: refused.status,
        headers: refused.headers,
        body: refused.text,
      }),
    ).toEqual([])
  })
})
