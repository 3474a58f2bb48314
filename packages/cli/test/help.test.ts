import { beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../src/spec.ts'
import { cleanEnv, ensureBuilt, kvs, runInProcess } from './support.ts'

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
      const result = await runInProcess([...name.split(' '), '--help'], cleanEnv())
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
    expect((await runInProcess(['help', 'get'], cleanEnv())).stdout).toMatch(
      /^Usage: kvs get <stream> \[options\]/,
    )
    expect((await runInProcess(['help', 'streams', 'list'], cleanEnv())).stdout).toMatch(
      /^Usage: kvs streams list \[options\]/,
    )
    const streams = await runInProcess(['streams', '--help'], cleanEnv())
    expect(streams.code).toBe(0)
    expect(streams.stdout).toMatch(/^Usage: kvs streams <create\|describe\|list\|delete>/)
  })
})
