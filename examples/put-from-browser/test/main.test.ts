import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'
import { readStream } from '@kvs-streams/get-media'
import { createKvsSigner } from '@kvs-streams/signer'
import { ffprobeCounts, perDocument, run } from '@kvs-streams/test-utils'
import { listAllFragments } from '@kvs-streams/transport'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bundle, type PageResult, runInChromium, type Site, startSite } from '../src/main.ts'

let site: Site
let directory: string
/** The PutMedia requests of the stream 'worker-cut' that the emulator cuts (by index, from 0). */
const CUT_REQUESTS = [2, 5, 8]
/** What the emulator saw of 'worker-cut': PutMedia requests, and how many of them it cut. */
const cutStream = { requests: 0, cut: 0 }
beforeAll(async () => {
  site = await startSite({
    fragments: 4,
    // On the stream 'worker-cut' only, the 3rd, 6th and 9th requests are cut after 1,000 bytes.
    faults: (streamName, connectionIndex) => {
      if (streamName !== 'worker-cut') return undefined
      cutStream.requests++
      if (!CUT_REQUESTS.includes(connectionIndex)) return undefined
      cutStream.cut++
      return { dropAfterBytes: 1000 }
    },
  })
  directory = mkdtempSync(join(tmpdir(), 'kvs-put-from-browser-'))
})
afterAll(async () => {
  await site?.close()
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
})

/** Reads `count` fragments of `streamName` back with GetMedia (raw mode) from the earliest one. */
async function readBack(streamName: string, count: number) {
  const fragments: { fragmentNumber: string | undefined; frameCount: number; parts: Uint8Array[] }[] = []
  for await (const event of readStream({
    streamName,
    startSelector: { StartSelectorType: 'EARLIEST' },
    mode: 'raw',
    endpoint: site.emulator.url,
    region: site.emulator.region,
    credentials: { ...DEFAULT_CREDENTIALS },
  })) {
    if (event.type !== 'fragment') continue
    fragments.push({ fragmentNumber: event.fragmentNumber, frameCount: event.frameCount, parts: event.parts })
    if (fragments.length === count) break
  }
  return fragments
}

/** Checks a recording run: every fragment the chunker cut was PERSISTED once, in order, starting on a key frame. */
function expectAllPersisted(result: PageResult, atLeast: number): void {
  expect(result.mimeType).toBe('video/x-matroska;codecs=avc1')
  expect(result.violations).toEqual([])
  expect(result.acknowledged.length).toBeGreaterThanOrEqual(atLeast)
  expect(result.acknowledged.map((item) => item.index)).toEqual(result.fragments.map((item) => item.index))
  expect(result.acknowledged.map((item) => item.fragmentTimecode)).toEqual(
    result.fragments.map((item) => item.timecode),
  )
  expect(result.fragments.every((fragment) => fragment.keyframe && fragment.blockCount > 0)).toBe(true)
  for (const item of result.acknowledged) {
    expect(item.acks).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    expect(item.fragmentNumber).toMatch(/^\d{47}$/)
  }
  expect(new Set(result.acknowledged.map((item) => item.fragmentNumber)).size).toBe(
    result.acknowledged.length,
  )
}

// Each browser test starts Chromium and records for some seconds: room for a loaded 2-core machine.
describe('put from a browser', { timeout: 120_000 }, () => {
  test('the page and worker bundle for the browser platform with the fetch transport and no Node module', async () => {
    const { inputs, page, worker } = await bundle()
    expect(inputs.some((input) => input.endsWith('packages/transport/src/put-fragment.ts'))).toBe(true)
    expect(inputs.some((input) => input.endsWith('packages/chunker/src/stream.ts'))).toBe(true)
    // The undici transport (Duplex PutMedia, dispatcher) stays out: the web entry does not reach it.
    expect(
      inputs.filter((input) =>
        /undici|transport\/src\/(put-media|http-exchange|default-dispatcher|options)\.ts$/.test(input),
      ),
    ).toEqual([])
    expect(inputs.filter((input) => input.startsWith('node:'))).toEqual([])
    for (const code of [page, worker]) expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/)
  })

  test('Chromium records a canvas with MediaRecorder, puts each fragment with fetch, all PERSISTED; GetMedia reads back every frame', async () => {
    const lines: string[] = []
    const result = await runInChromium(site.url, { print: (line) => lines.push(line) })
    expectAllPersisted(result, 4)
    expect(result.retries).toBe(0)
    expect(lines.filter((line) => / PERSISTED as …\d{8}$/.test(line))).toHaveLength(
      result.acknowledged.length,
    )

    const read = await readBack(site.config.streamName, result.acknowledged.length)
    expect(read.map((fragment) => fragment.fragmentNumber)).toEqual(
      result.acknowledged.map((item) => item.fragmentNumber),
    )
    expect(read.map((fragment) => fragment.frameCount)).toEqual(
      result.fragments.map((item) => item.blockCount),
    )
    const out = join(directory, 'canvas.mkv')
    writeFileSync(out, Buffer.concat(read.flatMap((fragment) => fragment.parts)))
    // ffprobe decodes every frame of the concatenated GetMedia documents…
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v',
      '-show_entries',
      'stream=codec_name,width,height,nb_read_frames',
      '-of',
      'csv=p=0',
      out,
    ])
    expect(probe.code).toBe(0)
    const frames = result.fragments.reduce((sum, fragment) => sum + fragment.blockCount, 0)
    expect(probe.stdout.trim()).toBe(`h264,320,240,${frames}`)
    // …and reads each document alone with the frames the browser's chunker counted in it.
    const documents = await perDocument(out, ffprobeCounts)
    expect(documents.map((document) => document.packetsPerStream)).toEqual(
      result.fragments.map((fragment) => [fragment.blockCount]),
    )
  })

  test("Chromium's fake camera through getUserMedia is stored the same way", async () => {
    await site.createStream('browser-fake-camera')
    const result = await runInChromium(`${site.url}?stream=browser-fake-camera&source=camera&fragments=2`)
    expectAllPersisted(result, 2)
    const read = await readBack('browser-fake-camera', result.acknowledged.length)
    expect(read.map((fragment) => fragment.frameCount)).toEqual(
      result.fragments.map((item) => item.blockCount),
    )
  })

  test('the bundled packages run in a Web Worker: clusters.mkv put with fetch, its 8 fragments PERSISTED and listed once', async () => {
    await site.createStream('from-worker')
    const result = await runInChromium(`${site.url}?mode=worker&stream=from-worker`)
    expect(result.acknowledged.map((item) => [item.index, item.attempts])).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((index) => [index, 1]),
    )
    // The Cluster timecodes of clusters.mkv, as fixtures/SOURCES.md lists them.
    expect(result.acknowledged[0]!.fragmentTimecode).toBe(0)
    expect(result.acknowledged[7]!.fragmentTimecode).toBe(13997)
    expect(result.acknowledged.every((item) => item.acks.at(-1) === 'PERSISTED')).toBe(true)
    const listed: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: site.emulator.url,
      streamName: 'from-worker',
      signer: createKvsSigner({ region: site.emulator.region, credentials: { ...DEFAULT_CREDENTIALS } }),
    })) {
      listed.push(fragment.FragmentNumber)
    }
    expect(listed.sort()).toEqual(result.acknowledged.map((item) => item.fragmentNumber).sort())
  })

  test('in the browser a request cut by the service fails the fetch and the fragment is sent again, stored once', async () => {
    await site.createStream('worker-cut')
    const result = await runInChromium(`${site.url}?mode=worker&stream=worker-cut`)
    // Each cut request is sent again, by the page (its fetch fails: `retries`, `attempts`) or by Chromium
    // itself: it resends any request, POST included, whose reused keep-alive connection is reset before the
    // response headers are read (net::HttpNetworkTransaction::ShouldResendRequest), which happens when the
    // emulator's RST overtakes the 200 it had just flushed. Either way every fragment is stored once.
    expect(cutStream.cut).toBe(CUT_REQUESTS.length)
    expect(cutStream.requests).toBe(8 + CUT_REQUESTS.length)
    expect(result.acknowledged.map((item) => item.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(result.acknowledged.every((item) => item.acks.at(-1) === 'PERSISTED')).toBe(true)
    expect(result.acknowledged.reduce((sum, item) => sum + item.attempts, 0)).toBe(8 + result.retries)
    // The page's own resend path ran: at least one cut reached the fetch (three cuts make all three hidden
    // by Chromium's resend practically impossible).
    expect(result.retries).toBeGreaterThanOrEqual(1)
    expect(result.retries).toBeLessThanOrEqual(CUT_REQUESTS.length)
    const listed: string[] = []
    for await (const fragment of listAllFragments({
      endpoint: site.emulator.url,
      streamName: 'worker-cut',
      signer: createKvsSigner({ region: site.emulator.region, credentials: { ...DEFAULT_CREDENTIALS } }),
    })) {
      listed.push(fragment.FragmentNumber)
    }
    expect(listed.sort()).toEqual(result.acknowledged.map((item) => item.fragmentNumber).sort())
  })
})
