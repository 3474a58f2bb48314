import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media'
import { concatBytes } from '@kvs-streams/core'
import { ElementId } from '@kvs-streams/ebml'
import { createGetMediaParser, type MediaFragmentEvent } from '@kvs-streams/get-media'
import { ffprobeCounts, fixturePath, perDocument, run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { createStream, testEmulator } from './support/client.ts'
import {
  CLUSTERS,
  clustersOf,
  type DocumentElement,
  documentLayout,
  openGetMedia,
  putClusters,
} from './support/media-reader.ts'

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
function fragmentsOf(bytes: Uint8Array): MediaFragmentEvent[] {
  return createGetMediaParser({ mode: 'raw' })
    .push(bytes)
    .filter((event): event is MediaFragmentEvent => event.type === 'fragment' && event.complete)
}

/**
 * Every fragment of a whole media body, which must end on a fragment boundary (no cluster cut short), each
 * complete: with its continuation token (GetMedia), or without (GetMediaForFragmentList: `tokens` false).
 */
function wholeFragmentsOf(bytes: Uint8Array, tokens = true): MediaFragmentEvent[] {
  const parser = createGetMediaParser({ mode: 'raw' })
  const fragments = [...parser.push(bytes), ...parser.end()].filter(
    (event): event is MediaFragmentEvent => event.type === 'fragment',
  )
  if (tokens) expect(fragments.every((fragment) => fragment.complete)).toBe(true)
  return fragments
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** The clusters of the fragments are those of clusters.mkv, byte for byte, in order. */
function expectClustersOfInput(fragments: readonly MediaFragmentEvent[]): void {
  const clusters = fragments.map((fragment) => hex(clustersOf(concatBytes(fragment.parts))[0]!))
  expect(clusters).toEqual(clustersOf(CLUSTERS).map(hex))
}

/** The environment of a client run against the emulator: its first key pair, no config or profile. */
function clientEnv(emulator: Emulator): Record<string, string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => !entry[0].startsWith('AWS_') && entry[1] !== undefined,
    ),
  )
  return {
    ...clean,
    AWS_ACCESS_KEY_ID: emulator.credentials[0]!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.credentials[0]!.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
  }
}

/** Runs a client to its exit (killed after 60 s: a response that never ends would hang it). */
function runClient(
  command: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({
        code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
        stdout,
        stderr,
      }),
    )
    child.stdin?.end(input)
  })
}

describe('GetMedia output read by clients nobody here wrote', () => {
  it('is read to its end by the AWS CLI v2 (get-media to a file): exit 0, every fragment, clusters byte-identical', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'cli')
    const numbers = await putClusters(emulator, 'cli')
    const out = join(directory, 'cli.mkv')
    // The response ends once it has caught up and no fragment comes for the idle window: the CLI returns.
    const result = await runClient(
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
        out,
      ],
      clientEnv(emulator),
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({ ContentType: 'video/webm' })
    const fragments = wholeFragmentsOf(new Uint8Array(await readFile(out)))
    expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual(numbers)
    expectClustersOfInput(fragments)
  })

  it('is read to its end by boto3 (Payload.read()): every fragment, clusters byte-identical, and so is GetMediaForFragmentList', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'boto3')
    const numbers = await putClusters(emulator, 'boto3')
    const media = join(directory, 'boto3.mkv')
    const list = join(directory, 'boto3-list.mkv')
    // The way AWS's Python examples read GetMedia: the whole payload, with a read timeout far above the
    // emulator's idle window (a response that never ended would fail on it, after dropping the partial block).
    const script = [
      'import json, sys, boto3',
      'from botocore.config import Config',
      'endpoint, region, stream, media, listed = sys.argv[1:6]',
      "config = Config(read_timeout=30, retries={'max_attempts': 1})",
      "client = boto3.client('kinesis-video-media', endpoint_url=endpoint, region_name=region, config=config)",
      "response = client.get_media(StreamName=stream, StartSelector={'StartSelectorType': 'EARLIEST'})",
      "open(media, 'wb').write(response['Payload'].read())",
      "archived = boto3.client('kinesis-video-archived-media', endpoint_url=endpoint, region_name=region, config=config)",
      'numbers = json.load(sys.stdin)',
      'response = archived.get_media_for_fragment_list(StreamName=stream, Fragments=numbers)',
      "open(listed, 'wb').write(response['Payload'].read())",
      "print(response['ContentType'])",
    ].join('\n')
    const result = await runClient(
      '/usr/bin/python3',
      ['-c', script, emulator.url, emulator.region, 'boto3', media, list],
      clientEnv(emulator),
      JSON.stringify([numbers[5], numbers[1]]),
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('video/webm\n')
    const fragments = wholeFragmentsOf(new Uint8Array(await readFile(media)))
    expect(fragments.map((fragment) => fragment.fragmentNumber)).toEqual(numbers)
    expectClustersOfInput(fragments)
    // GetMediaForFragmentList ends after its list, in the order asked.
    const listed = wholeFragmentsOf(new Uint8Array(await readFile(list)), false)
    expect(listed.map((fragment) => fragment.fragmentNumber)).toEqual([numbers[5], numbers[1]])
    const originals = clustersOf(CLUSTERS)
    expect(listed.map((fragment) => hex(clustersOf(concatBytes(fragment.parts))[0]!))).toEqual([
      hex(originals[5]!),
      hex(originals[1]!),
    ])
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
      const fragments: MediaFragmentEvent[] = []
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
    // The same documents as the service wrote for this input: the EBML header and Segment start (8-byte unknown
    // size), Info and Tracks byte for byte, a SeekHead and a Void in the same span before them (as sent: the
    // file that producer sent had its Tags elsewhere, so their contents differ). Then this capture lacks the
    // producer's header Tags, which the service returned in every chunk of output_get_media.mkv and the emulator
    // keeps, and has the Cues passed on after the last cluster (the emulator stores Tags after a cluster, not Cues).
    const realDocuments = fragmentsOf(
      new Uint8Array(
        await readFile(fixturePath('kvs-getmedia', 'kinesis_video_renderer_example_output.mkv')),
      ),
    )
    expect(realDocuments).toHaveLength(fragments.length)
    for (const [index, fragment] of fragments.entries()) {
      const document = concatBytes(fragment.parts)
      const real = concatBytes(realDocuments[index]!.parts)
      const layout = documentLayout(document)
      const realLayout = documentLayout(real)
      expect(layout.slice(0, 6).map((element) => element.id)).toEqual([
        ElementId.EBML,
        ElementId.Segment,
        ElementId.SeekHead,
        ElementId.Void,
        ElementId.Info,
        ElementId.Tracks,
      ])
      const bytes = (of: Uint8Array, from: DocumentElement, to: DocumentElement) =>
        Buffer.from(of.subarray(from.start, to.end)).toString('hex')
      expect(bytes(document, layout[0]!, layout[1]!)).toBe(bytes(real, realLayout[0]!, realLayout[1]!))
      expect(layout[4]!.start).toBe(realLayout[4]!.start)
      expect(bytes(document, layout[4]!, layout[5]!)).toBe(bytes(real, realLayout[4]!, realLayout[5]!))
      expect(layout[6]!.tags).toHaveProperty('COMPATIBLE_BRANDS')
      expect(layout.filter((_, at) => at !== 6).map((element) => element.id)).toEqual(
        realLayout.map((element) => element.id).filter((id) => id !== ElementId.Cues),
      )
    }
  })
})
