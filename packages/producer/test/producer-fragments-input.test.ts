import { once } from 'node:events'
import { createClusterChunker } from '@kvs-streams/chunker'
import { describe, expect, test } from 'vitest'
import type { Producer, ProducerEvent } from '../src/index.ts'
import { makeSource } from './support/media.ts'
import { readBackClusterHashes } from './support/read-back.ts'
import { producerFor, testEmulator } from './support/run.ts'
import { expectExactlyOnce } from './support/verify.ts'

/** The chunker's events for `media`: what the repackager and the muxer emit too. */
function chunkerEvents(media: ReturnType<typeof makeSource>) {
  const chunker = createClusterChunker()
  const events = [...chunker.push(media.header)]
  for (const cluster of media.clusters) events.push(...chunker.push(cluster))
  events.push(...chunker.end())
  return events
}

/** Resolves with the producer's next `fragment-acknowledged` event. */
function nextAcknowledged(producer: Producer): Promise<ProducerEvent> {
  return new Promise((resolve) => producer.once('fragment-acknowledged', resolve))
}

describe('producer.fragments (chunker, repackager or muxer events in)', () => {
  test('sends each fragment as soon as it is written: its ack comes before the next one is written', async () => {
    const emulator = await testEmulator()
    try {
      const producer = await producerFor(emulator, 'events-in')
      const media = makeSource({ fragments: 5, seed: 7 })
      const events = chunkerEvents(media)
      expect(events.map((event) => event.type)).toEqual(['header', ...media.clusters.map(() => 'fragment')])
      for (const event of events) {
        const acknowledged = event.type === 'fragment' ? nextAcknowledged(producer) : undefined
        if (!producer.fragments.write(event)) await once(producer.fragments, 'drain')
        // With MKV bytes the producer would wait for the next element (Tags may follow a Cluster): here the
        // fragment is complete, so it is acknowledged with nothing more written.
        if (acknowledged !== undefined) {
          const ack = await acknowledged
          expect(ack).toMatchObject({ type: 'fragment-acknowledged', acknowledgedBy: 'PERSISTED' })
        }
      }
      const stats = await producer.close()
      expect(stats.fragments).toMatchObject({ accepted: 5, acknowledged: 5, persisted: 5 })
      expectExactlyOnce(await readBackClusterHashes(emulator.url, emulator.region, 'events-in'), media)
    } finally {
      await emulator.close()
    }
  })

  test('refuses anything but chunker events, with a TypeError naming what it got', async () => {
    const emulator = await testEmulator()
    try {
      const producer = await producerFor(emulator, 'events-wrong')
      const failed = once(producer.fragments, 'error')
      producer.fragments.write(new Uint8Array(4))
      const [error] = await failed
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toBe(
        "fragments takes the chunker's header, fragment and violation events, got bytes (MKV bytes go to writable)",
      )
    } finally {
      await emulator.close()
    }
  })
})
