import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { Emulator } from '../src/index.ts'
import { testEmulator } from './support/client.ts'

/** The Debian AWS CLI v2 (the `aws` first on PATH may be a v1). Tests fail, not skip, without it. */
const AWS = '/usr/bin/aws'

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI with only the emulator's credentials in its environment (no profile, no config file). */
function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')))
  return new Promise((resolve) => {
    execFile(AWS, args, { env: { ...clean, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

function aws(emulator: Emulator, args: string[], secretAccessKey?: string): Promise<CliResult> {
  const pair = emulator.credentials[0]!
  return run(
    [
      'kinesisvideo',
      ...args,
      '--endpoint-url',
      emulator.url,
      '--region',
      emulator.region,
      '--output',
      'json',
    ],
    {
      AWS_ACCESS_KEY_ID: pair.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey ?? pair.secretAccessKey,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    },
  )
}

async function awsJson(emulator: Emulator, args: string[]): Promise<Record<string, unknown>> {
  const result = await aws(emulator, args)
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return result.stdout.trim() === '' ? {} : JSON.parse(result.stdout)
}

describe('control plane through the AWS CLI v2', () => {
  it('is installed at /usr/bin/aws as version 2', async () => {
    expect(existsSync(AWS)).toBe(true)
    const version = await run(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^aws-cli\/2\./)
  })

  it('creates, describes, lists, finds the endpoint of and deletes a stream', async () => {
    const emulator = await testEmulator()
    const created = await awsJson(emulator, [
      'create-stream',
      '--stream-name',
      'cli-stream',
      '--data-retention-in-hours',
      '24',
      '--media-type',
      'video/h264',
    ])
    expect(created.StreamARN).toMatch(
      /^arn:aws:kinesisvideo:us-east-1:000000000000:stream\/cli-stream\/[0-9]{13}$/,
    )
    await awsJson(emulator, ['create-stream', '--stream-name', 'cli-other'])

    const described = (await awsJson(emulator, ['describe-stream', '--stream-name', 'cli-stream']))
      .StreamInfo as Record<string, unknown>
    expect(described).toMatchObject({
      StreamName: 'cli-stream',
      StreamARN: created.StreamARN,
      Status: 'ACTIVE',
      DataRetentionInHours: 24,
      MediaType: 'video/h264',
    })
    expect(described.Version).toMatch(/^[A-Za-z0-9]{20}$/)
    expect(Date.parse(described.CreationTime as string)).toBeGreaterThan(Date.now() - 60_000)

    // One page per stream: the CLI follows NextToken itself.
    const listed = await awsJson(emulator, ['list-streams', '--page-size', '1'])
    expect((listed.StreamInfoList as { StreamName: string }[]).map((stream) => stream.StreamName)).toEqual([
      'cli-other',
      'cli-stream',
    ])
    const filtered = await awsJson(emulator, [
      'list-streams',
      '--stream-name-condition',
      'ComparisonOperator=BEGINS_WITH,ComparisonValue=cli-s',
    ])
    expect((filtered.StreamInfoList as unknown[]).length).toBe(1)

    const endpoint = await awsJson(emulator, [
      'get-data-endpoint',
      '--stream-name',
      'cli-stream',
      '--api-name',
      'PUT_MEDIA',
    ])
    expect(endpoint).toEqual({ DataEndpoint: emulator.url })

    await awsJson(emulator, ['delete-stream', '--stream-arn', created.StreamARN as string])
    const missing = await aws(emulator, ['describe-stream', '--stream-name', 'cli-stream'])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('ResourceNotFoundException')
  })

  it('is refused with a wrong secret key', async () => {
    const emulator = await testEmulator()
    const result = await aws(emulator, ['list-streams'], 'not-the-secret')
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('InvalidSignatureException')
  })
})
