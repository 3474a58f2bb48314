import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { KvsSignerError } from './errors.ts'

/** Static credentials, or a provider such as `fromNodeProviderChain()`, `fromIni()` or `fromEnv()`. */
export type CredentialsSource = AwsCredentialIdentity | AwsCredentialIdentityProvider

/** How `createCredentialsCache` tells time and when it refreshes. */
export interface CredentialsCacheOptions {
  /** Epoch milliseconds. */
  clock: () => number
  /** Refresh provider credentials this long before their `expiration`. */
  refreshBeforeExpiryMs: number
}

/** Resolves the credentials to sign with; `invalidate()` makes the next call ask the provider again. */
export interface CredentialsResolver {
  (): Promise<AwsCredentialIdentity>
  /**
   * Forgets the cached provider credentials (the service answered `ExpiredTokenException`): the next call asks
   * the provider again, with `{ forceRefresh: true }` (the AWS SDK's memoized providers then skip their own
   * cache). No effect with static credentials.
   */
  invalidate(): void
}

/**
 * Returns a function that resolves the credentials to sign with.
 *
 * Static credentials are returned as they are, or rejected with `ERR_KVS_CREDENTIALS_EXPIRED` once their
 * `expiration` has passed. A provider is called once and its result reused until the clock reaches
 * `expiration - refreshBeforeExpiryMs` (forever without `expiration`); concurrent callers share one in-flight
 * call. A failed refresh falls back to the cached credentials while they have not expired, and is retried on
 * the next call; otherwise it rejects with `ERR_KVS_CREDENTIALS_UNAVAILABLE` (the provider's error as `cause`).
 * A provider returning already expired credentials rejects with `ERR_KVS_CREDENTIALS_EXPIRED`.
 */
export function createCredentialsCache(
  source: CredentialsSource,
  options: CredentialsCacheOptions,
): CredentialsResolver {
  const { clock, refreshBeforeExpiryMs } = options
  if (typeof source !== 'function') {
    return Object.assign(
      async () => {
        assertNotExpired(source, clock())
        return source
      },
      { invalidate() {} },
    )
  }
  const provider = source
  /** The last credentials the provider returned; reused until they come within the refresh margin. */
  let current: AwsCredentialIdentity | undefined
  /** The provider call in flight, shared by every caller that arrives while it runs. */
  let pending: Promise<AwsCredentialIdentity> | undefined
  /** `invalidate()` was called: the next provider call forces a refresh and the cached ones are not a fallback. */
  let invalidated = false

  async function refresh(): Promise<AwsCredentialIdentity> {
    let identity: unknown
    const force = invalidated
    invalidated = false
    try {
      identity = await (force ? provider({ forceRefresh: true }) : provider())
    } catch (error) {
      if (current !== undefined && !isExpired(current, clock())) return current
      throw new KvsSignerError(
        'ERR_KVS_CREDENTIALS_UNAVAILABLE',
        `The credentials provider failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      )
    }
    if (!isCredentialIdentity(identity)) {
      throw new KvsSignerError(
        'ERR_KVS_CREDENTIALS_UNAVAILABLE',
        'The credentials provider returned something other than { accessKeyId, secretAccessKey, expiration?: Date }',
        { cause: identity },
      )
    }
    assertNotExpired(identity, clock())
    current = identity
    return identity
  }

  const resolve = () => {
    if (current !== undefined && !isExpiring(current, clock(), refreshBeforeExpiryMs)) {
      return Promise.resolve(current)
    }
    pending ??= refresh().finally(() => {
      pending = undefined
    })
    return pending
  }
  return Object.assign(resolve, {
    invalidate() {
      current = undefined
      invalidated = true
    },
  })
}

/** Whether `value` has string `accessKeyId` and `secretAccessKey` (and, if present, a Date `expiration`). */
export function isCredentialIdentity(value: unknown): value is AwsCredentialIdentity {
  if (typeof value !== 'object' || value === null) return false
  const { accessKeyId, secretAccessKey, expiration } = value as Record<string, unknown>
  return (
    typeof accessKeyId === 'string' &&
    typeof secretAccessKey === 'string' &&
    (expiration === undefined || expiration instanceof Date)
  )
}

function isExpired(identity: AwsCredentialIdentity, now: number): boolean {
  return identity.expiration !== undefined && identity.expiration.getTime() <= now
}

function isExpiring(identity: AwsCredentialIdentity, now: number, marginMs: number): boolean {
  return identity.expiration !== undefined && identity.expiration.getTime() - marginMs <= now
}

function assertNotExpired(identity: AwsCredentialIdentity, now: number): void {
  if (isExpired(identity, now)) {
    throw new KvsSignerError(
      'ERR_KVS_CREDENTIALS_EXPIRED',
      `The credentials for ${identity.accessKeyId} expired at ${identity.expiration!.toISOString()}`,
      { expiration: identity.expiration },
    )
  }
}
