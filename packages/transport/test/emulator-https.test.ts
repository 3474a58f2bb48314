import { Agent as HttpsAgent } from 'node:https'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { type Ack, createAckDecoder } from '@kvs-streams/acks'
import { DEFAULT_CREDENTIALS, type Emulator, startEmulator } from '@kvs-streams/emulator'
import { createKvsSigner } from '@kvs-streams/signer'
import { readFixture } from '@kvs-streams/test-utils'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDataEndpointResolver, getMedia, listFragments, putMedia } from '../src/index.ts'
import { collect } from './helpers.ts'

let emulator: Emulator
let dispatcher: Agent
let client: KinesisVideoClient
const credentials = { ...DEFAULT_CREDENTIALS }
const signer = () => createKvsSigner({ region: emulator.region, credentials })

beforeAll(async () => {
  // In memory: a CA made for this run, handed to the clients as the PEM a user would point AWS_CA_BUNDLE at.
  emulator = await startEmulator({ tls: true })
  dispatcher = new Agent({ connect: { ca: emulator.caCertificate! } })
  // The AWS SDK for JavaScript trusts it through its request handler's https agent.
  client = new KinesisVideoClient({
    region: emulator.region,
    credentials,
    endpoint: emulator.url,
    requestHandler: { httpsAgent: new HttpsAgent({ ca: emulator.caCertificate! }) },
  })
})

afterAll(async () => {
  client?.destroy()
  await dispatcher?.close()
  await emulator?.close()
})

describe('the transport against the emulator over HTTPS', () => {
  it('puts clusters.mkv with putMedia and reads it back with getMedia, trusting the generated CA', async () => {
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    await client.send(new CreateStreamCommand({ StreamName: 'over-tls', DataRetentionInHours: 1 }))
    const endpoint = await createDataEndpointResolver({ client }).resolve('over-tls', 'PUT_MEDIA')
    expect(String(endpoint)).toBe(emulator.url)

    const duplex = putMedia({ endpoint, streamName: 'over-tls', signer: signer(), dispatcher })
    const decoder = createAckDecoder()
    const acks: Ack[] = []
    await pipeline(
      Readable.from([readFixture('kvs-getmedia', 'clusters.mkv')]),
      duplex,
      new Writable({
        write(chunk: Uint8Array, _encoding, done) {
          for (const event of decoder.push(chunk)) if (event.type === 'ack') acks.push(event.ack)
          done()
        },
      }),
    )
    const persisted = acks.filter((ack) => ack.eventType === 'PERSISTED').map((ack) => ack.fragmentNumber!)
    expect(acks.filter((ack) => ack.eventType === 'ERROR')).toEqual([])
    expect(persisted).toHaveLength(8)

    const listed = await listFragments({ endpoint, streamName: 'over-tls', signer: signer(), dispatcher })
    expect(listed.Fragments.map((fragment) => fragment.FragmentNumber).sort()).toEqual([...persisted].sort())

    const media = await getMedia({
      endpoint,
      streamName: 'over-tls',
      startSelector: { StartSelectorType: 'EARLIEST' },
      signer: signer(),
      dispatcher,
    })
    expect(media.status).toBe(200)
    const bytes = Buffer.concat(await collect<Buffer>(media))
    for (const fragmentNumber of persisted) expect(bytes.includes(fragmentNumber)).toBe(true)
  })

  it('refuses the emulator without its CA: the certificate is checked', async () => {
    const untrusting = new Agent()
    try {
      await expect(
        listFragments({
          endpoint: emulator.url,
          streamName: 'over-tls',
          signer: signer(),
          dispatcher: untrusting,
        }),
      ).rejects.toThrow(/self.signed certificate/i)
    } finally {
      await untrusting.close()
    }
  })

  it('is refused by the AWS SDK for JavaScript without the CA', async () => {
    const untrusting = new KinesisVideoClient({
      region: emulator.region,
      credentials,
      endpoint: emulator.url,
    })
    try {
      await expect(
        untrusting.send(new CreateStreamCommand({ StreamName: 'not-created', DataRetentionInHours: 1 })),
      ).rejects.toThrow(/self.signed certificate/i)
    } finally {
      untrusting.destroy()
    }
  })
})
