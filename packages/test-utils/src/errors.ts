const timeoutBrand = Symbol.for('kvs-streams.test-utils.TimeoutError')
const toolFailedBrand = Symbol.for('kvs-streams.test-utils.ToolFailedError')

/**
 * A promise given to {@link withTimeout}, or a command started by {@link run}, did not settle in time.
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError'
  readonly code = 'ERR_KVS_TEST_TIMEOUT'
  /** What was being waited for, as passed by the caller (or the command line for {@link run}). */
  readonly label: string
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number
  readonly [timeoutBrand] = true

  constructor(label: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${label} did not finish within ${timeoutMs} ms`, options)
    this.label = label
    this.timeoutMs = timeoutMs
  }

  /** True for any `TimeoutError`, also one from another copy of this package. */
  static is(value: unknown): value is TimeoutError {
    return typeof value === 'object' && value !== null && timeoutBrand in value
  }
}

/** An external tool (ffprobe, mkvinfo, ...) exited with a status that means it could not read its input. */
export class ToolFailedError extends Error {
  override readonly name = 'ToolFailedError'
  readonly code = 'ERR_KVS_TEST_TOOL_FAILED'
  /** The command line, for the message and for reproducing by hand. */
  readonly command: string
  /** Exit status, or `null` when the process was killed by a signal. */
  readonly exitCode: number | null
  /** What the tool wrote to stderr (its own explanation). */
  readonly stderr: string
  readonly [toolFailedBrand] = true

  constructor(command: string, exitCode: number | null, stderr: string, options?: { cause?: unknown }) {
    super(`${command} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().slice(0, 2000)}`, options)
    this.command = command
    this.exitCode = exitCode
    this.stderr = stderr
  }

  /** True for any `ToolFailedError`, also one from another copy of this package. */
  static is(value: unknown): value is ToolFailedError {
    return typeof value === 'object' && value !== null && toolFailedBrand in value
  }
}
