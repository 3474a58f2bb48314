import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, emulatorEnv, ensureBuilt, kvs } from './support.ts'

let emulator: Emulator

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({ port: 0 })
})
afterAll(() => emulator?.close())

describe('kvs error messages', () => {
  it('says which variables to set when there are no credentials (exit 253)', async () => {
    const env = cleanEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: emulator.url })
    const result = await kvs(['streams', 'list'], { env })
    expect(result.code).toBe(253)
    expect(result.stderr).toMatch(/^kvs: error: Unable to locate credentials\.$/m)
    expect(result.stderr).toContain('Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
    expect(result.stderr).toContain('--profile or AWS_PROFILE')
    expect(result.stderr).toContain(
      'AWS_ACCESS_KEY_ID=AKIDKVSEMULATOR AWS_SECRET_ACCESS_KEY=kvs-emulator-secret',
    )
  })

  it('names a profile that does not exist', async () => {
    const env = cleanEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: emulator.url })
    const result = await kvs(['streams', 'list', '--profile', 'nobody'], { env })
    expect(result.code).toBe(253)
    expect(result.stderr).toContain('kvs: error: The config profile (nobody) could not be found.')
  })

  it('says a wrong secret key does not match its access key id (exit 254)', async () => {
    const env = emulatorEnv(emulator.url, { AWS_SECRET_ACCESS_KEY: 'not-the-secret' })
    const result = await kvs(['streams', 'describe', 'any'], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain('kvs: error: The request signature does not match')
    expect(result.stderr).toContain('The secret access key does not belong to the access key id')
  })

  it('says an unknown access key id is not recognised and suggests checking the region', async () => {
    const env = emulatorEnv(emulator.url, { AWS_ACCESS_KEY_ID: 'AKIDSOMEONEELSE' })
    const result = await kvs(['streams', 'list'], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toMatch(
      /kvs: error: The access key id or security token is not recognised \(region us-east-1/,
    )
    expect(result.stderr).toContain('check --region (us-east-1)')
  })

  it('says the request was signed for the wrong region', async () => {
    const env = emulatorEnv(emulator.url, { AWS_REGION: 'eu-west-1' })
    const result = await kvs(['streams', 'list'], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain('kvs: error: The request was signed for the wrong region')
    expect(result.stderr).toContain('the emulator uses us-east-1')
  })

  it('says the emulator is not running when the endpoint refuses connections (exit 255)', async () => {
    const closed = await startEmulator({ port: 0 })
    const url = closed.url
    await closed.close()
    const result = await kvs(['streams', 'list', '--endpoint-url', url], { env: emulatorEnv(emulator.url) })
    expect(result.code).toBe(255)
    expect(result.stderr).toContain(
      `kvs: error: Could not connect to ${url.replace('http://', '')}: connection refused.`,
    )
    expect(result.stderr).toContain(
      `The endpoint ${url} comes from --endpoint-url. Is the emulator running there?`,
    )
    expect(result.stderr).toContain('kvs emulator')
  })

  it('asks for a region when there is none (exit 253)', async () => {
    const env = cleanEnv({
      AWS_ACCESS_KEY_ID: 'AKIDKVSEMULATOR',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_ENDPOINT_URL: emulator.url,
    })
    const result = await kvs(['streams', 'list'], { env })
    expect(result.code).toBe(253)
    expect(result.stderr).toContain('kvs: error: You must specify a region.')
    expect(result.stderr).toContain('AWS_REGION or AWS_DEFAULT_REGION')
  })

  it('reads the region from AWS_DEFAULT_REGION', async () => {
    const env = emulatorEnv(emulator.url, { AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1' })
    const result = await kvs(['streams', 'list', '--json'], { env })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('rejects unknown options and commands with exit 252 and the usage', async () => {
    const env = cleanEnv()
    const option = await kvs(['put', 's', '--bogus'], { env })
    expect(option.code).toBe(252)
    expect(option.stderr).toContain('kvs: error: unknown option --bogus')
    expect(option.stderr).toContain('Usage: kvs put <stream> [file|-] [options]')
    const command = await kvs(['fly'], { env })
    expect(command.code).toBe(252)
    expect(command.stderr).toContain('kvs: error: unknown command "fly"')
    const value = await kvs(['get', 's', '--start', 'yesterday'], { env })
    expect(value.code).toBe(252)
    expect(value.stderr).toContain('--start must be now, earliest')
  })
})
