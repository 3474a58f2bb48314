// Reads a stream back from its earliest fragment with GetMedia, as raw fragments (each a playable MKV document).
import type { KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { type MediaFragmentEvent, readStream } from '@kvs-streams/get-media'
import type { KvsSigner } from '@kvs-streams/signer'
import { createDataEndpointResolver } from '@kvs-streams/transport'

export interface ReadBackOptions {
  client: KinesisVideoClient
  signer: KvsSigner
  streamName: string
  /** Stop after this many fragments. */
  fragments: number
  /** Give up when no fragment arrived for this long, ms (a caught-up GetMedia waits for live data forever). */
  idleTimeoutMs: number
}

/**
 * GetMedia from EARLIEST (through `readStream`, which resumes a dropped connection with the last continuation
 * token) until `fragments` fragments arrived, or none came for `idleTimeoutMs`.
 */
export async function readBack(options: ReadBackOptions): Promise<MediaFragmentEvent[]> {
  const { streamName, signer } = options
  const stop = new AbortController()
  let idle: NodeJS.Timeout | undefined
  const armIdle = () => {
    clearTimeout(idle)
    idle = setTimeout(() => stop.abort(new Error('idle')), options.idleTimeoutMs)
  }
  const fragments: MediaFragmentEvent[] = []
  armIdle()
  try {
    const events = readStream({
      streamName,
      signer,
      resolver: createDataEndpointResolver({ client: options.client }),
      startSelector: { StartSelectorType: 'EARLIEST' },
      mode: 'raw',
      signal: stop.signal,
    })
    for await (const event of events) {
      if (event.type === 'service-error') throw event.error
      if (event.type !== 'fragment') continue
      fragments.push(event)
      armIdle()
      // Going quiet before every fragment came is reported by the caller's count check.
      if (fragments.length >= options.fragments) break
    }
  } finally {
    clearTimeout(idle)
    stop.abort()
  }
  return fragments
}
