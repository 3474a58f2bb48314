import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import { loadSharedConfigFiles } from '@smithy/core/config'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { CliError } from './errors.ts'
import { ExitCode } from './exit-codes.ts'
import type { CliIo } from './io.ts'

/** The options every command takes, as the AWS CLI names them. */
export interface GlobalOptions {
  /** `--region`. */
  region: string | undefined
  /** `--profile`. */
  profile: string | undefined
  /** `--endpoint-url`: the control-plane endpoint (an emulator's URL, a VPC endpoint). */
  endpointUrl: string | undefined
  /** `--debug`: log how the configuration was resolved, and print errors with their stack and causes. */
  debug: boolean
  /** `--no-color`. */
  noColor: boolean
  /** `--json`: machine-readable output, one JSON object per line. */
  json: boolean
}

/** Where a setting came from, for `--debug` and error messages. */
export interface Sourced<T> {
  value: T
  source: string
}

/** The resolved AWS settings of one command. */
export interface AwsSettings {
  region: Sourced<string>
  /** The profile used for the region and credentials, when one was named (`--profile`, `AWS_PROFILE`). */
  profile: string | undefined
  /** The control-plane endpoint override, when there is one. */
  endpoint: Sourced<string> | undefined
  /** The credential chain; resolved once, then cached (and refreshed by the signer before expiry). */
  credentials: AwsCredentialIdentityProvider
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** The profile named by `--profile`, `AWS_PROFILE` or `AWS_DEFAULT_PROFILE`, if any. */
export function profileName(global: GlobalOptions, env: CliIo['env']): Sourced<string> | undefined {
  const flag = nonEmpty(global.profile)
  if (flag !== undefined) return { value: flag, source: '--profile' }
  for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) {
    const value = nonEmpty(env[name])
    if (value !== undefined) return { value, source: name }
  }
  return undefined
}

async function profileSettings(profile: string): Promise<Record<string, string | undefined>> {
  try {
    const { configFile } = await loadSharedConfigFiles({ ignoreCache: true })
    return configFile[profile] ?? {}
  } catch {
    return {}
  }
}

/** Whether `profile` has a section in the config file or the credentials file. */
async function profileExists(profile: string): Promise<boolean> {
  try {
    const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true })
    return configFile[profile] !== undefined || credentialsFile[profile] !== undefined
  } catch {
    return false
  }
}

/**
 * The region, resolved as the AWS CLI does: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then the
 * profile's `region` in the config file (`AWS_CONFIG_FILE`, default `~/.aws/config`). `undefined` when none.
 */
export async function resolveRegion(
  global: GlobalOptions,
  env: CliIo['env'],
): Promise<Sourced<string> | undefined> {
  const flag = nonEmpty(global.region)
  if (flag !== undefined) return { value: flag, source: '--region' }
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = nonEmpty(env[name])
    if (value !== undefined) return { value, source: name }
  }
  const profile = profileName(global, env)?.value ?? 'default'
  const region = nonEmpty((await profileSettings(profile)).region)
  return region === undefined ? undefined : { value: region, source: `profile ${profile} in the config file` }
}

/**
 * The control-plane endpoint override: `--endpoint-url`, `AWS_ENDPOINT_URL_KINESIS_VIDEO`, `AWS_ENDPOINT_URL`,
 * then the profile's `endpoint_url` (all but the flag ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`).
 */
export async function resolveEndpoint(
  global: GlobalOptions,
  env: CliIo['env'],
): Promise<Sourced<string> | undefined> {
  const flag = nonEmpty(global.endpointUrl)
  const found: Sourced<string> | undefined =
    flag !== undefined ? { value: flag, source: '--endpoint-url' } : await configuredEndpoint(global, env)
  if (found !== undefined && !/^https?:\/\/[^/\s]+/i.test(found.value)) {
    throw new CliError(
      'ERR_KVS_CLI_USAGE',
      `${found.source} must be an http(s) URL, got ${JSON.stringify(found.value)}`,
      {
        hints: ['For the local emulator: --endpoint-url http://127.0.0.1:4567'],
      },
    )
  }
  return found
}

async function configuredEndpoint(
  global: GlobalOptions,
  env: CliIo['env'],
): Promise<Sourced<string> | undefined> {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined
  for (const name of ['AWS_ENDPOINT_URL_KINESIS_VIDEO', 'AWS_ENDPOINT_URL']) {
    const value = nonEmpty(env[name])
    if (value !== undefined) return { value, source: name }
  }
  const profile = profileName(global, env)?.value ?? 'default'
  const value = nonEmpty((await profileSettings(profile)).endpoint_url)
  return value === undefined ? undefined : { value, source: `profile ${profile} in the config file` }
}

/** The error for a missing region, with what to set. */
export function noRegionError(): CliError {
  return new CliError('ERR_KVS_CLI_NO_REGION', 'You must specify a region.', {
    exitCode: ExitCode.Configuration,
    hints: [
      'Pass --region (e.g. --region us-west-2), set AWS_REGION or AWS_DEFAULT_REGION,',
      'or set region in your profile (aws configure set region us-west-2).',
      'The local emulator (kvs emulator) uses us-east-1.',
    ],
  })
}

/**
 * The credential chain of the AWS CLI and SDKs (`fromNodeProviderChain`, memoised): `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, SSO, the shared credentials and config files for the profile,
 * `credential_process`, web identity, then container and instance metadata.
 */
export function credentialChain(profile: string | undefined): AwsCredentialIdentityProvider {
  return fromNodeProviderChain(profile === undefined ? {} : { profile })
}

/** Resolves region, profile, endpoint and the credential chain. Throws `ERR_KVS_CLI_NO_REGION` without a region. */
export async function resolveAwsSettings(global: GlobalOptions, env: CliIo['env']): Promise<AwsSettings> {
  const region = await resolveRegion(global, env)
  if (region === undefined) throw noRegionError()
  const profile = profileName(global, env)
  if (profile !== undefined && !(await profileExists(profile.value))) {
    throw new CliError(
      'ERR_KVS_CLI_PROFILE_NOT_FOUND',
      `The config profile (${profile.value}) could not be found.`,
      {
        exitCode: ExitCode.Configuration,
        hints: [
          `It comes from ${profile.source}. Profiles are sections of ~/.aws/config ([profile NAME]) and`,
          '~/.aws/credentials ([NAME]), or of the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name.',
          'List them with: aws configure list-profiles',
        ],
      },
    )
  }
  const endpoint = await resolveEndpoint(global, env)
  return {
    region,
    profile: profile?.value,
    endpoint,
    // AWS_PROFILE is read by the chain itself; a profile named otherwise is passed on.
    credentials: credentialChain(profile?.source === 'AWS_PROFILE' ? undefined : profile?.value),
  }
}
