import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ChunkerFragmentEvent, createClusterChunker } from '@kvs-streams/chunker'
import { concatBytes } from '@kvs-streams/core'
import { readFixture, run } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CREDENTIALS, startEmulator } from '../src/index.ts'
import { callJson, createStream, type Endpoint, openPutMedia } from './support/client.ts'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const repositoryDir = fileURLToPath(new URL('../../..', import.meta.url))
const bin = join(packageDir, 'dist', 'bin.js')

interface Running {
  child: ChildProcess
  endpoint: Endpoint
  /** What it printed once listening. */
  output: string
  exited: Promise<number | null>
}

/** Starts `kvs-emulator` as a child process and reads its endpoint from what it prints. */
function startBin(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let output = ''
    let errors = ''
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = /listening on (https?:\/\/\S+)/.exec(output)?.[1]
      if (url !== undefined && output.includes('aws kinesisvideo list-streams') && output.endsWith('\n')) {
        expect(output).toContain(`AWS_ACCESS_KEY_ID=${DEFAULT_CREDENTIALS.accessKeyId}`)
        expect(output).toContain(`AWS_SECRET_ACCESS_KEY=${DEFAULT_CREDENTIALS.secretAccessKey}`)
        resolve({
          child,
          exited,
          output,
          endpoint: { url, region: 'us-east-1', credentials: [DEFAULT_CREDENTIALS] },
        })
      }
    })
    void exited.then((code) => reject(new Error(`kvs-emulator exited (${code}) before listening: ${errors}`)))
  })
}

describe('kvs-emulator bin durability', () => {
  let dataDir: string
  beforeAll(async () => {
    // The bin runs from dist/: build it (and the packages it imports) first; incremental when up to date.
    const build = await run(
      join(repositoryDir, 'node_modules', '.bin', 'tsc'),
      ['-b', join(packageDir, 'tsconfig.json')],
      {
        timeoutMs: 120_000,
      },
    )
    expect(build.stdout + build.stderr).toBe('')
    expect(existsSync(bin)).toBe(true)
    dataDir = await mkdtemp(join(tmpdir(), 'kvs-emulator-bin-'))
  }, 180_000)
  afterAll(() => rm(dataDir, { recursive: true, force: true }))

  it('keeps every PERSISTED fragment through kill -9 and a restart on the same data directory', async () => {
    const fixture = readFixture('kvs-getmedia', 'clusters.mkv')
    const first = await startBin(['--data-dir', dataDir])
    const arn = await createStream(first.endpoint, 'crash-test', 24)
    const upload = await openPutMedia(first.endpoint, { streamName: 'crash-test', timecodeType: 'RELATIVE' })
    void upload.write(fixture)
    await upload.waitForAck((ack) => ack.eventType === 'PERSISTED')
    const persisted = upload.acks
      .filter((ack) => ack.eventType === 'PERSISTED')
      .map((ack) => ack.fragmentNumber!)
    first.child.kill('SIGKILL')
    await first.exited
    upload.abort()

    const second = await startBin(['--data-dir', dataDir])
    const described = await callJson(second.endpoint, '/describeStream', { StreamName: 'crash-test' })
    expect(described.status).toBe(200)
    expect(described.json?.StreamInfo).toMatchObject({ StreamARN: arn, Status: 'ACTIVE' })
    for (const number of persisted) {
      expect(existsSync(join(dataDir, 'streams', 'crash-test', 'fragments', `${number}.kvsf`))).toBe(true)
    }
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)

    const chunker = createClusterChunker({ onViolation: 'emit', requireKeyframe: false })
    const reference = [...chunker.push(fixture), ...chunker.end()].filter(
      (event): event is ChunkerFragmentEvent => event.type === 'fragment',
    )
    const emulator = await startEmulator({ dataDir })
    try {
      const listed = emulator.storage.listFragments('crash-test').map((fragment) => fragment.fragmentNumber)
      expect(listed.slice(0, persisted.length)).toEqual(persisted)
      for (const [index, number] of persisted.entries()) {
        const stored = await emulator.storage.readFragment('crash-test', number)
        expect(Buffer.from(stored!.cluster).equals(concatBytes(reference[index]!.parts))).toBe(true)
      }
    } finally {
      await emulator.close()
    }
  })

  it('serves HTTPS with --tls and prints the CA to trust, kept in <data-dir>/tls across restarts', async () => {
    const tlsData = join(dataDir, 'tls-run')
    const first = await startBin(['--data-dir', tlsData, '--tls'])
    const caPath = join(tlsData, 'tls', 'ca.pem')
    expect(first.endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(first.output).toContain(`TLS CA:   ${caPath}`)
    expect(first.output).toContain(`export AWS_CA_BUNDLE=${caPath}`)
    const ca = readFileSync(caPath, 'utf8')
    expect(await statusOver(first.endpoint.url, ca)).toBe(403)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const second = await startBin(['--data-dir', tlsData, '--tls', '--public-url', 'https://kvs.test:8443'])
    expect(second.output).toContain('public URL: https://kvs.test:8443 (GetDataEndpoint)')
    expect(readFileSync(caPath, 'utf8')).toBe(ca)
    expect(await statusOver(second.endpoint.url, ca)).toBe(403)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})

/** The status of an unsigned POST over HTTPS trusting `ca` (403: the TLS handshake succeeded). */
function statusOver(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      new URL('/listStreams', url),
      { method: 'POST', ca, agent: false },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
      },
    )
    request.on('error', reject)
    request.end('{}')
  })
}
