import { PassThrough } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.ts'
import { COMMANDS } from '../src/spec.ts'
import { cleanEnv, ensureBuilt, kvs } from './support.ts'

/** Runs `kvs` in this process with captured stdout and stderr. */
async function runInProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
    env: cleanEnv(),
    signal: new AbortController().signal,
  })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

beforeAll(() => ensureBuilt())

describe('kvs --help', () => {
  it('lists every command, the global options, the environment and the exit statuses', async () => {
    const result = await kvs(['--help'], { env: cleanEnv() })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: kvs <command> \[arguments\] \[options\]\n/)
    for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command.name} `)
    for (const option of [
      '--region <region>',
      '--profile <name>',
      '--endpoint-url <url>',
      '--debug',
      '--no-color',
      '--version',
    ]) {
      expect(result.stdout).toContain(option)
    }
    for (const variable of [
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_PROFILE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SESSION_TOKEN',
      'AWS_ENDPOINT_URL',
    ]) {
      expect(result.stdout).toContain(variable)
    }
    expect(result.stdout).toContain('Exit status:')
  })

  it('prints the version', async () => {
    const result = await kvs(['--version'], { env: cleanEnv() })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^kvs \d+\.\d+\.\d+ \(node v\d+/)
  })

  it.each(COMMANDS.map((command) => command.name))(
    'kvs %s --help shows its usage, options and examples',
    async (name) => {
      const result = await runInProcess([...name.split(' '), '--help'])
      const command = COMMANDS.find((spec) => spec.name === name)!
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(new RegExp(`^Usage: kvs ${name} `))
      for (const option of command.options) expect(result.stdout).toContain(`--${option.name}`)
      expect(result.stdout).toContain('Global options:')
      expect(result.stdout).toContain('Examples:')
      expect(result.stdout).toContain(command.examples[0]!)
    },
  )

  it('answers kvs help <command> and kvs streams --help', async () => {
    expect((await runInProcess(['help', 'get'])).stdout).toMatch(/^Usage: kvs get <stream> \[options\]/)
    expect((await runInProcess(['help', 'streams', 'list'])).stdout).toMatch(
      /^Usage: kvs streams list \[options\]/,
    )
    const streams = await runInProcess(['streams', '--help'])
    expect(streams.code).toBe(0)
    expect(streams.stdout).toMatch(/^Usage: kvs streams <create\|describe\|list\|delete>/)
  })
})
