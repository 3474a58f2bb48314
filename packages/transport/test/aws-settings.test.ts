import { DEFAULT_CREDENTIALS, startEmulator } from '@kvs-streams/emulator'
import { makeAwsHome } from '@kvs-streams/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createDataEndpointResolver,
  createSettingsSigner,
  KvsSettingsError,
  resolveAwsSettings,
} from '../src/index.ts'

const CONFIG = `[default]
region = eu-west-1

[profile dev]
region = ap-southeast-2
endpoint_url = http://dev.example:4567

[profile svc]
region = us-east-2
services = local
endpoint_url = http://profile-wide.example

[services local]
kinesis_video =
  endpoint_url = http://kinesis-video-only.example
s3 =
  endpoint_url = http://s3-only.example

[profile ignoring]
region = us-west-1
endpoint_url = http://ignored.example
ignore_configured_endpoint_urls = true
`

const CREDENTIALS = `[default]
aws_access_key_id = AKIDDEFAULTFILE
aws_secret_access_key = default-secret

[dev]
aws_access_key_id = AKIDDEVFILE
aws_secret_access_key = dev-secret

[svc]
aws_access_key_id = AKIDSVCFILE
aws_secret_access_key = svc-secret

[ignoring]
aws_access_key_id = AKIDIGNORINGFILE
aws_secret_access_key = ignoring-secret
`

/** A user whose only AWS settings are `~/.aws/config` and `~/.aws/credentials` (plus `extra`). */
function userWithSharedFiles(
  extra: Record<string, string> = {},
  files = { config: CONFIG, credentials: CREDENTIALS },
): void {
  const { env } = makeAwsHome(files)
  for (const [name, value] of Object.entries({ ...env, ...extra })) vi.stubEnv(name, value)
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('resolveAwsSettings from a home holding only ~/.aws/config and ~/.aws/credentials', () => {
  it('takes the default profile: region from the config file, credentials from the credentials file, no endpoint', async () => {
    userWithSharedFiles()
    const settings = await resolveAwsSettings()
    expect(settings.region).toEqual({ value: 'eu-west-1', source: 'profile default in the config file' })
    expect(settings.profile).toBeUndefined()
    expect(settings.endpoint).toBeUndefined()
    expect(await settings.credentials()).toMatchObject({
      accessKeyId: 'AKIDDEFAULTFILE',
      secretAccessKey: 'default-secret',
    })
  })

  it('AWS_PROFILE selects the profile for region, endpoint_url and credentials', async () => {
    userWithSharedFiles({ AWS_PROFILE: 'dev' })
    const settings = await resolveAwsSettings()
    expect(settings.profile).toEqual({ value: 'dev', source: 'AWS_PROFILE' })
    expect(settings.region).toEqual({ value: 'ap-southeast-2', source: 'profile dev in the config file' })
    expect(settings.endpoint).toEqual({
      value: 'http://dev.example:4567',
      source: 'profile dev in the config file',
    })
    expect((await settings.credentials()).accessKeyId).toBe('AKIDDEVFILE')
  })

  it('the profile option wins over AWS_PROFILE', async () => {
    userWithSharedFiles({ AWS_PROFILE: 'dev' })
    const settings = await resolveAwsSettings({ profile: 'svc' })
    expect(settings.profile).toEqual({ value: 'svc', source: 'the profile option' })
    expect(settings.region.value).toBe('us-east-2')
    expect((await settings.credentials()).accessKeyId).toBe('AKIDSVCFILE')
  })

  it("a profile's services section gives Kinesis Video its own endpoint_url, over the profile-wide one", async () => {
    userWithSharedFiles({ AWS_PROFILE: 'svc' })
    expect((await resolveAwsSettings()).endpoint).toEqual({
      value: 'http://kinesis-video-only.example',
      source: 'profile svc in the config file',
    })
  })

  it('endpoints in order: option, AWS_ENDPOINT_URL_KINESIS_VIDEO, AWS_ENDPOINT_URL, then the profile', async () => {
    userWithSharedFiles({
      AWS_PROFILE: 'dev',
      AWS_ENDPOINT_URL: 'http://all-services.example',
      AWS_ENDPOINT_URL_KINESIS_VIDEO: 'http://kvs-env.example',
    })
    expect((await resolveAwsSettings({ endpoint: 'http://option.example' })).endpoint).toEqual({
      value: 'http://option.example',
      source: 'the endpoint option',
    })
    expect((await resolveAwsSettings()).endpoint).toEqual({
      value: 'http://kvs-env.example',
      source: 'AWS_ENDPOINT_URL_KINESIS_VIDEO',
    })
    vi.stubEnv('AWS_ENDPOINT_URL_KINESIS_VIDEO', undefined)
    expect((await resolveAwsSettings()).endpoint).toEqual({
      value: 'http://all-services.example',
      source: 'AWS_ENDPOINT_URL',
    })
  })

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile setting) ignores every configured endpoint but the option', async () => {
    userWithSharedFiles({
      AWS_PROFILE: 'dev',
      AWS_ENDPOINT_URL_KINESIS_VIDEO: 'http://kvs-env.example',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    })
    expect((await resolveAwsSettings()).endpoint).toBeUndefined()
    expect((await resolveAwsSettings({ endpoint: 'http://option.example' })).endpoint?.value).toBe(
      'http://option.example',
    )
    vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', undefined)
    vi.stubEnv('AWS_ENDPOINT_URL_KINESIS_VIDEO', undefined)
    expect((await resolveAwsSettings({ profile: 'ignoring' })).endpoint).toBeUndefined()
  })

  it('regions in order: option, AWS_REGION, AWS_DEFAULT_REGION, then the profile', async () => {
    userWithSharedFiles({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'ca-central-1' })
    expect((await resolveAwsSettings({ region: 'sa-east-1' })).region).toEqual({
      value: 'sa-east-1',
      source: 'the region option',
    })
    expect((await resolveAwsSettings()).region).toEqual({ value: 'us-west-2', source: 'AWS_REGION' })
    vi.stubEnv('AWS_REGION', '')
    expect((await resolveAwsSettings()).region).toEqual({
      value: 'ca-central-1',
      source: 'AWS_DEFAULT_REGION',
    })
  })

  it("the SDK's chain order: environment keys before the shared files, unless a profile is named", async () => {
    userWithSharedFiles({ AWS_ACCESS_KEY_ID: 'AKIDFROMENV', AWS_SECRET_ACCESS_KEY: 'env-secret' })
    expect((await (await resolveAwsSettings()).credentials()).accessKeyId).toBe('AKIDFROMENV')
    // A named profile makes the chain skip the environment's keys (fromNodeProviderChain).
    expect((await (await resolveAwsSettings({ profile: 'dev' })).credentials()).accessKeyId).toBe(
      'AKIDDEVFILE',
    )
    vi.stubEnv('AWS_PROFILE', 'svc')
    expect((await (await resolveAwsSettings()).credentials()).accessKeyId).toBe('AKIDSVCFILE')
  })

  it('explicit credentials are used as given, static or a provider', async () => {
    userWithSharedFiles()
    const given = { accessKeyId: 'AKIDGIVEN', secretAccessKey: 'given' }
    expect(await (await resolveAwsSettings({ credentials: given })).credentials()).toBe(given)
    const provider = async () => given
    expect((await resolveAwsSettings({ credentials: provider })).credentials).toBe(provider)
  })

  it('refuses a profile that is in neither file (ERR_KVS_PROFILE_NOT_FOUND, with its source)', async () => {
    userWithSharedFiles({ AWS_PROFILE: 'typo' })
    const error = await resolveAwsSettings().catch((caught: unknown) => caught)
    expect(KvsSettingsError.is(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'ERR_KVS_PROFILE_NOT_FOUND',
      source: 'AWS_PROFILE',
      message: 'The config profile (typo) could not be found',
    })
  })

  it('without a region anywhere fails with ERR_KVS_NO_REGION, naming what to set', async () => {
    userWithSharedFiles({}, { config: '[default]\noutput = json\n', credentials: CREDENTIALS })
    await expect(resolveAwsSettings()).rejects.toMatchObject({
      name: 'KvsSettingsError',
      code: 'ERR_KVS_NO_REGION',
      message: expect.stringContaining('set AWS_REGION'),
    })
  })

  it('refuses an endpoint that is not an http(s) URL, naming where it came from', async () => {
    userWithSharedFiles({ AWS_ENDPOINT_URL_KINESIS_VIDEO: 'localhost:4567' })
    await expect(resolveAwsSettings()).rejects.toMatchObject({
      code: 'ERR_KVS_INVALID_ENDPOINT',
      source: 'AWS_ENDPOINT_URL_KINESIS_VIDEO',
      message: 'AWS_ENDPOINT_URL_KINESIS_VIDEO must be an http(s) URL, got "localhost:4567"',
    })
  })
})

describe('the transport helpers with nothing but the shared files', () => {
  it('createDataEndpointResolver and createSettingsSigner reach the emulator named by endpoint_url', async () => {
    const emulator = await startEmulator({ port: 0 })
    try {
      userWithSharedFiles(
        {},
        {
          config: `[default]\nregion = ${emulator.region}\nendpoint_url = ${emulator.url}\n`,
          credentials: `[default]\naws_access_key_id = ${DEFAULT_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${DEFAULT_CREDENTIALS.secretAccessKey}\n`,
        },
      )
      const resolver = createDataEndpointResolver({})
      const signer = createSettingsSigner(() => resolveAwsSettings())
      const created = await signer.signJson({
        url: `${emulator.url}/createStream`,
        body: JSON.stringify({ StreamName: 'from-files', DataRetentionInHours: 1 }),
      })
      const response = await fetch(`${emulator.url}/createStream`, {
        method: 'POST',
        headers: created.headers,
        body: JSON.stringify({ StreamName: 'from-files', DataRetentionInHours: 1 }),
      })
      expect(response.status).toBe(200)
      expect(signer.region).toBe(emulator.region)
      expect(new URL(await resolver.resolve('from-files', 'PUT_MEDIA')).host).toBe(new URL(emulator.url).host)
    } finally {
      await emulator.close()
    }
  })

  it('createDataEndpointResolver rejects with the settings error when no region can be found', async () => {
    userWithSharedFiles({}, { config: '', credentials: '' })
    await expect(createDataEndpointResolver({}).resolve('s', 'PUT_MEDIA')).rejects.toMatchObject({
      code: 'ERR_KVS_NO_REGION',
    })
  })
})
