// Signs a PutMedia request with example credentials and prints what would be sent, plus the SigV4 steps.
// Run: pnpm --filter @kvs-streams/example-sign-request build && pnpm --filter @kvs-streams/example-sign-request start
import { createKvsSigner, formatProducerStartTimestamp } from '@kvs-streams/signer'

const startedAt = Date.UTC(2023, 1, 28, 19, 50, 18, 5)

const signer = createKvsSigner({
  region: 'us-west-2',
  // AWS's documentation example keys. In an application pass a provider instead, e.g.
  // `fromNodeProviderChain()` from @aws-sdk/credential-providers: it is called once and cached until
  // 5 minutes before the credentials expire.
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
  // A fixed clock keeps the output reproducible; leave it out to sign with Date.now().
  clock: () => startedAt,
})

// The data endpoint comes from GetDataEndpoint (APIName PUT_MEDIA); PutMedia is a POST to `${endpoint}/putMedia`.
const signed = await signer.signPutMedia({
  url: 'https://s-670061c1.kinesisvideo.us-west-2.amazonaws.com/putMedia',
  headers: {
    'x-amzn-stream-name': 'my-stream',
    'x-amzn-fragment-timecode-type': 'ABSOLUTE',
    'x-amzn-producer-start-timestamp': formatProducerStartTimestamp(startedAt),
    'x-amzn-fragment-acknowledgment-required': '1',
    'user-agent': 'kvs-streams-example',
    // Hop-by-hop: dropped and never signed; the HTTP client frames the streamed body itself.
    'transfer-encoding': 'chunked',
  },
})

console.log('Headers to send:')
for (const [name, value] of Object.entries(signed.headers)) console.log(`  ${name}: ${value}`)
console.log('\nCanonical request:')
console.log(signed.steps.canonicalRequest)
console.log('\nString to sign:')
console.log(signed.steps.stringToSign)
console.log(`\nSignature: ${signed.steps.signature}`)
