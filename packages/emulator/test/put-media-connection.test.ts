import { describe, expect, it } from 'vitest'
import type { PutMediaFaults } from '../src/index.ts'
import { acksByFragment, createStream, openPutMedia, putMedia, testEmulator } from './support/client.ts'
import { mkvCluster, mkvHeader, videoCluster, videoStream } from './support/mkv.ts'

describe('PutMedia connection lifetime', () => {
  it('sends IDLE acks while the body is silent, then closes an idle connection after finishing its fragment', async () => {
    const emulator = await testEmulator({ idleAckIntervalMs: 40, idleTimeoutMs: 400 })
    await createStream(emulator, 'idle')
    const upload = await openPutMedia(emulator, { streamName: 'idle' })
    await upload.write(mkvHeader())
    await upload.write(mkvCluster(videoCluster(0)))
    const result = await upload.result
    await upload.socketClosed
    expect(result.complete).toBe(true)
    const idle = result.acks.filter((ack) => ack.eventType === 'IDLE')
    expect(idle.length).toBeGreaterThanOrEqual(2)
    expect(idle[0]).toEqual({ eventType: 'IDLE' })
    expect([...acksByFragment(result.acks).values()]).toEqual([['BUFFERING', 'RECEIVED', 'PERSISTED']])
  })

  it('sends ERROR 4003 once the connection is older than maxConnectionDurationMs', async () => {
    const emulator = await testEmulator({ maxConnectionDurationMs: 300 })
    await createStream(emulator, 'old')
    const upload = await openPutMedia(emulator, { streamName: 'old' })
    await upload.write(mkvHeader())
    await upload.write(mkvCluster(videoCluster(0)))
    const result = await upload.result
    await upload.socketClosed
    const last = result.acks[result.acks.length - 1]!
    expect(last).toMatchObject({
      eventType: 'ERROR',
      errorId: 4003,
      errorCode: 'MAX_CONNECTION_DURATION_REACHED',
    })
    expect(last.fragmentTimecode).toBe(0)
  })

  it('ends the older PutMedia of a stream when a newer one arrives (newest wins)', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'contended')
    const older = await openPutMedia(emulator, { streamName: 'contended', timecodeType: 'RELATIVE' })
    await older.write(mkvHeader())
    await older.write(mkvCluster(videoCluster(0)))
    await older.write(mkvCluster(videoCluster(1000)))
    await older.waitForAck((ack) => ack.eventType === 'PERSISTED')

    const newer = await openPutMedia(emulator, { streamName: 'contended', timecodeType: 'RELATIVE' })
    await newer.write(videoStream(2))
    const olderResult = await older.result
    await older.socketClosed
    expect(olderResult.complete).toBe(true)
    expect(olderResult.acks.some((ack) => ack.eventType === 'ERROR')).toBe(false)

    newer.end()
    const newerResult = await newer.result
    expect([...acksByFragment(newerResult.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
    ])
    // The older connection's open fragment (timecode 1000) was dropped with it.
    expect(emulator.storage.listFragments('contended').map((fragment) => fragment.fragmentTimecode)).toEqual([
      0, 0, 1000,
    ])
  })

  it('finishes live PutMedia connections when the emulator closes: stored fragments still get PERSISTED', async () => {
    const emulator = await testEmulator()
    await createStream(emulator, 'closing')
    const upload = await openPutMedia(emulator, { streamName: 'closing' })
    await upload.write(videoStream(3))
    await upload.waitForAck((ack) => ack.eventType === 'RECEIVED' && ack.fragmentTimecode === 1000)
    await emulator.close()
    const result = await upload.result
    expect(result.complete).toBe(true)
    expect([...acksByFragment(result.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING'],
    ])
  })

  it('keeps serving other streams and requests while a PutMedia stalls', async () => {
    const emulator = await testEmulator({ idleAckIntervalMs: 1000, idleTimeoutMs: 5000 })
    await createStream(emulator, 'stalled')
    await createStream(emulator, 'busy')
    const stalled = await openPutMedia(emulator, { streamName: 'stalled' })
    await stalled.write(mkvHeader())
    const busy = await putMedia(emulator, videoStream(2), { streamName: 'busy' })
    expect(busy.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
    stalled.abort()
  })
})

describe('PutMedia fault injection', () => {
  async function upload(
    faults: PutMediaFaults | ((stream: string, index: number) => PutMediaFaults | undefined),
  ) {
    const emulator = await testEmulator({ faults })
    await createStream(emulator, 'faulty')
    return { emulator, result: await putMedia(emulator, videoStream(4), { streamName: 'faulty' }) }
  }

  it('drops the connection without a terminating chunk after dropAfterFragments fragments', async () => {
    const { emulator, result } = await upload({ dropAfterFragments: 2 })
    expect(result.complete).toBe(false)
    expect(result.acks.filter((ack) => ack.eventType === 'RECEIVED')).toHaveLength(2)
    expect(result.acks.some((ack) => ack.eventType === 'PERSISTED')).toBe(false)
    // What was received is still stored.
    await expect.poll(() => emulator.storage.listFragments('faulty').length).toBe(2)
  })

  it('drops the connection after dropAfterBytes body bytes', async () => {
    const { result } = await upload({ dropAfterBytes: 50 })
    expect(result.complete).toBe(false)
    expect(result.acks).toEqual([])
  })

  it('answers the fragment after errorAfterFragments.count with the injected ERROR', async () => {
    const { result } = await upload({ errorAfterFragments: { count: 2, errorId: 5000 } })
    expect(result.complete).toBe(true)
    expect(result.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
    expect(result.acks[result.acks.length - 1]).toMatchObject({
      eventType: 'ERROR',
      errorId: 5000,
      errorCode: 'INTERNAL_ERROR',
      fragmentTimecode: 2000,
    })
  })

  it('delays acks by ackDelayMs, keeping their order', async () => {
    const { result } = await upload({ ackDelayMs: 20 })
    expect([...acksByFragment(result.acks).values()]).toEqual(
      Array.from({ length: 4 }, () => ['BUFFERING', 'RECEIVED', 'PERSISTED']),
    )
  })

  it('chooses faults per connection with a function of the stream name and connection index', async () => {
    const calls: [string, number][] = []
    const emulator = await testEmulator({
      faults: (streamName, connectionIndex) => {
        calls.push([streamName, connectionIndex])
        return connectionIndex === 0 ? { dropAfterFragments: 1 } : undefined
      },
    })
    await createStream(emulator, 'retry')
    const first = await putMedia(emulator, videoStream(2), { streamName: 'retry' })
    const second = await putMedia(emulator, videoStream(2), { streamName: 'retry' })
    expect(first.complete).toBe(false)
    expect(second.complete).toBe(true)
    expect(second.acks.filter((ack) => ack.eventType === 'PERSISTED')).toHaveLength(2)
    expect(calls).toEqual([
      ['retry', 0],
      ['retry', 1],
    ])
  })
})
