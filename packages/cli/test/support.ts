import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CREDENTIALS } from '@kvs-streams/emulator'
import { runCli } from '../src/cli.ts'

export const packageDir = fileURLToPath(new URL('..', import.meta.url))
export const binPath = join(packageDir, 'dist', 'bin.js')
export const fixture = (path: string): string =>
  fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url))

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Workspace packages whose built output the `kvs` binary runs. */
const BUILT_PACKAGES = [
  'cli',
  'acks',
  'chunker',
  'ebml',
  'emulator',
  'fmp4',
  'get-media',
  'producer',
  'signer',
  'transport',
]
const stamp = join(packageDir, 'dist', '.test-build-stamp')

function upToDate(): boolean {
  if (!existsSync(binPath) || !existsSync(stamp)) return false
  const sources = Math.max(...BUILT_PACKAGES.map((name) => newestMtime(join(packageDir, '..', name, 'src'))))
  return statSync(stamp).mtimeMs >= sources
}

/**
 * The tests run the built `kvs` binary as users do. `pnpm test` builds first; when the build is missing or
 * older than the sources (a direct `vitest run`), it is rebuilt here (`tsc -b`, one test file at a time).
 */
export async function ensureBuilt(): Promise<void> {
  if (upToDate()) return
  const lock = join(tmpdir(), 'kvs-streams-cli-test-build.lock')
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // Another test file is building; a lock older than 3 minutes was left by a killed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000)
        rmSync(lock, { recursive: true, force: true })
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  try {
    if (upToDate()) return
    const result = spawnSync('pnpm', ['exec', 'tsc', '-b'], { cwd: packageDir, encoding: 'utf8' })
    if (result.status !== 0)
      throw new Error(`building @kvs-streams/cli failed:\n${result.stdout}\n${result.stderr}`)
    writeFileSync(stamp, '')
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** A home directory with no AWS configuration, so no test sees the developer's ~/.aws. */
const emptyHome = join(tmpdir(), 'kvs-cli-test-home')
mkdirSync(emptyHome, { recursive: true })

/**
 * An environment with nothing from this process but PATH: no credentials, no profile, no region unless
 * given, config files that do not exist, and no instance-metadata lookups.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: emptyHome,
    AWS_CONFIG_FILE: join(emptyHome, 'no-such-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(emptyHome, 'no-such-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
    ...extra,
  }
}

/** The environment of a user pointed at the emulator at `url` with its default credentials. */
export function emulatorEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: DEFAULT_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_CREDENTIALS.secretAccessKey,
    ...extra,
  })
}

export interface KvsResult {
  code: number | null
  stdout: string
  stdoutBytes: Buffer
  stderr: string
}

export interface KvsOptions {
  env: Record<string, string>
  /** Bytes for stdin (closed after), or a function that gets the child's stdin to write itself. */
  input?: Uint8Array | string | ((stdin: NodeJS.WritableStream) => void)
  timeoutMs?: number
  /** Called once the child started (e.g. to send it a signal later). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void
}

/** Runs the built `kvs` with `args` and collects its output and exit status. */
export function kvs(args: readonly string[], options: KvsOptions): Promise<KvsResult> {
  const { env, input, timeoutMs = 30_000 } = options
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    options.onSpawn?.(child)
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `kvs ${args.join(' ')} ran longer than ${timeoutMs} ms\n${Buffer.concat(stderr).toString()}`,
        ),
      )
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      const bytes = Buffer.concat(stdout)
      resolve({
        code,
        stdout: bytes.toString('utf8'),
        stdoutBytes: bytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
    child.stdin.on('error', () => {})
    if (typeof input === 'function') input(child.stdin)
    else child.stdin.end(input)
  })
}

/** The JSON objects of JSON-lines output (lines that are not JSON are left out). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** Runs ffmpeg (quiet, overwriting), failing the test setup when it fails. */
export function ffmpeg(args: readonly string[]): void {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${result.stderr}`)
}

/** Runs `kvs` in this process (for what is found before anything is sent) with captured stdout and stderr. */
export async function runInProcess(
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (chunk: Buffer) => out.push(chunk))
  stderr.on('data', (chunk: Buffer) => err.push(chunk))
  const code = await runCli(argv, {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env,
    signal: new AbortController().signal,
  })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}
