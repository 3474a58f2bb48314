import { createProducer } from '@kvs-streams/producer'
import type { SourceMedia } from '../../src/index.ts'
import { feed } from './feed.ts'
import { credentials, REGION } from './services.ts'

/** Puts `media` into a stream straight at the emulator (no proxy), `paceMs` between fragments. */
export async function fill(url: string, streamName: string, media: SourceMedia, paceMs = 0): Promise<void> {
  const producer = createProducer({
    fragmentTimecodeType: 'ABSOLUTE', // the test media's timecodes are wall-clock times
    streamName,
    region: REGION,
    credentials: credentials(),
    endpoint: url,
    statsIntervalMs: 0,
  })
  await feed(producer.writable, media, { paceMs })
  await producer.close()
}
