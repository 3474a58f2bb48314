import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'
import {
  booleanSelector,
  CONFIG_PREFIX_SEPARATOR,
  type LoadedConfigSelectors,
  loadConfig,
  loadSharedConfigFiles,
  NODE_REGION_CONFIG_OPTIONS,
  SelectorType,
} from '@smithy/core/config'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Profile } from '@smithy/types'
import { KvsSettingsError } from './errors.ts'

/** The service id of Kinesis Video Streams in the SDK's endpoint settings (`AWS_ENDPOINT_URL_KINESIS_VIDEO`). */
export const KINESIS_VIDEO_SERVICE_ID = 'Kinesis Video'

/** A setting and where it came from (`the region option`, `AWS_REGION`, `profile dev in the config file`…). */
export interface Sourced<T> {
  value: T
  source: string
}

/** Options of `resolveAwsSettings`: explicit values, which win over the environment and the shared files. */
export interface AwsSettingsOptions {
  /** AWS region. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`. */
  region?: string | undefined
  /** The profile of the shared files. Default: `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`, then `default`. */
  profile?: string | undefined
  /**
   * The control-plane endpoint. Default: `AWS_ENDPOINT_URL_KINESIS_VIDEO`, `AWS_ENDPOINT_URL`, the profile's
   * `services` section (`kinesis_video = endpoint_url = …`), then its `endpoint_url` (none of these when
   * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`); else the AWS endpoint of the region.
   */
  endpoint?: string | undefined
  /** Static credentials or a provider. Default: the AWS SDK's default chain (`fromNodeProviderChain`). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined
  /** Names of the option fields in error messages (the CLI passes `--region`, `--profile`, `--endpoint-url`). */
  names?: { region?: string; profile?: string; endpoint?: string }
}

/** Region, profile, endpoint and credentials, resolved as every AWS SDK v3 client resolves them. */
export interface AwsSettings {
  region: Sourced<string>
  /** The profile read for the region, endpoint and credentials, when one was named (option or environment). */
  profile: Sourced<string> | undefined
  /** The control-plane endpoint override, when there is one; `undefined` means the AWS endpoint of the region. */
  endpoint: Sourced<string> | undefined
  /** The credentials provider: the given one, or the default chain (memoised, refreshed before expiry). */
  credentials: AwsCredentialIdentityProvider
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** Runs `loadConfig` (environment, then the profile in the shared files) and says which one answered. */
async function loadSourced(
  environment: { names: string[]; select: (env: NodeJS.ProcessEnv) => string | undefined },
  configFile: (profile: Profile, config: Record<string, Profile> | undefined) => string | undefined,
  profile: string,
): Promise<Sourced<string> | undefined> {
  let source: string | undefined
  const selectors: LoadedConfigSelectors<string | undefined> = {
    environmentVariableSelector: (env) => {
      for (const name of environment.names) {
        const value = nonEmpty(environment.select({ [name]: env[name] }))
        if (value !== undefined) {
          source = name
          return value
        }
      }
      return undefined
    },
    configFileSelector: (section, config) => {
      const value = nonEmpty(configFile(section, config))
      if (value !== undefined) source = `profile ${profile} in the config file`
      return value
    },
    default: () => undefined,
  }
  const value = await loadConfig(selectors, { profile, ignoreCache: true })()
  return value === undefined || source === undefined ? undefined : { value, source }
}

/** The SDK's `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` / profile `services` / `endpoint_url` order. */
function endpointFromProfile(
  profile: Profile,
  config: Record<string, Profile> | undefined,
): string | undefined {
  const services = profile.services
  if (services !== undefined) {
    const section = config?.[['services', services].join(CONFIG_PREFIX_SEPARATOR)] ?? {}
    const key = [KINESIS_VIDEO_SERVICE_ID.toLowerCase().replaceAll(' ', '_'), 'endpoint_url'].join(
      CONFIG_PREFIX_SEPARATOR,
    )
    const value = nonEmpty(section[key])
    if (value !== undefined) return value
  }
  return profile.endpoint_url
}

async function ignoreConfiguredEndpoints(profile: string): Promise<boolean> {
  const ignore = await loadConfig<boolean>(
    {
      environmentVariableSelector: (env) =>
        booleanSelector(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', SelectorType.ENV),
      configFileSelector: (section) =>
        booleanSelector(section, 'ignore_configured_endpoint_urls', SelectorType.CONFIG),
      default: false,
    },
    { profile, ignoreCache: true },
  )()
  return ignore === true
}

function profileOf(options: AwsSettingsOptions): Sourced<string> | undefined {
  const given = nonEmpty(options.profile)
  if (given !== undefined) return { value: given, source: options.names?.profile ?? 'the profile option' }
  for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) {
    const value = nonEmpty(process.env[name])
    if (value !== undefined) return { value, source: name }
  }
  return undefined
}

async function profileExists(profile: string): Promise<boolean> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true })
  return configFile[profile] !== undefined || credentialsFile[profile] !== undefined
}

/**
 * Resolves region, profile, control-plane endpoint and credentials the way every AWS SDK v3 client does, on the
 * SDK's own loaders (`loadConfig` over the environment and `~/.aws/config` / `~/.aws/credentials`, or the files
 * `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` name) and its default credential chain
 * (`fromNodeProviderChain`: environment, SSO, shared files, web identity, `credential_process`, container and
 * instance metadata). The producer, `readStream`, the data-endpoint resolver and the `kvs` CLI all use it, so a
 * shell where `aws kinesisvideo` works needs no options.
 *
 * Credentials are not fetched here: `credentials` is a provider, called on first use.
 *
 * @throws {KvsSettingsError} `ERR_KVS_NO_REGION` without a region, `ERR_KVS_PROFILE_NOT_FOUND` when a named
 * profile is in neither shared file, `ERR_KVS_INVALID_ENDPOINT` when the endpoint is not an http(s) URL
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
 */
export async function resolveAwsSettings(options: AwsSettingsOptions = {}): Promise<AwsSettings> {
  const profile = profileOf(options)
  if (profile !== undefined && !(await profileExists(profile.value))) {
    throw new KvsSettingsError(
      'ERR_KVS_PROFILE_NOT_FOUND',
      `The config profile (${profile.value}) could not be found`,
      { source: profile.source },
    )
  }
  const profileName = profile?.value ?? 'default'
  const givenRegion = nonEmpty(options.region)
  const region: Sourced<string> | undefined =
    givenRegion !== undefined
      ? { value: givenRegion, source: options.names?.region ?? 'the region option' }
      : await loadSourced(
          {
            names: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
            select: (env) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
          },
          (section) => NODE_REGION_CONFIG_OPTIONS.configFileSelector(section),
          profileName,
        )
  if (region === undefined) {
    throw new KvsSettingsError(
      'ERR_KVS_NO_REGION',
      'No AWS region: pass region, set AWS_REGION, or set region in the profile (aws configure set region us-west-2)',
    )
  }
  const givenEndpoint = nonEmpty(options.endpoint)
  const endpoint: Sourced<string> | undefined =
    givenEndpoint !== undefined
      ? { value: givenEndpoint, source: options.names?.endpoint ?? 'the endpoint option' }
      : (await ignoreConfiguredEndpoints(profileName))
        ? undefined
        : await loadSourced(
            {
              names: ['AWS_ENDPOINT_URL_KINESIS_VIDEO', 'AWS_ENDPOINT_URL'],
              select: (env) => env.AWS_ENDPOINT_URL_KINESIS_VIDEO ?? env.AWS_ENDPOINT_URL,
            },
            endpointFromProfile,
            profileName,
          )
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/i.test(endpoint.value)) {
    throw new KvsSettingsError(
      'ERR_KVS_INVALID_ENDPOINT',
      `${endpoint.source} must be an http(s) URL, got ${JSON.stringify(endpoint.value)}`,
      { source: endpoint.source },
    )
  }
  const given = options.credentials
  const credentials: AwsCredentialIdentityProvider =
    typeof given === 'function'
      ? given
      : given !== undefined
        ? () => Promise.resolve(given)
        : fromNodeProviderChain(profile === undefined ? {} : { profile: profile.value })
  return { region, profile, endpoint, credentials }
}

/** Options of `createSettingsSigner`. */
export interface SettingsSignerOptions {
  /** Current time, epoch ms, for signing and credential expiry. Default `Date.now`. */
  clock?: () => number
}

/**
 * A SigV4 signer whose region and credentials come from `settings` (e.g. `() => resolveAwsSettings()`), called
 * on the first request: what a client made synchronously uses before it knows the region. A failed resolution
 * rejects that request and is tried again on the next. `region` is readable once a request was signed.
 */
export function createSettingsSigner(
  settings: () => Promise<AwsSettings>,
  options: SettingsSignerOptions = {},
): KvsSigner {
  let pending: Promise<KvsSigner> | undefined
  let made: KvsSigner | undefined
  const signer = (): Promise<KvsSigner> => {
    if (made !== undefined) return Promise.resolve(made)
    if (pending === undefined) {
      const attempt = settings().then((resolved) => {
        made = createKvsSigner({
          region: resolved.region.value,
          credentials: resolved.credentials,
          ...(options.clock === undefined ? {} : { clock: options.clock }),
        })
        return made
      })
      pending = attempt
      attempt.catch(() => {
        if (pending === attempt) pending = undefined
      })
    }
    return pending
  }
  return {
    get region(): string {
      if (made === undefined)
        throw new TypeError('The region is not resolved yet: it is known after the first request')
      return made.region
    },
    service: 'kinesisvideo',
    sign: (request) => signer().then((made) => made.sign(request)),
    signPutMedia: (request) => signer().then((made) => made.signPutMedia(request)),
    signJson: (request) => signer().then((made) => made.signJson(request)),
    credentials: () => signer().then((made) => made.credentials()),
    refreshCredentials: () => made?.refreshCredentials?.(),
  }
}
