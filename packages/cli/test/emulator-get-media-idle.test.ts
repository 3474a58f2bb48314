import { type ChildProcess, spawn } from 'node:child_process'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { binPath, cleanEnv, emulatorEnv, ensureBuilt, fixture, jsonLines, kvs } from './support.ts'

beforeAll(() => ensureBuilt())

/** Starts `kvs emulator` with `args`; resolves with its URL once it listens, and stops it when the test ends. */
function startKvsEmulator(args: string[]): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    [binPath, 'emulator', '--port', '0', '--json', ...args],
    {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  onTestFinished(async () => {
    child.kill('SIGTERM')
    await exited
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const [listening] = jsonLines(out)
      if (listening !== undefined) resolve(String(listening.url))
    })
    child.on('error', reject)
    void exited.then((code) => reject(new Error(`kvs emulator exited with ${code} before listening`)))
  })
}

describe('kvs emulator --get-media-idle-timeout', () => {
  it('ends caught-up GetMedia responses after the given idle window', { timeout: 60_000 }, async () => {
    const url = await startKvsEmulator(['--get-media-idle-timeout', '300ms'])
    const env = emulatorEnv(url)
    const put = await kvs(['put', 'idle', fixture('kvs-getmedia/clusters.mkv'), '--create'], { env })
    expect(put.code).toBe(0)
    // kvs get waits 3 s after an --until time before it stops on its own: the response ends first.
    const got = await kvs(['get', 'idle', '--start', 'earliest', '--until', 'now', '--json'], {
      env,
      timeoutMs: 40_000,
    })
    expect(got.code).toBe(0)
    expect(jsonLines(got.stderr).at(-1)).toMatchObject({ type: 'summary', fragments: 8, stoppedBy: 'until' })
  })

  it('rejects a value that is not a duration with a usage error', async () => {
    const result = await kvs(['emulator', '--port', '0', '--get-media-idle-timeout', 'soon'], {
      env: cleanEnv(),
    })
    expect(result.code).toBe(252)
    expect(result.stderr).toContain(
      '--get-media-idle-timeout must be a duration such as 3s or 500ms, got "soon"',
    )
  })
})
