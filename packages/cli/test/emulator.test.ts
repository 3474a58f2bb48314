import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { binPath, cleanEnv, emulatorEnv, ensureBuilt, jsonLines, kvs } from './support.ts'

beforeAll(() => ensureBuilt())

/** Starts `kvs emulator` with `args`; resolves with the child and its first stdout line's JSON once it listens. */
function startKvsEmulator(
  args: string[],
): Promise<{ child: ChildProcess; listening: Record<string, unknown>; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [binPath, 'emulator', '--port', '0', '--json', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const [listening] = jsonLines(out)
      if (listening !== undefined) resolve({ child, listening, exited })
    })
    child.on('error', reject)
    void exited.then((code) => reject(new Error(`kvs emulator exited with ${code} before listening`)))
  })
}

describe('kvs emulator', () => {
  it('prints its endpoint and credentials, serves kvs commands, and stops on SIGINT with exit 0', async () => {
    const { child, listening, exited } = await startKvsEmulator([])
    expect(listening).toMatchObject({
      type: 'listening',
      region: 'us-east-1',
      storage: 'memory',
      credentials: { accessKeyId: 'AKIDKVSEMULATOR', secretAccessKey: 'kvs-emulator-secret' },
    })
    const url = String(listening.url)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const created = await kvs(['streams', 'create', 'on-emulator'], { env: emulatorEnv(url) })
    expect(created.code).toBe(0)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })

  it('serves HTTPS with --tls, printing the CA to trust, and hands out --public-url', async () => {
    const tlsDir = mkdtempSync(join(tmpdir(), 'kvs-cli-emulator-tls-'))
    onTestFinished(() => rmSync(tlsDir, { recursive: true, force: true }))
    const { child, listening, exited } = await startKvsEmulator([
      '--tls',
      '--tls-dir',
      tlsDir,
      '--public-url',
      'https://kvs.test:8443',
    ])
    expect(listening).toMatchObject({ caPath: join(tlsDir, 'ca.pem'), publicUrl: 'https://kvs.test:8443' })
    const url = String(listening.url)
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const ca = readFileSync(join(tlsDir, 'ca.pem'), 'utf8')
    // Unsigned, so refused: what counts is that the handshake succeeded trusting the printed CA.
    const status = await new Promise<number>((resolve, reject) => {
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
    expect(status).toBe(403)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })

  it('keeps streams across restarts with --data-dir', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'kvs-cli-emulator-'))
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }))
    const dataDir = join(parent, 'data')
    const first = await startKvsEmulator(['--data-dir', dataDir])
    expect(first.listening).toMatchObject({ storage: 'disk', dataDir })
    expect(
      (await kvs(['streams', 'create', 'durable'], { env: emulatorEnv(String(first.listening.url)) })).code,
    ).toBe(0)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const second = await startKvsEmulator(['--data-dir', dataDir])
    const listed = await kvs(['streams', 'list', '--json'], {
      env: emulatorEnv(String(second.listening.url)),
    })
    expect(jsonLines(listed.stdout)[0]).toMatchObject({ StreamInfoList: [{ StreamName: 'durable' }] })
    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
  })

  it('answers CORS preflights for the control and data plane, unless --no-cors', async () => {
    const preflight = (url: string, path: string) =>
      fetch(`${url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:9',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,x-amz-date,x-amzn-stream-name',
        },
      })
    const on = await startKvsEmulator([])
    expect(on.listening).toMatchObject({ cors: true })
    for (const path of ['/createStream', '/putMedia', '/getMedia']) {
      const response = await preflight(String(on.listening.url), path)
      expect(response.status).toBe(204)
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      expect(response.headers.get('access-control-allow-headers')).toBe(
        'authorization,x-amz-date,x-amzn-stream-name',
      )
    }
    on.child.kill('SIGINT')
    expect(await on.exited).toBe(0)

    const off = await startKvsEmulator(['--no-cors'])
    expect(off.listening).toMatchObject({ cors: false })
    const refused = await preflight(String(off.listening.url), '/putMedia')
    expect(refused.status).toBe(404)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    off.child.kill('SIGINT')
    expect(await off.exited).toBe(0)
  })

  it('serves the console at / and prints its URL, unless --no-console', async () => {
    const on = await startKvsEmulator([])
    const url = String(on.listening.url)
    expect(on.listening.console).toBe(`${url}/`)
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<script src="/console/hls.js"></script>')
    expect((await fetch(`${url}/console/hls.js`)).status).toBe(200)
    const streams = await fetch(`${url}/console/api/streams`)
    expect(await streams.json()).toEqual({ streams: [] })
    on.child.kill('SIGINT')
    expect(await on.exited).toBe(0)

    const off = await startKvsEmulator(['--no-console'])
    expect(off.listening.console).toBeUndefined()
    const refused = await fetch(`${String(off.listening.url)}/`)
    expect(refused.status).toBe(404)
    expect(refused.headers.get('x-amzn-ErrorType')).toMatch(/^UnknownOperationException/)
    off.child.kill('SIGINT')
    expect(await off.exited).toBe(0)
  })

  it('bounds the fragments it keeps in memory with --max-memory, and refuses a size it cannot read', async () => {
    const { child, listening, exited } = await startKvsEmulator(['--max-memory', '1.5MiB'])
    expect(listening).toMatchObject({ storage: 'memory', maxMemoryBytes: 1_572_864 })
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    for (const size of ['lots', '0', '12 parsecs']) {
      const refused = await kvs(['emulator', '--port', '0', '--max-memory', size], { env: cleanEnv() })
      expect(refused.code).toBe(252)
      expect(refused.stderr).toContain(
        `--max-memory must be a size such as 512MB, 1GiB or 1048576, got "${size}"`,
      )
    }
  })
})
