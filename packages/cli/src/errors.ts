import type { ExitCodeValue } from './exit-codes.ts'

const brand = Symbol.for('kvs-streams.cli-error')

/** Stable error codes of `@kvs-streams/cli`. */
export type CliErrorCode =
  /** The command line is wrong. */
  | 'ERR_KVS_CLI_USAGE'
  /** No region could be found. */
  | 'ERR_KVS_CLI_NO_REGION'
  /** The profile named by --profile or AWS_PROFILE is in neither the config nor the credentials file. */
  | 'ERR_KVS_CLI_PROFILE_NOT_FOUND'
  /** The service sent an ERROR acknowledgement. */
  | 'ERR_KVS_CLI_ERROR_ACK'
  /** A local file could not be read or written. */
  | 'ERR_KVS_CLI_FILE'
  /** `kvs put` got input it cannot send: empty, another container than Matroska, or cut short. */
  | 'ERR_KVS_CLI_INPUT'

/** What a `CliError` is constructed with. */
export interface CliErrorOptions {
  cause?: unknown
  /** Lines of advice printed under the message. */
  hints?: readonly string[]
  /** `ErrorId` of an ERROR acknowledgement. */
  errorId?: number | undefined
  /** Exit status to use instead of the one the code implies. */
  exitCode?: ExitCodeValue
}

/** An error raised by the `kvs` command itself, with the advice to print under it. */
export class CliError extends Error {
  override name = 'CliError'
  readonly code: CliErrorCode
  readonly hints: readonly string[]
  /** `ErrorId` of the ERROR acknowledgement, for `ERR_KVS_CLI_ERROR_ACK`. */
  readonly errorId: number | undefined
  readonly exitCode: ExitCodeValue | undefined

  constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause })
    this.code = code
    this.hints = options.hints ?? []
    this.errorId = options.errorId
    this.exitCode = options.exitCode
  }

  get [brand](): CliErrorCode {
    return this.code
  }

  /** True for any `CliError`, also across duplicate installs of this package. */
  static is(value: unknown): value is CliError {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as Record<symbol, unknown>)[brand] === 'string'
    )
  }
}

/** A usage error: printed with the command's usage line, exit status 252. */
export function usageError(message: string, hints: readonly string[] = []): CliError {
  return new CliError('ERR_KVS_CLI_USAGE', message, { hints })
}
