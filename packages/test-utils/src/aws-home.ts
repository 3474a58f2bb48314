import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Every environment variable through which the AWS SDK's loaders or credential chain could find settings other
 * than the shared files of the temporary home (the SDK reads them from `process.env`).
 */
export const AWS_ENVIRONMENT_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_KINESIS_VIDEO',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CA_BUNDLE',
] as const

/**
 * Makes a temporary home directory holding only `.aws/config` and `.aws/credentials` with the given text, and
 * returns the environment of a user with that home and no other AWS setting: every variable of
 * `AWS_ENVIRONMENT_VARIABLES` unset (`undefined`, for `vi.stubEnv`), instance metadata off.
 */
export function makeAwsHome(files: { config: string; credentials: string }): {
  home: string
  env: Record<string, string | undefined>
} {
  const home = mkdtempSync(join(tmpdir(), 'kvs-aws-home-'))
  mkdirSync(join(home, '.aws'))
  writeFileSync(join(home, '.aws', 'config'), files.config)
  writeFileSync(join(home, '.aws', 'credentials'), files.credentials)
  const env: Record<string, string | undefined> = Object.fromEntries(
    AWS_ENVIRONMENT_VARIABLES.map((name) => [name, undefined]),
  )
  return { home, env: { ...env, HOME: home, USERPROFILE: home, AWS_EC2_METADATA_DISABLED: 'true' } }
}
