/** Where the emulator reports what it does. Every method is optional; the default logger is silent. */
export interface EmulatorLogger {
  /** Per-request detail (`kvs emulator --verbose` prints it). */
  debug?(message: string, fields?: Record<string, unknown>): void
  /** Lifecycle: listening, closed, PutMedia connections opened and finished. */
  info?(message: string, fields?: Record<string, unknown>): void
  /** Something unusual that is not a failure. */
  warn?(message: string, fields?: Record<string, unknown>): void
  /** A request, or the emulator, failed. */
  error?(message: string, fields?: Record<string, unknown>): void
}

/** The logger's methods bound, with silent defaults for the missing ones. */
export interface Log {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

const silent = (): void => {}

export function toLog(logger: EmulatorLogger | undefined): Log {
  return {
    debug: logger?.debug?.bind(logger) ?? silent,
    info: logger?.info?.bind(logger) ?? silent,
    warn: logger?.warn?.bind(logger) ?? silent,
    error: logger?.error?.bind(logger) ?? silent,
  }
}

/** A logger that writes one line per message to stderr, for the `kvs-emulator` bin. */
export function createConsoleLogger(options: { verbose?: boolean } = {}): EmulatorLogger {
  const line =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields)}`
      process.stderr.write(`${new Date().toISOString()} ${level} ${message}${suffix}\n`)
    }
  return {
    ...(options.verbose ? { debug: line('debug') } : {}),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
  }
}
