import { spawn } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { TimeoutError } from './errors.ts'

/** Options for {@link run}. */
export interface RunOptions {
  /** Bytes or text written to the child's stdin, which is then closed. Default: stdin is empty. */
  input?: string | Uint8Array
  /** Kill the child (SIGKILL) and reject with a `TimeoutError` after this long. Default `60_000`. */
  timeoutMs?: number
  /** Working directory for the child. Default: this process's. */
  cwd?: string
  /** Extra environment variables, merged over this process's. */
  env?: Record<string, string>
}

/** What {@link run} collected from a child process that exited. */
export interface RunResult {
  /** stdout decoded as UTF-8. */
  stdout: string
  /** stdout as raw bytes, for tools that write media to stdout. */
  stdoutBytes: Uint8Array
  /** stderr decoded as UTF-8. */
  stderr: string
  /** Exit status, or `null` when the child was killed by a signal. */
  code: number | null
}

const toolCache = new Map<string, boolean>()

/**
 * Whether an executable named `name` is on `PATH`. Checked once per name and cached. Tests never skip
 * because a tool is missing (`scripts/setup.sh` installs them): use this to fail with a clear message.
 */
export function hasTool(name: string): boolean {
  let found = toolCache.get(name)
  if (found === undefined) {
    found = (process.env.PATH ?? '')
      .split(delimiter)
      .some((dir) => dir !== '' && isExecutable(join(dir, name)))
    toolCache.set(name, found)
  }
  return found
}

/**
 * Runs `command` with `args` (no shell), feeds it `input`, and resolves with everything it printed and
 * its exit status, whatever that status is. Rejects when the command cannot be started (not installed) or
 * runs longer than `timeoutMs` (the child is then killed).
 */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 60_000, cwd, env } = options
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs must be a finite number > 0, got ${timeoutMs}`)
  }
  const commandLine = [command, ...args].join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env === undefined ? process.env : { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut) {
        reject(new TimeoutError(commandLine, timeoutMs))
        return
      }
      const bytes = Buffer.concat(stdout)
      resolve({
        stdout: bytes.toString('utf8'),
        stdoutBytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code,
      })
    })
    // A child that exits without reading its stdin makes the write fail with EPIPE; its exit status says more.
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}
