import { type Emulator, type EmulatorOptions, startEmulator } from '@kvs-streams/emulator'
import { onTestFinished } from 'vitest'
import {
  createProducer,
  PRODUCER_EVENT_TYPES,
  type Producer,
  type ProducerEvent,
  type ProducerOptions,
} from '../../src/index.ts'
import { createStream, credentials } from './services.ts'

/** Starts an in-memory emulator that closes when the current test finishes. */
export async function testEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0, ...options })
  onTestFinished(() => emulator.close())
  return emulator
}

/** Test-sized timers: faults are detected and retried in milliseconds, not seconds. */
export const FAST: Partial<ProducerOptions> = {
  ackStalenessMs: 300,
  connectTimeoutMs: 2_000,
  retry: { initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 50 },
  statsIntervalMs: 0,
}

/** Creates `streamName` and a producer for it on `emulator`, with test-sized timers. */
export async function producerFor(
  emulator: Emulator,
  streamName: string,
  overrides: Partial<ProducerOptions> = {},
  retentionHours = 1,
): Promise<Producer> {
  await createStream(emulator.url, emulator.region, streamName, retentionHours)
  const producer = createProducer({
    fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
    streamName,
    region: emulator.region,
    credentials: credentials(),
    endpoint: emulator.url,
    ...FAST,
    reconcile: { settleMs: 50 },
    ...overrides,
  })
  onTestFinished(() => producer.abort())
  return producer
}

/** Collects every event the producer emits, by type. */
export function record(producer: Producer): ProducerEvent[] {
  const events: ProducerEvent[] = []
  for (const type of PRODUCER_EVENT_TYPES) {
    producer.on(type, (event: ProducerEvent) => events.push(event))
  }
  return events
}

export function ofType<T extends ProducerEvent['type']>(
  events: readonly ProducerEvent[],
  type: T,
): Extract<ProducerEvent, { type: T }>[] {
  return events.filter((event): event is Extract<ProducerEvent, { type: T }> => event.type === type)
}
