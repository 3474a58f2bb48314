import { describeAckError } from '@kvs-streams/acks'
import { afterAll, describe, expect, test } from 'vitest'
import { ProducerError } from '../src/index.ts'
import { FAULT_BUDGET } from './support/faults.ts'
import { feed } from './support/feed.ts'
import { makeSource, seededRandom } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { ofType, producerFor, record, testEmulator } from './support/run.ts'
import { expectExactlyOnce, storedClusterHashes } from './support/verify.ts'

let injected = 0

afterAll(() => {
  console.log(`faults injected (errorAcks): ${injected}`)
  expect(injected).toBeGreaterThanOrEqual(FAULT_BUDGET.errorAcks)
})

describe('ERROR acks', () => {
  test('retriable ErrorIds (5000, 5001, 4000, 4003) make the producer resend the fragment: each is stored once', async () => {
    const random = seededRandom(21)
    const retriable = [5000, 5001, 4000, 4003]
    const emulator = await testEmulator({
      faults: (_stream, connection) =>
        connection < 60
          ? {
              errorAfterFragments: {
                count: Math.floor(random() * 5),
                errorId: retriable[Math.floor(random() * retriable.length)]!,
              },
            }
          : undefined,
    })
    const producer = await producerFor(emulator, 'retriable')
    const events = record(producer)
    const media = makeSource({ fragments: 250, seed: 21 })
    await feed(producer.writable, media, { paceMs: 2 })
    const stats = await producer.close()

    const errors = ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')
    injected += errors.length
    expect(errors.length).toBeGreaterThanOrEqual(55)
    expect(new Set(errors.map((event) => event.ack.errorId))).toEqual(new Set(retriable))
    const readBack = await readBackClusterHashes(emulator.url, emulator.region, 'retriable')
    expectExactlyOnce(readBack, media)
    // GetMedia and the emulator's storage read API agree.
    expect(readBack.slice().sort()).toEqual((await storedClusterHashes(emulator, 'retriable')).sort())
    expect(ofType(events, 'fragment-skipped')).toEqual([])
    expect(stats.fragments).toMatchObject({ accepted: 250, acknowledged: 250, skipped: 0 })
    expect(stats.fragments.resent).toBeGreaterThanOrEqual(errors.length)
  })

  test('non-retriable ErrorIds skip the fragment they name, report it, and go on with the next one', async () => {
    const random = seededRandom(22)
    const fatal = [4004, 4006, 4010, 4011]
    const emulator = await testEmulator({
      faults: (_stream, connection) =>
        connection < 15
          ? {
              errorAfterFragments: {
                count: 2 + Math.floor(random() * 8),
                errorId: fatal[Math.floor(random() * fatal.length)]!,
              },
            }
          : undefined,
    })
    const producer = await producerFor(emulator, 'non-retriable')
    const events = record(producer)
    const media = makeSource({ fragments: 150, seed: 22 })
    await feed(producer.writable, media, { paceMs: 2 })
    const failure = await producer.close().then(
      () => undefined,
      (error: unknown) => error,
    )

    const errors = ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')
    injected += errors.length
    expect(errors).toHaveLength(15)
    const skipped = ofType(events, 'fragment-skipped')
    expect(skipped).toHaveLength(15)
    expect(skipped.map((event) => event.fragment.timecode)).toEqual(
      errors.map((event) => event.ack.fragmentTimecode),
    )
    for (const event of skipped) {
      expect(event).toMatchObject({
        reason: 'error-ack',
        errorCode: describeAckError(event.errorId!).errorCode,
      })
      expect(fatal).toContain(event.errorId)
    }
    expect(ProducerError.is(failure)).toBe(true)
    expect(failure).toMatchObject({ code: 'ERR_KVS_PRODUCER_INCOMPLETE' })
    expect((failure as ProducerError).skipped.map((entry) => entry.fragment.index)).toEqual(
      skipped.map((event) => event.fragment.index),
    )
    const excluded = new Set(skipped.map((event) => event.fragment.index))
    expectExactlyOnce(
      await readBackClusterHashes(emulator.url, emulator.region, 'non-retriable'),
      media,
      excluded,
    )
  })

  test('a fragment longer than the service allows gets ERROR 4002 and is skipped (onViolation: send)', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'too-long', {
      onViolation: 'send',
      chunker: { maxFragmentDurationMs: 60_000 },
    })
    const events = record(producer)
    const media = makeSource({ fragments: 40, seed: 23, tooLong: [5, 17, 30] })
    await feed(producer.writable, media, { paceMs: 1 })
    await expect(producer.close()).rejects.toMatchObject({ code: 'ERR_KVS_PRODUCER_INCOMPLETE' })

    const errors = ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')
    injected += errors.length
    expect(errors.map((event) => event.ack.errorId)).toEqual([4002, 4002, 4002])
    const skipped = ofType(events, 'fragment-skipped')
    expect(skipped.map((event) => [event.fragment.index, event.reason, event.errorCode])).toEqual([
      [5, 'error-ack', 'MAX_FRAGMENT_DURATION_REACHED'],
      [17, 'error-ack', 'MAX_FRAGMENT_DURATION_REACHED'],
      [30, 'error-ack', 'MAX_FRAGMENT_DURATION_REACHED'],
    ])
    expectExactlyOnce(
      await readBackClusterHashes(emulator.url, emulator.region, 'too-long'),
      media,
      new Set([5, 17, 30]),
    )
  })

  test('by default the chunker catches a too-long fragment first: skipped as a violation, no ERROR, no reconnect', async () => {
    const emulator = await testEmulator()
    const producer = await producerFor(emulator, 'too-long-local')
    const events = record(producer)
    const media = makeSource({ fragments: 20, seed: 24, tooLong: [7] })
    await feed(producer.writable, media)
    const failure = await producer.close().catch((error: unknown) => error)

    expect(failure).toMatchObject({
      code: 'ERR_KVS_PRODUCER_INCOMPLETE',
      skipped: [{ reason: 'violation', errorId: 4002 }],
    })
    expect(ofType(events, 'violation').map((event) => event.violation.kind)).toEqual(['duration-too-long'])
    expect(ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')).toEqual([])
    expect(producer.stats().sessions).toBe(1)
    expectExactlyOnce(
      await readBackClusterHashes(emulator.url, emulator.region, 'too-long-local'),
      media,
      new Set([7]),
    )
  })

  test("the service's connection cap (ERROR 4003, shortened to 150 ms) is survived without loss or repeat", async () => {
    const emulator = await testEmulator({ maxConnectionDurationMs: 150 })
    const producer = await producerFor(emulator, 'connection-cap')
    const events = record(producer)
    const media = makeSource({ fragments: 150, seed: 25 })
    await feed(producer.writable, media, { paceMs: 12 })
    const stats = await producer.close()

    const errors = ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')
    injected += errors.length
    expect(errors.length).toBeGreaterThanOrEqual(8)
    expect(new Set(errors.map((event) => event.ack.errorId))).toEqual(new Set([4003]))
    expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'connection-cap'), media)
    expect(stats.fragments.skipped).toBe(0)
  })

  test('its own rotation (maxConnectionDurationMs 150 ms) replaces sessions before the cap: no ERROR, no loss, no repeat', async () => {
    const emulator = await testEmulator({ maxConnectionDurationMs: 400 })
    const producer = await producerFor(emulator, 'rotation', { maxConnectionDurationMs: 150 })
    const events = record(producer)
    const media = makeSource({ fragments: 150, seed: 26 })
    await feed(producer.writable, media, { paceMs: 12 })
    const stats = await producer.close()

    expect(ofType(events, 'ack').filter((event) => event.ack.eventType === 'ERROR')).toEqual([])
    expect(stats.rotations).toBeGreaterThanOrEqual(8)
    expect(stats.reconnects).toBe(0)
    expect(stats.fragments.resent).toBe(0)
    expect(ofType(events, 'state').filter((event) => event.reason === 'rotation').length).toBeGreaterThan(0)
    expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'rotation'), media)
  })
})
