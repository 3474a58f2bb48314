// Signing cost of @kvs-streams/signer: microseconds per signPutMedia() call, median of 5 rounds of 20,000.
// Runs against the built package: `pnpm --filter @kvs-streams/signer build && node bench/signer.mjs`.
import { createKvsSigner, formatProducerStartTimestamp } from '../packages/signer/dist/index.js'

const ROUNDS = 5
const REQUESTS = 20_000
const WARM_UP = 5_000

const signer = createKvsSigner({
  region: 'us-west-2',
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEtokenEXAMPLEtokenEXAMPLEtokenEXAMPLEtoken==',
  },
})
const request = {
  url: 'https://s-670061c1.kinesisvideo.us-west-2.amazonaws.com/putMedia',
  headers: {
    'x-amzn-stream-name': 'my-stream',
    'x-amzn-fragment-timecode-type': 'ABSOLUTE',
    'x-amzn-producer-start-timestamp': formatProducerStartTimestamp(Date.now()),
    'x-amzn-fragment-acknowledgment-required': '1',
    'user-agent': 'kvs-streams-bench',
    'transfer-encoding': 'chunked',
    connection: 'keep-alive',
  },
}

async function round(count) {
  const start = process.hrtime.bigint()
  for (let index = 0; index < count; index++) await signer.signPutMedia(request)
  return Number(process.hrtime.bigint() - start) / 1000 / count
}

await round(WARM_UP)
const rounds = []
for (let index = 0; index < ROUNDS; index++) rounds.push(await round(REQUESTS))
rounds.sort((a, b) => a - b)
const median = rounds[Math.floor(ROUNDS / 2)]
console.log(`rounds_us=${rounds.map((value) => value.toFixed(1)).join(',')}`)
console.log(`RESULT sign_us=${median.toFixed(1)}`)
