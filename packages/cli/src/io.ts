import type { Readable, Writable } from 'node:stream'

/** An output stream as the CLI uses it: a terminal knows its width. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number }

/** Everything a command touches outside the process: streams, environment, Ctrl-C. Injectable for tests. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean }
  stdout: OutputStream
  stderr: OutputStream
  env: Record<string, string | undefined>
  /** Aborted on the first SIGINT/SIGTERM: commands stop cleanly (`kvs get` closes its file, `kvs put` ends the upload). */
  signal: AbortSignal
}

/** Whether colour may be used on `stream`: a terminal, `--no-color` not given, `NO_COLOR` unset. */
export function useColor(stream: OutputStream, env: CliIo['env'], noColorFlag: boolean): boolean {
  if (noColorFlag) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return stream.isTTY === true && env.TERM !== 'dumb'
}

/** ANSI styles, or identity functions when colour is off. */
export interface Style {
  /** `text` in bold. */
  bold(text: string): string
  /** `text` dimmed. */
  dim(text: string): string
  /** `text` in red. */
  red(text: string): string
  /** `text` in green. */
  green(text: string): string
  /** `text` in yellow. */
  yellow(text: string): string
  /** `text` in cyan. */
  cyan(text: string): string
}

const wrap =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`

const plain = (text: string): string => text

/** Styles for a stream where colour is on (`enabled`) or off. */
export function createStyle(enabled: boolean): Style {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain }
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  }
}

/** Writes `text` and resolves once the stream took it (or at once when it is not backed up). */
export function write(stream: Writable, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(text, (error) => {
      if (error) reject(error)
    })
    if (ok) resolve()
    else stream.once('drain', resolve)
  })
}

/**
 * Resolves once `stream` has handed everything written so far to the OS, or cannot (closed, failed). An empty
 * write marks the end: its callback runs after every write before it. (Waiting for `drain` instead hangs when
 * the writes stayed under the high-water mark: `drain` then never comes, and a command awaiting it ends with
 * Node's exit code 13, an unsettled top-level await, once the last write completes.)
 */
export function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableFinished || stream.writableLength === 0) {
      resolve()
      return
    }
    const done = (): void => {
      stream.off('close', done)
      stream.off('error', done)
      stream.off('finish', done)
      resolve()
    }
    stream.on('close', done)
    stream.on('error', done)
    if (stream.writableEnded) stream.once('finish', done)
    else stream.write(new Uint8Array(0), () => done())
  })
}
