import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { CommandContext, CommandHandler, OptionValue } from './command.ts'
import { clipCommand } from './commands/clip.ts'
import { emulatorCommand } from './commands/emulator.ts'
import { getCommand } from './commands/get.ts'
import { imagesCommand } from './commands/images.ts'
import { playCommand } from './commands/play.ts'
import { putCommand } from './commands/put.ts'
import { putManyCommand } from './commands/put-many.ts'
import { streamsCreate, streamsDelete, streamsDescribe, streamsList } from './commands/streams.ts'
import type { GlobalOptions } from './config.ts'
import { type CliError, usageError } from './errors.ts'
import { ExitCode } from './exit-codes.ts'
import { type ErrorContext, explainError } from './explain-error.ts'
import { commandHelp, mainHelp, streamsHelp, usageLine } from './help.ts'
import { type CliIo, createStyle, useColor } from './io.ts'
import { COMMANDS, type CommandSpec, findCommand, GLOBAL_OPTIONS, type OptionSpec } from './spec.ts'

const HANDLERS: Record<string, CommandHandler> = {
  // kvs put --many <list>: a fleet of streams, one producer each.
  put: (context) => (context.values.many === undefined ? putCommand(context) : putManyCommand(context)),
  get: getCommand,
  play: playCommand,
  clip: clipCommand,
  images: imagesCommand,
  'streams create': streamsCreate,
  'streams describe': streamsDescribe,
  'streams list': streamsList,
  'streams delete': streamsDelete,
  emulator: emulatorCommand,
}

/** The version of this package, from its package.json (found from src/ and dist/ alike). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>

function parseArgsOptions(specs: readonly OptionSpec[]): ParseArgsOptions {
  const options: ParseArgsOptions = {}
  for (const spec of specs)
    options[spec.name] = {
      type: spec.type,
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.multiple === true ? { multiple: true } : {}),
    }
  return options
}

const ALL_OPTIONS = parseArgsOptions([...GLOBAL_OPTIONS, ...COMMANDS.flatMap((command) => command.options)])

/** `--start -5m` → `--start=-5m`: values of string options may begin with a dash (times ago). */
function joinDashValues(argv: readonly string[]): string[] {
  const joined: string[] = []
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!
    const next = argv[index + 1]
    const name = arg.startsWith('--') ? arg.slice(2) : undefined
    if (
      name !== undefined &&
      ALL_OPTIONS[name]?.type === 'string' &&
      next !== undefined &&
      /^-\d/.test(next)
    ) {
      joined.push(`${arg}=${next}`)
      index++
    } else joined.push(arg)
  }
  return joined
}

function globalOptions(values: Record<string, OptionValue>): GlobalOptions {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined)
  return {
    region: text('region'),
    profile: text('profile'),
    endpointUrl: text('endpoint-url'),
    debug: values.debug === true,
    noColor: values['no-color'] === true,
    json: values.json === true,
  }
}

function parseError(error: unknown, command: CommandSpec | undefined): CliError {
  let message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown }).code
  const option = /'(-[^' ]+)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) message = `unknown option ${option}`
  else if (
    code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' &&
    option !== undefined &&
    /argument missing/.test(message)
  ) {
    message = `option ${option} needs a value`
  }
  const hint =
    command === undefined
      ? 'Run kvs --help for the commands and options.'
      : `Run kvs ${command.name} --help for its options.`
  return usageError(message, [...(command === undefined ? [] : [usageLine(command)]), hint])
}

/**
 * Runs `kvs` with `argv` (the arguments after the program name) and resolves with the exit status. Never
 * rejects: every failure is printed on stderr (explained by `explainError`) and mapped to an exit status.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const args = joinDashValues(argv)
  let loose: ReturnType<
    typeof parseArgs<{ options: ParseArgsOptions; strict: false; allowPositionals: true; tokens: true }>
  >
  try {
    loose = parseArgs({ args, options: ALL_OPTIONS, strict: false, allowPositionals: true, tokens: true })
  } catch (error) {
    return report(parseError(error, undefined), io, createGlobal(), {})
  }
  const global = globalOptions(loose.values as Record<string, OptionValue>)
  const positionalTokens = loose.tokens.filter((token) => token.kind === 'positional')
  const words = positionalTokens.map((token) => token.value)

  // Which command: `put`, `streams create`, `help put`, …
  let commandWords = 0
  let name: string | undefined
  const [first, second] = words
  let helpRequested = loose.values.help === true
  if (first === 'help') {
    helpRequested = true
    commandWords = 1
    const rest = words.slice(1)
    name = rest[0] === 'streams' && rest[1] !== undefined ? `streams ${rest[1]}` : rest[0]
  } else if (first === 'streams') {
    name = second === undefined ? 'streams' : `streams ${second}`
    commandWords = second === undefined ? 1 : 2
  } else {
    name = first
    commandWords = first === undefined ? 0 : 1
  }

  if (
    first === 'help' ||
    (helpRequested && commandWords <= 1 && (name === undefined || name === 'streams'))
  ) {
    if (name === undefined) return print(io, mainHelp())
    if (name === 'streams') return print(io, streamsHelp())
  }
  if (name === undefined) {
    if (loose.values.version === true) return print(io, `kvs ${version()} (node ${process.version})\n`)
    if (helpRequested) return print(io, mainHelp())
    io.stderr.write(mainHelp())
    return report(usageError('a command is required'), io, global, {})
  }
  if (name === 'streams') {
    io.stderr.write(streamsHelp())
    return report(usageError('kvs streams needs a command: create, describe, list or delete'), io, global, {})
  }
  const command = findCommand(name)
  if (command === undefined) {
    const known = COMMANDS.map((spec) => spec.name).join(', ')
    return report(
      usageError(`unknown command ${JSON.stringify(name)}`, [
        `Commands: ${known}, help.`,
        'Run kvs --help for more.',
      ]),
      io,
      global,
      {},
    )
  }
  if (helpRequested) return print(io, commandHelp(command))

  // Strict parse of the command's own options, without the command words.
  const skip = new Set(positionalTokens.slice(0, commandWords).map((token) => token.index))
  const rest = args.filter((_, index) => !skip.has(index))
  let strict: { values: Record<string, OptionValue>; positionals: string[] }
  try {
    strict = parseArgs({
      args: rest,
      options: parseArgsOptions([...GLOBAL_OPTIONS, ...command.options]),
      strict: true,
      allowPositionals: true,
    }) as typeof strict
  } catch (error) {
    return report(parseError(error, command), io, global, {})
  }
  const globalNames = new Set(GLOBAL_OPTIONS.map((option) => option.name))
  const values = Object.fromEntries(Object.entries(strict.values).filter(([key]) => !globalNames.has(key)))
  const style = createStyle(useColor(io.stderr, io.env, global.noColor))
  const errorContext: ErrorContext = { command: command.name }
  const context: CommandContext = {
    io,
    global,
    values,
    positionals: strict.positionals,
    errorContext,
    style,
    debug: (message) => {
      if (global.debug) io.stderr.write(`${style.dim(`debug ${new Date().toISOString()}`)} ${message}\n`)
    },
  }
  try {
    return await HANDLERS[command.name]!(context)
  } catch (error) {
    return report(error, io, global, errorContext, command)
  }
}

function createGlobal(): GlobalOptions {
  return {
    region: undefined,
    profile: undefined,
    endpointUrl: undefined,
    debug: false,
    noColor: false,
    json: false,
  }
}

function print(io: CliIo, text: string): number {
  io.stdout.write(text)
  return ExitCode.Ok
}

/** Prints a failure on stderr (and as a JSON line on stdout with --json) and returns its exit status. */
function report(
  error: unknown,
  io: CliIo,
  global: GlobalOptions,
  context: ErrorContext,
  command?: CommandSpec,
): number {
  const explained = explainError(error, context)
  const style = createStyle(useColor(io.stderr, io.env, global.noColor))
  const lines = [
    `${style.red(style.bold('kvs: error:'))} ${explained.message}`,
    ...explained.hints.map((hint) => `  ${hint}`),
  ]
  if (
    explained.exitCode === ExitCode.Usage &&
    command !== undefined &&
    !explained.hints.some((hint) => hint.startsWith('Usage:'))
  ) {
    lines.push(`  ${usageLine(command)}`)
  }
  if (global.debug) lines.push(...debugDetails(error))
  io.stderr.write(`${lines.join('\n')}\n`)
  if ((global.json || context.jsonOutput === true) && context.stdoutIsMedia !== true) {
    io.stdout.write(
      `${JSON.stringify({ type: 'error', name: explained.name, message: explained.message, hints: explained.hints, exitCode: explained.exitCode, requestId: explained.requestId })}\n`,
    )
  }
  return explained.exitCode
}

/** The error's stack and its chain of causes, for --debug. */
function debugDetails(error: unknown): string[] {
  const lines: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const prefix = depth === 0 ? 'debug: ' : 'debug: caused by '
    lines.push(`${prefix}${current instanceof Error ? (current.stack ?? current.message) : String(current)}`)
    current = current instanceof Error ? current.cause : undefined
  }
  return lines
}
