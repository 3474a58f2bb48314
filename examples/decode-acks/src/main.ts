// Decodes a PutMedia response body that arrives in awkward pieces, follows each fragment with a tracker and
// prints every ack and the fragment latencies. Run: pnpm --filter @kvs-streams/example-decode-acks build && \
//   pnpm --filter @kvs-streams/example-decode-acks start
import { createFragmentTracker, decodeAcks, describeAckError } from '@kvs-streams/acks'

// Acks as the service writes them. Lines marked "real" are verbatim from service logs (producer-sdk-cpp
// issues #981 and #226); the others fill in the same session. Fragments interleave: BUFFERING(n+1)
// arrives before RECEIVED(n) and PERSISTED(n).
const body = [
  '{"EventType":"BUFFERING","FragmentTimecode":1677613818261,"FragmentNumber":"91343852333182006796860291068687794162371630095"}',
  // real:
  '{"EventType":"BUFFERING","FragmentTimecode":1677613819540,"FragmentNumber":"91343852333182006801812051225829315333083406205"}',
  '{"EventType":"RECEIVED","FragmentTimecode":1677613818261,"FragmentNumber":"91343852333182006796860291068687794162371630095"}',
  // real:
  '{"EventType":"PERSISTED","FragmentTimecode":1677613818261,"FragmentNumber":"91343852333182006796860291068687794162371630095"}',
  '{"EventType":"RECEIVED","FragmentTimecode":1677613819540,"FragmentNumber":"91343852333182006801812051225829315333083406205"}',
  '{"EventType":"PERSISTED","FragmentTimecode":1677613819540,"FragmentNumber":"91343852333182006801812051225829315333083406205"}',
  '{"EventType":"IDLE"}',
  // real:
  '{"EventType":"ERROR","FragmentTimecode":0,"FragmentNumber":"91343852333181571046918222741096071001568090649","ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS","ErrorId":4004}',
]
  .map((line) => `${line}\n`)
  .join('')

// A simulated clock: each piece of the body "arrives" 97 ms after the previous one.
let now = 0
const tracker = createFragmentTracker({ clock: () => now })

/** The body in 61-byte pieces: cuts land inside keys, inside the 47-digit numbers and between acks. */
async function* arrivals(bytes: Uint8Array, pieceSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += pieceSize) {
    now += 97
    yield bytes.subarray(offset, offset + pieceSize)
  }
}

for await (const event of decodeAcks(arrivals(new TextEncoder().encode(body), 61))) {
  if (event.type === 'service-error') {
    console.log(`service error: ${event.error.message}`)
    continue
  }
  const { ack } = event
  const { fragment, anomaly } = tracker.update(ack)
  console.log(
    `${String(now).padStart(5)} ms  ${ack.eventType.padEnd(9)}  ${ack.fragmentTimecode ?? '-'}  ${ack.fragmentNumber ?? ''}`,
  )
  if (anomaly !== undefined) console.log(`          anomaly: ${anomaly.kind}: ${anomaly.message}`)
  if (ack.eventType === 'PERSISTED' && fragment !== undefined) {
    const latency = tracker.latencies(fragment.fragmentTimecode)
    console.log(
      `          latencies: buffering→received ${latency?.bufferingToReceivedMs} ms, ` +
        `received→persisted ${latency?.receivedToPersistedMs} ms, buffering→persisted ${latency?.bufferingToPersistedMs} ms`,
    )
  }
  if (ack.eventType === 'ERROR' && ack.errorId !== undefined) {
    const info = describeAckError(ack.errorId)
    console.log(
      `          ${info.errorCode}: ${info.description} (retriable: ${info.retriable}, host alive: ${info.hostAlive})`,
    )
    break // the service closes the connection after any ERROR ack
  }
}
console.log(`last received ${tracker.lastReceivedTimecode}, last persisted ${tracker.lastPersistedTimecode}`)
