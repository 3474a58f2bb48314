import {
  type AwsSettings,
  KvsSettingsError,
  resolveAwsSettings as resolveSettings,
  type Sourced,
} from '@kvs-streams/transport'
import { CliError } from './errors.ts'
import { ExitCode } from './exit-codes.ts'

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

export type { AwsSettings, Sourced }

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

/** The settings error of `@kvs-streams/transport` in the AWS CLI's words, with what to do. */
function cliSettingsError(error: KvsSettingsError): CliError {
  switch (error.code) {
    case 'ERR_KVS_NO_REGION':
      return noRegionError()
    case 'ERR_KVS_PROFILE_NOT_FOUND':
      return new CliError('ERR_KVS_CLI_PROFILE_NOT_FOUND', `${error.message}.`, {
        exitCode: ExitCode.Configuration,
        hints: [
          `It comes from ${error.source}. Profiles are sections of ~/.aws/config ([profile NAME]) and`,
          '~/.aws/credentials ([NAME]), or of the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name.',
          'List them with: aws configure list-profiles',
        ],
      })
    case 'ERR_KVS_INVALID_ENDPOINT':
      return new CliError('ERR_KVS_CLI_USAGE', error.message, {
        hints: ['For the local emulator: --endpoint-url http://127.0.0.1:4567'],
      })
  }
}

/**
 * Region, profile, endpoint and credential chain, as every AWS SDK client resolves them (`resolveAwsSettings`
 * of `@kvs-streams/transport`, which the producer and `readStream` use too), the flags first. Throws
 * `ERR_KVS_CLI_NO_REGION`, `ERR_KVS_CLI_PROFILE_NOT_FOUND` or `ERR_KVS_CLI_USAGE` (an endpoint that is no URL).
 */
export async function resolveAwsSettings(global: GlobalOptions): Promise<AwsSettings> {
  try {
    return await resolveSettings({
      region: global.region,
      profile: global.profile,
      endpoint: global.endpointUrl,
      names: { region: '--region', profile: '--profile', endpoint: '--endpoint-url' },
    })
  } catch (error) {
    throw KvsSettingsError.is(error) ? cliSettingsError(error) : error
  }
}

/** The region `resolveAwsSettings` would use, or `undefined` when there is none. */
export async function resolveRegion(global: GlobalOptions): Promise<Sourced<string> | undefined> {
  try {
    return (await resolveAwsSettings(global)).region
  } catch (error) {
    if (CliError.is(error) && error.code === 'ERR_KVS_CLI_NO_REGION') return undefined
    throw error
  }
}
