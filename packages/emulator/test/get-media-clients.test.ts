import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media'
import { concatBytes, ElementId } from '@kvs-streams/ebml'
import { createGetMediaParser, type FragmentEvent } from '@kvs-streams/get-media'
import { ffprobeCounts, fixturePath, perDocument, run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { createStream, putMedia, testEmulator } from './support/client.ts'
import { CLUSTERS, clustersOf, documentLayout, openGetMedia, putClusters } from './support/media-reader.ts'

/** The Debian AWS CLI v2 (the `aws` first on PATH may be a v1). Tests fail, not skip, without it. */
const AWS = '/usr/bin/aws'

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'kvs-get-media-clients-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** The complete fragments of a (possibly truncated) GetMedia body, read in raw mode. */
function fragmentsOf(bytes: Uint8Array): FragmentEvent[] {
  return createGetMediaParser({ mode: 'raw' })
    .push(bytes)
    .filter((event): event is FragmentEvent => event.type === 'fragment' && event.complete)
}

/** Puts clusters.mkv a second time (a second PutMedia session): output past the first 8 fragments. */
async function putMore(emulator: Emulator, streamName: string): Promise<void> {
  const result = await putMedia(emulator, CLUSTERS, {
    streamName,
    timecodeType: 'RELATIVE',
    producerStartMs: Date.now(),
    chunkSize: 64 * 1024,
  })
  expect(result.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(8)
}

describe('GetMedia output read by clients nobody here wrote', () => {
  it('is read by the AWS CLI v2 (get-media to a file), with the fragments and clusters that were put', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'cli')
    const numbers = await putClusters(emulator, 'cli')
    const out = join(directory, 'cli.mkv')
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')))
    // GetMedia never ends, so the CLI stops on its read timeout once the emulator has nothing more to send. It
    // writes the payload in fixed-size blocks and loses the last partial one then: the second batch of
    // fragments pushes the first eight through.
    const cli = new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        AWS,
        [
          'kinesis-video-media',
          'get-media',
          '--endpoint-url',
          emulator.url,
          '--region',
          emulator.region,
          '--stream-name',
          'cli',
          '--start-selector',
          'StartSelectorType=EARLIEST',
          '--cli-read-timeout',
          '3',
          out,
        ],
        {
          env: {
            ...clean,
            AWS_ACCESS_KEY_ID: emulator.credentials[0]!.accessKeyId,
            AWS_SECRET_ACCESS_KEY: emulator.credentials[0]!.secretAccessKey,
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
            AWS_MAX_ATTEMPTS: '1',
          },
          timeout: 30_000,
        },
        (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr }),
      )
    })
    await putMore(emulator, 'cli')
    const result = await cli
    // The read timeout is how it ends: an error exit, after the payload was written.
    expect(result.stderr).toMatch(/Read timeout/)
    const fragments = fragmentsOf(new Uint8Array(await readFile(out)))
    expect(fragments.length).toBeGreaterThanOrEqual(8)
    expect(fragments.slice(0, 8).map((fragment) => fragment.fragmentNumber)).toEqual(numbers)
    const originals = clustersOf(CLUSTERS)
    const clusters = fragments.slice(0, 8).map((fragment) => clustersOf(concatBytes(fragment.parts))[0]!)
    expect(
      clusters.map((cluster, index) => Buffer.from(cluster).equals(Buffer.from(originals[index]!))),
    ).toEqual(originals.map(() => true))
  })

  it('is read by @aws-sdk/client-kinesis-video-media GetMediaCommand', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'sdk')
    const numbers = await putClusters(emulator, 'sdk')
    const client = new KinesisVideoMediaClient({
      endpoint: emulator.url,
      region: emulator.region,
      credentials: { ...emulator.credentials[0]! },
    })
    try {
      const output = await client.send(
        new GetMediaCommand({ StreamName: 'sdk', StartSelector: { StartSelectorType: 'EARLIEST' } }),
      )
      expect(output.ContentType).toBe('video/webm')
      const payload = output.Payload as Readable
      const parser = createGetMediaParser({ mode: 'raw' })
      const fragments: FragmentEvent[] = []
      for await (const chunk of payload) {
        for (const event of parser.push(chunk as Uint8Array))
          if (event.type === 'fragment') fragments.push(event)
        if (fragments.length === 8) break
      }
      payload.destroy()
      const path = join(directory, 'sdk.mkv')
      await writeFile(path, concatBytes(fragments.flatMap((fragment) => fragment.parts)))
      // Our parser reads what the SDK wrote to disk.
      expect(
        fragmentsOf(new Uint8Array(await readFile(path))).map((fragment) => fragment.fragmentNumber),
      ).toEqual(numbers)
    } finally {
      client.destroy()
    }
  })

  it('is accepted by ffprobe and mkvinfo document by document, with the frame counts of the real capture', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'tools')
    await putClusters(emulator, 'tools')
    const reader = await openGetMedia(emulator, 'tools', { StartSelectorType: 'EARLIEST' })
    const fragments = await reader.waitForFragments(8)
    reader.close()
    const path = join(directory, 'tools.mkv')
    await writeFile(path, concatBytes(fragments.flatMap((fragment) => fragment.parts)))

    const ours = await perDocument(path, ffprobeCounts)
    const real = await perDocument(
      fixturePath('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv'),
      ffprobeCounts,
    )
    expect(ours.map((document) => document.packetsPerStream)).toEqual(
      fragments.map((fragment) => [fragment.frameCount]),
    )
    expect(ours).toEqual(real)
    expect(ours.map((document) => document.streams)).toEqual(
      ours.map(() => [{ index: 0, codec: 'h264', codecType: 'video' }]),
    )

    const mkvinfo = await perDocument(path, (document) =>
      run('mkvinfo', ['--ui-language', 'en_US', '-v', '-z', document]),
    )
    for (const result of mkvinfo) {
      expect(result.code).toBe(0)
      expect(result.stdout).not.toMatch(/Error|Warning|Resync/i)
      expect(result.stdout).toMatch(/AWS_KINESISVIDEO_CONTINUATION_TOKEN/)
    }
    // The same documents as the service wrote for this input, apart from the SeekHead and Void of its header and
    // the Cues it passed on after the last cluster (the emulator stores Tags after a cluster, not Cues).
    const realDocuments = fragmentsOf(
      new Uint8Array(
        await readFile(fixturePath('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')),
      ),
    )
    for (const [index, fragment] of fragments.entries()) {
      const shape = (document: Uint8Array) =>
        documentLayout(document)
          .map((element) => element.id)
          .filter((id) => id !== ElementId.Cues)
      expect(shape(concatBytes(fragment.parts)).slice(2)).toEqual(
        shape(concatBytes(realDocuments[index]!.parts)).slice(4),
      )
    }
  })
})
