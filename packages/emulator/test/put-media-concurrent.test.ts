import type { Ack } from '@kvs-streams/acks'
import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import {
  admitPutMediaStart,
  parseAmzDate,
  putMediaStartMs,
  SIGNING_WINDOW_MS,
} from '../src/put-media/request-start.ts'
import {
  acksByFragment,
  callJson,
  createStream,
  openPutMedia,
  signerFor,
  testEmulator,
} from './support/client.ts'
import { mkvCluster, mkvHeader, videoCluster, videoStream } from './support/mkv.ts'

const buffering = (timecode: number) => (ack: Ack) =>
  ack.eventType === 'BUFFERING' && ack.fragmentTimecode === timecode
const received = (timecode: number) => (ack: Ack) =>
  ack.eventType === 'RECEIVED' && ack.fragmentTimecode === timecode

/** The fragment numbers ListFragments answers for a stream, over HTTP. */
async function listedNumbers(emulator: Emulator, streamName: string): Promise<string[]> {
  const listed = await callJson(emulator, '/listFragments', { StreamName: streamName })
  expect(listed.status).toBe(200)
  return (listed.json!.Fragments as { FragmentNumber: string }[]).map((item) => item.FragmentNumber)
}

/** A whole second of the emulator's clock, so signatures made from it carry exactly this time. */
function wholeSecond(): number {
  return Math.floor(Date.now() / 1000) * 1000
}

describe('PutMedia start arbitration core', () => {
  it('parses x-amz-date values and refuses what is not a date', () => {
    expect(parseAmzDate('20261206T084310Z')).toBe(Date.UTC(2026, 11, 6, 8, 43, 10))
    for (const bad of [
      undefined,
      '',
      '20261206T084310',
      '2026-12-06T08:43:10Z',
      '20261232T084310Z',
      '20261206T254310Z',
    ]) {
      expect(parseAmzDate(bad)).toBeUndefined()
    }
  })

  it('takes the signing time as the start, else the arrival time', () => {
    expect(putMediaStartMs('20261206T084310Z', 123)).toBe(Date.UTC(2026, 11, 6, 8, 43, 10))
    expect(putMediaStartMs(undefined, 123)).toBe(123)
    expect(putMediaStartMs('garbage', 123)).toBe(123)
  })

  it.each([
    ['the first request', undefined, 5000, 5000, { admitted: true, newestStartMs: 5000 }],
    ['a newer start', 5000, 6000, 6000, { admitted: true, newestStartMs: 6000 }],
    ['an equal start (the later arrival wins)', 5000, 5000, 6000, { admitted: true, newestStartMs: 5000 }],
    ['an older start', 6000, 5000, 6000, { admitted: false, newestStartMs: 6000 }],
    [
      'an older start at the end of the signing window',
      6000,
      5000,
      6000 + SIGNING_WINDOW_MS,
      { admitted: false, newestStartMs: 6000 },
    ],
    [
      'an older start once the newest is forgotten',
      6000,
      5000,
      6001 + SIGNING_WINDOW_MS,
      { admitted: true, newestStartMs: 5000 },
    ],
  ])('decides %s', (_label, newest, start, now, expected) => {
    expect(admitPutMediaStart(newest, start, now)).toEqual(expected)
  })
})

describe('concurrent PutMedia connections on one stream', () => {
  it('refuses a request signed before the newest accepted one although its head arrives last; the newer keeps writing', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'race')
    const signedAt = wholeSecond()
    const newer = await openPutMedia(emulator, {
      streamName: 'race',
      signer: signerFor(emulator, { clock: () => signedAt + 1000 }),
    })
    expect((await newer.response).status).toBe(200)
    await newer.write(mkvHeader())
    await newer.write(mkvCluster(videoCluster(0)))
    await newer.waitForAck(buffering(0))

    // The abandoned session's request, delayed in the network: its head arrives after the newer one's.
    const older = await openPutMedia(emulator, {
      streamName: 'race',
      signer: signerFor(emulator, { clock: () => signedAt }),
    })
    await older.write(videoStream(3, 5000))
    const refused = await older.result
    expect(refused.status).toBe(400)
    expect(refused.headers['x-amzn-errortype']).toMatch(/^ConnectionLimitExceededException:/)
    const message = JSON.parse(refused.text).Message as string
    expect(message).toContain(new Date(signedAt).toISOString())
    expect(message).toContain(new Date(signedAt + 1000).toISOString())

    await newer.write(mkvCluster(videoCluster(1000)))
    newer.end()
    const result = await newer.result
    expect(result.complete).toBe(true)
    expect([...acksByFragment(result.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
    ])
    const newerNumbers = result.acks
      .filter((ack) => ack.eventType === 'PERSISTED')
      .map((ack) => ack.fragmentNumber)
    expect(emulator.storage.listFragments('race').map((fragment) => fragment.fragmentNumber)).toEqual(
      newerNumbers,
    )
  })

  it('keeps refusing an older request after the newer one ended, until the newer start leaves the signing window', async () => {
    let now = wholeSecond()
    const emulator = await testEmulator({ clock: () => now })
    await createStream(emulator, 'window')
    const newerAt = now
    const newer = await openPutMedia(emulator, {
      streamName: 'window',
      signer: signerFor(emulator, { clock: () => newerAt }),
    })
    await newer.write(videoStream(1))
    newer.end()
    expect((await newer.result).status).toBe(200)

    const olderSigner = signerFor(emulator, { clock: () => newerAt - 1000 })
    const refused = await openPutMedia(emulator, { streamName: 'window', signer: olderSigner })
    await refused.write(videoStream(1, 5000))
    expect((await refused.result).status).toBe(400)

    now = newerAt + SIGNING_WINDOW_MS + 1000
    const accepted = await openPutMedia(emulator, { streamName: 'window', signer: olderSigner })
    await accepted.write(videoStream(1, 5000))
    accepted.end()
    const result = await accepted.result
    expect(result.status).toBe(200)
    expect(result.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
  })

  it('lets the later arrival win between requests signed in the same second', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'same-second')
    const signedAt = wholeSecond()
    const signer = signerFor(emulator, { clock: () => signedAt })
    const first = await openPutMedia(emulator, { streamName: 'same-second', signer })
    await first.write(videoStream(3))
    await first.waitForAck(received(1000))
    await first.waitForAck(buffering(2000))

    const second = await openPutMedia(emulator, { streamName: 'same-second', signer })
    expect((await second.response).status).toBe(200)
    const firstResult = await first.result
    expect(firstResult.complete).toBe(true)
    expect(firstResult.acks.some((ack) => ack.eventType === 'ERROR')).toBe(false)
    await second.write(videoStream(1, 3000))
    second.end()
    const secondResult = await second.result
    expect(secondResult.acks.map((ack) => ack.eventType)).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED'])
    // The first connection's open fragment (2000) was discarded with it.
    expect(
      emulator.storage.listFragments('same-second').map((fragment) => fragment.fragmentTimecode),
    ).toEqual([0, 1000, 3000])
  })

  it('sends the new writer its 200 only once ListFragments lists every fragment the superseded one completed', async () => {
    const emulator = await testEmulator({
      // A slow disk for the first connection: its fragments are stored 300 ms after their RECEIVED ack.
      faults: (_stream, connectionIndex) => (connectionIndex === 0 ? { storeDelayMs: 300 } : undefined),
    })
    await createStream(emulator, 'handover')
    const old = await openPutMedia(emulator, { streamName: 'handover' })
    await old.write(videoStream(3))
    const completed = [await old.waitForAck(received(0)), await old.waitForAck(received(1000))]
    await old.waitForAck(buffering(2000))
    expect(emulator.storage.listFragments('handover')).toEqual([])

    const next = await openPutMedia(emulator, { streamName: 'handover' })
    expect((await next.response).status).toBe(200)
    const numbers = await listedNumbers(emulator, 'handover')
    expect(numbers.sort()).toEqual(completed.map((ack) => ack.fragmentNumber).sort())
    for (const number of numbers) {
      expect(await emulator.storage.readFragment('handover', number)).toMatchObject({
        fragmentNumber: number,
      })
    }
    // The superseded connection still acknowledges what it stored, and nothing of its open fragment.
    const oldResult = await old.result
    expect([...acksByFragment(oldResult.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING'],
    ])
    next.abort()
  })

  it('refuses a request superseded while it waits for those stores, and answers the newest', async () => {
    const emulator = await testEmulator({
      faults: (_stream, connectionIndex) => (connectionIndex === 0 ? { storeDelayMs: 300 } : undefined),
    })
    await createStream(emulator, 'queue')
    const old = await openPutMedia(emulator, { streamName: 'queue' })
    await old.write(videoStream(2))
    await old.waitForAck(received(0))
    // Signed after the first connection, and one second apart: the last one wins whatever the arrival order.
    const signedAt = wholeSecond() + 1000
    const waiting = await openPutMedia(emulator, {
      streamName: 'queue',
      signer: signerFor(emulator, { clock: () => signedAt }),
    })
    const newest = await openPutMedia(emulator, {
      streamName: 'queue',
      signer: signerFor(emulator, { clock: () => signedAt + 1000 }),
    })
    const refused = await waiting.result
    expect(refused.status).toBe(400)
    expect(refused.headers['x-amzn-errortype']).toMatch(/^ConnectionLimitExceededException:/)
    expect((await newest.response).status).toBe(200)
    expect(emulator.storage.listFragments('queue')).toHaveLength(1)
    await newest.write(videoStream(1, 5000))
    newest.end()
    expect((await newest.result).acks.map((ack) => ack.eventType)).toEqual([
      'BUFFERING',
      'RECEIVED',
      'PERSISTED',
    ])
  })

  it('sends the next PutMedia its 200 only once the fragments of a connection the network cut are listed', async () => {
    const emulator = await testEmulator({
      faults: (_stream, connectionIndex) => (connectionIndex === 0 ? { storeDelayMs: 300 } : undefined),
    })
    await createStream(emulator, 'cut')
    const cut = await openPutMedia(emulator, { streamName: 'cut' })
    await cut.write(videoStream(2))
    const completed = await cut.waitForAck(received(0))
    await cut.waitForAck(buffering(1000))
    cut.abort()
    await cut.socketClosed
    expect(emulator.storage.listFragments('cut')).toEqual([])

    const next = await openPutMedia(emulator, { streamName: 'cut' })
    expect((await next.response).status).toBe(200)
    expect(await listedNumbers(emulator, 'cut')).toEqual([completed.fragmentNumber])
    next.abort()
  })
})
