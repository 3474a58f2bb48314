import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { makeAwsHome } from '@kvs-streams/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, fixture, kvs } from './support.ts'

let emulator: Emulator
const clustersMkv = fixture('kvs-getmedia/clusters.mkv')

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({ port: 0 })
})
afterAll(() => emulator?.close())

/**
 * The environment of a user whose only AWS settings are `~/.aws/config` and `~/.aws/credentials`: a `kvs` profile
 * with the region and, in a services section, the emulator as the Kinesis Video endpoint.
 */
function sharedFilesEnv(extra: Record<string, string> = {}): Record<string, string> {
  const { env } = makeAwsHome({
    config: [
      '[profile kvs]',
      `region = ${emulator.region}`,
      'services = local',
      '',
      '[services local]',
      'kinesis_video =',
      `  endpoint_url = ${emulator.url}`,
      '',
    ].join('\n'),
    credentials: '[kvs]\naws_access_key_id = AKIDKVSEMULATOR\naws_secret_access_key = kvs-emulator-secret\n',
  })
  const defined = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NO_COLOR: '1',
    ...Object.fromEntries(defined),
    ...extra,
  }
}

describe('kvs with nothing but ~/.aws/config and ~/.aws/credentials', () => {
  it('takes the region, the endpoint (services section) and the credentials of AWS_PROFILE', async () => {
    const result = await kvs(['streams', 'list', '--debug'], { env: sharedFilesEnv({ AWS_PROFILE: 'kvs' }) })
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`region ${emulator.region} (from profile kvs in the config file)`)
    expect(result.stderr).toContain('profile kvs (from AWS_PROFILE)')
    expect(result.stderr).toContain(`endpoint ${emulator.url} (from profile kvs in the config file)`)
    expect(result.stderr).toContain('credentials: access key id AKIDKVSEMULATOR')
  })

  it('AWS_ENDPOINT_URL_KINESIS_VIDEO wins over the profile, and --endpoint-url over both', async () => {
    const env = sharedFilesEnv({ AWS_PROFILE: 'kvs', AWS_ENDPOINT_URL_KINESIS_VIDEO: 'http://127.0.0.1:9' })
    const fromEnv = await kvs(['streams', 'list', '--debug'], { env })
    expect(fromEnv.stderr).toContain('endpoint http://127.0.0.1:9 (from AWS_ENDPOINT_URL_KINESIS_VIDEO)')
    expect(fromEnv.code).toBe(255)
    const fromFlag = await kvs(['streams', 'list', '--debug', '--endpoint-url', emulator.url], { env })
    expect(fromFlag.stderr).toContain(`endpoint ${emulator.url} (from --endpoint-url)`)
    expect(fromFlag.code).toBe(0)
  })

  it('kvs put stores a file whose clusters start at 0 dated back to end now, not in 1970', async () => {
    const before = Date.now()
    const result = await kvs(['put', 'from-profile', clustersMkv, '--create', '--profile', 'kvs'], {
      env: sharedFilesEnv(),
    })
    expect(result.code).toBe(0)
    const stored = emulator.storage.listFragments('from-profile')
    expect(stored).toHaveLength(8)
    const last = stored.at(-1)!
    const end = last.producerTimestampMs + last.durationMs
    expect(end).toBeGreaterThanOrEqual(before)
    expect(end).toBeLessThanOrEqual(Date.now())
    expect(stored[0]!.producerTimestampMs).toBeGreaterThan(before - 60_000)
  })
})
