import {
  GetDataEndpointCommand,
  type GetDataEndpointCommandOutput,
  KinesisVideoClient,
  type KinesisVideoClientConfig,
} from '@aws-sdk/client-kinesis-video'
import { invalidOption, numberOption } from '@kvs-streams/core'
import { type AwsSettings, type AwsSettingsOptions, resolveAwsSettings } from './aws-settings.ts'
import { isEndpointError } from './retry.ts'

/** The data-plane APIs whose endpoint the resolver looks up (GetDataEndpoint's `APIName`). */
export type DataEndpointApiName = 'PUT_MEDIA' | 'GET_MEDIA' | 'LIST_FRAGMENTS' | 'GET_MEDIA_FOR_FRAGMENT_LIST'

const API_NAMES = new Set<string>(['PUT_MEDIA', 'GET_MEDIA', 'LIST_FRAGMENTS', 'GET_MEDIA_FOR_FRAGMENT_LIST'])

/** A stream, by name or `{ streamArn }`. */
export type StreamRef = string | { streamName: string } | { streamArn: string }

/** The part of a `KinesisVideoClient` the resolver uses (so a test can pass a fake). */
export interface GetDataEndpointClient {
  /** Sends GetDataEndpoint, as `KinesisVideoClient.send` does. */
  send(command: GetDataEndpointCommand): Promise<Pick<GetDataEndpointCommandOutput, 'DataEndpoint'>>
}

/** Default `ttlMs`: how long a resolved endpoint is reused. */
export const DEFAULT_ENDPOINT_TTL_MS = 30 * 60_000

/** Options of `createDataEndpointResolver`: a control-plane client, or what to build one from. */
export type DataEndpointResolverOptions = (
  | {
      /** A control-plane client (`new KinesisVideoClient({ region, credentials })`), or anything with its `send`. */
      client: GetDataEndpointClient
    }
  | {
      client?: undefined
      /** AWS region. Default: as `resolveAwsSettings` finds it (environment, then the profile). */
      region?: string
      /** Static credentials or a provider. Default: the AWS SDK's default chain (`resolveAwsSettings`). */
      credentials?: KinesisVideoClientConfig['credentials']
      /** Control-plane endpoint override, e.g. an emulator's URL. Default: as `resolveAwsSettings` finds it. */
      endpoint?: string
      /**
       * Where the client's region, credentials and endpoint come from, e.g. settings shared with a signer made by
       * `createSettingsSigner`. Default: `resolveAwsSettings` over `region`, `credentials` and `endpoint`.
       */
      settings?: () => Promise<AwsSettings>
    }
) & {
  /** How long a resolved endpoint is reused, ms. Default 30 minutes. */
  ttlMs?: number
  /** Current time, epoch ms; default `Date.now`. */
  clock?: () => number
}

/** Resolves and caches data endpoints per stream and API. */
export interface DataEndpointResolver {
  /**
   * The data endpoint for `apiName` on `stream`: from the cache while it is younger than `ttlMs`, otherwise
   * from GetDataEndpoint (concurrent calls share one request). Rejects with the control-plane client's error.
   */
  resolve(stream: StreamRef, apiName: DataEndpointApiName): Promise<string>
  /** Forgets the cached endpoint of one API of the stream, or of all its APIs. */
  invalidate(stream: StreamRef, apiName?: DataEndpointApiName): void
}

function streamKey(stream: StreamRef): string {
  if (typeof stream === 'string' && stream !== '') return `name:${stream}`
  if (typeof stream === 'object' && stream !== null) {
    if ('streamArn' in stream && typeof stream.streamArn === 'string' && stream.streamArn !== '') {
      return `arn:${stream.streamArn}`
    }
    if ('streamName' in stream && typeof stream.streamName === 'string' && stream.streamName !== '') {
      return `name:${stream.streamName}`
    }
  }
  throw invalidOption('stream', 'a stream name, { streamName } or { streamArn }', stream)
}

function checkApiName(apiName: unknown): DataEndpointApiName {
  if (typeof apiName !== 'string' || !API_NAMES.has(apiName)) {
    throw invalidOption('apiName', [...API_NAMES].join(' | '), apiName)
  }
  return apiName as DataEndpointApiName
}

/**
 * Creates a data-endpoint resolver over GetDataEndpoint (`@aws-sdk/client-kinesis-video`). Endpoints are cached
 * per stream and API name for `ttlMs`; invalidate one when it fails (`withEndpoint` does so).
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_GetDataEndpoint.html
 */
export function createDataEndpointResolver(options: DataEndpointResolverOptions): DataEndpointResolver {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { ttlMs = DEFAULT_ENDPOINT_TTL_MS, clock = Date.now } = options
  // Infinity: never expires.
  numberOption('ttlMs', ttlMs, 'a number of milliseconds >= 0', { min: 0, infinity: true })
  if (typeof clock !== 'function')
    throw invalidOption('clock', 'a function returning epoch milliseconds', clock)
  let client: GetDataEndpointClient
  if (options.client !== undefined) {
    if (typeof options.client?.send !== 'function') {
      throw invalidOption('client', 'a KinesisVideoClient', options.client)
    }
    client = options.client
  } else {
    if (options.region !== undefined && (typeof options.region !== 'string' || options.region === '')) {
      throw invalidOption('region', 'a non-empty string (or pass client)', options.region)
    }
    const { region, credentials, endpoint } = options
    const settings =
      options.settings ??
      (() =>
        resolveAwsSettings({
          region,
          endpoint,
          credentials: credentials as AwsSettingsOptions['credentials'],
        }))
    // Whatever is not given is resolved as the AWS SDK does, on first use (settings errors reject `resolve`).
    let made: Promise<KinesisVideoClient> | undefined
    const make = () =>
      settings().then(
        (settings) =>
          new KinesisVideoClient({
            region: settings.region.value,
            credentials: settings.credentials,
            ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint.value }),
          }),
      )
    client = {
      send: (command) => {
        made ??= make()
        made.catch(() => {
          made = undefined
        })
        return made.then((made) => made.send(command))
      },
    }
  }

  /** Resolved endpoints (or the lookup in flight) by stream key and API name. */
  const cache = new Map<string, { endpoint: Promise<string>; expiresAt: number }>()

  return {
    resolve(stream, apiName) {
      let key: string
      try {
        key = `${streamKey(stream)}\n${checkApiName(apiName)}`
      } catch (error) {
        return Promise.reject(error)
      }
      const now = clock()
      const cached = cache.get(key)
      if (cached !== undefined && now < cached.expiresAt) return cached.endpoint
      const request: Record<string, string> =
        typeof stream === 'string'
          ? { StreamName: stream }
          : 'streamArn' in stream
            ? { StreamARN: stream.streamArn }
            : { StreamName: stream.streamName }
      const endpoint = client
        .send(new GetDataEndpointCommand({ ...request, APIName: apiName }))
        .then((output) => {
          if (typeof output.DataEndpoint !== 'string' || output.DataEndpoint === '') {
            throw new TypeError('GetDataEndpoint returned no DataEndpoint')
          }
          return output.DataEndpoint
        })
      const entry = { endpoint, expiresAt: now + ttlMs }
      cache.set(key, entry)
      // A failed lookup is not cached.
      endpoint.catch(() => {
        if (cache.get(key) === entry) cache.delete(key)
      })
      return endpoint
    },
    invalidate(stream, apiName) {
      const prefix = `${streamKey(stream)}\n`
      if (apiName !== undefined) {
        cache.delete(prefix + checkApiName(apiName))
        return
      }
      for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key)
    },
  }
}

/**
 * Resolves the endpoint of `apiName` on `stream` and calls `fn` with it. When `fn` fails with an endpoint
 * error (`isEndpointError`), invalidates that endpoint, resolves it again and calls `fn` once more; its second
 * failure, or any other error, is passed through. `fn` runs twice at most, so it must be safe to repeat (for
 * PutMedia: start from a source that can be read again, e.g. the file).
 *
 * ```ts
 * const fragments = await withEndpoint(resolver, 'my-stream', 'LIST_FRAGMENTS', (endpoint) =>
 *   listFragments({ endpoint, streamName: 'my-stream', signer }))
 * ```
 */
export async function withEndpoint<T>(
  resolver: DataEndpointResolver,
  stream: StreamRef,
  apiName: DataEndpointApiName,
  fn: (endpoint: string) => Promise<T>,
): Promise<T> {
  const endpoint = await resolver.resolve(stream, apiName)
  try {
    return await fn(endpoint)
  } catch (error) {
    if (!isEndpointError(error)) throw error
    resolver.invalidate(stream, apiName)
    return fn(await resolver.resolve(stream, apiName))
  }
}
