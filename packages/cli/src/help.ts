import {
  COMMANDS,
  type CommandSpec,
  ENVIRONMENT,
  EXIT_STATUS,
  GLOBAL_OPTIONS,
  type OptionSpec,
} from './spec.ts'

function optionLabel(option: OptionSpec): string {
  const long = `--${option.name}${option.value === undefined ? '' : ` ${option.value}`}`
  return option.short === undefined ? `    ${long}` : `-${option.short}, ${long}`
}

/** `  label   description` rows with the descriptions aligned. */
function rows(entries: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(...entries.map(([label]) => label.length))
  return entries.map(([label, description]) => `${indent}${label.padEnd(width)}  ${description}`)
}

/** The usage line of a command: `kvs put <stream> [file|-] [options]`. */
export function usageLine(command: CommandSpec): string {
  return [
    'Usage: kvs',
    command.name,
    ...command.positionals.map((positional) => positional.name),
    '[options]',
  ].join(' ')
}

const environmentSection = (): string[] => ['Environment:', ...rows(ENVIRONMENT)]
const exitSection = (): string[] => ['Exit status:', ...rows(EXIT_STATUS)]

/** The help of one command: usage, description, arguments, options, global options, environment, examples. */
export function commandHelp(command: CommandSpec): string {
  const lines = [
    usageLine(command),
    ...(command.otherUsage ?? []).map((usage) => `       ${usage}`),
    '',
    ...command.description,
  ]
  if (command.positionals.length > 0) {
    lines.push(
      '',
      'Arguments:',
      ...rows(command.positionals.map((positional) => [positional.name, positional.description])),
    )
  }
  if (command.options.length > 0) {
    lines.push(
      '',
      'Options:',
      ...rows(command.options.map((option) => [optionLabel(option), option.description])),
    )
  }
  const globals = command.aws
    ? GLOBAL_OPTIONS
    : GLOBAL_OPTIONS.filter((option) => !['profile', 'endpoint-url'].includes(option.name))
  lines.push(
    '',
    'Global options:',
    ...rows(globals.map((option) => [optionLabel(option), option.description])),
  )
  for (const [title, body] of command.sections ?? [])
    lines.push('', `${title}:`, ...body.map((line) => `  ${line}`))
  if (command.aws) lines.push('', ...environmentSection())
  lines.push('', ...exitSection())
  lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`))
  return `${lines.join('\n')}\n`
}

/** The help of `kvs streams`: its subcommands. */
export function streamsHelp(): string {
  const subcommands = COMMANDS.filter((command) => command.name.startsWith('streams '))
  const lines = [
    'Usage: kvs streams <create|describe|list|delete> [arguments] [options]',
    '',
    'Manages streams (the KVS control plane).',
    '',
    'Commands:',
    ...rows(
      subcommands.map((command) => [
        [
          command.name.slice('streams '.length),
          ...command.positionals.map((positional) => positional.name),
        ].join(' '),
        command.summary,
      ]),
    ),
    '',
    'Run kvs streams <command> --help for its options.',
    '',
    'Examples:',
    ...subcommands.flatMap((command) => command.examples.slice(0, 1)).map((example) => `  ${example}`),
  ]
  return `${lines.join('\n')}\n`
}

/** `kvs --help`: the commands, global options, environment, exit status and examples. */
export function mainHelp(): string {
  const lines = [
    'Usage: kvs <command> [arguments] [options]',
    '',
    'Put video into Amazon Kinesis Video Streams, read it back, manage streams, or run a local emulator.',
    'Follows the AWS CLI: the same region, profile, credential and endpoint settings.',
    '',
    'Commands:',
    ...rows([
      ...COMMANDS.map((command): [string, string] => [command.name, command.summary]),
      ['help <command>', 'show the help of a command (or kvs <command> --help)'],
    ]),
    '',
    'Global options:',
    ...rows(GLOBAL_OPTIONS.map((option) => [optionLabel(option), option.description])),
    '',
    ...environmentSection(),
    '',
    ...exitSection(),
    '',
    'Examples:',
    '  kvs emulator                                          # a local KVS on http://127.0.0.1:4567',
    '  kvs streams create my-stream --retention-hours 24',
    '  kvs put my-stream video.mkv',
    '  ffmpeg -re -i input.mp4 -c copy -cluster_size_limit 2M -f matroska - | kvs put my-stream -',
    '  kvs get my-stream --start earliest --until 10 -o copy.mkv',
    '',
    'Run kvs <command> --help for the options of a command.',
  ]
  return `${lines.join('\n')}\n`
}
