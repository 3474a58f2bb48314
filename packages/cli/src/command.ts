import type { GlobalOptions } from './config.ts'
import type { ErrorContext } from './explain-error.ts'
import type { CliIo, Style } from './io.ts'

/** A parsed option value: a string, a flag, or the strings of an option given more than once. */
export type OptionValue = string | boolean | string[] | undefined

/** What a command handler gets. */
export interface CommandContext {
  io: CliIo
  global: GlobalOptions
  /** The command's own option values (global ones are in `global`). */
  values: Record<string, OptionValue>
  positionals: string[]
  /** Filled in by the command as it learns things (stream, region, endpoint), for error messages. */
  errorContext: ErrorContext
  /** Styles for stderr (colour only on a terminal without --no-color). */
  style: Style
  /** Writes a `debug:` line to stderr when `--debug` is on. */
  debug(message: string): void
}

/** Runs a command; resolves with its exit status. Failures are thrown and explained by `explainError`. */
export type CommandHandler = (context: CommandContext) => Promise<number>

/** A string option's value (`undefined` when absent). */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name]
  return typeof value === 'string' ? value : undefined
}

/** A boolean option's value. */
export function flag(context: CommandContext, name: string): boolean {
  return context.values[name] === true
}
