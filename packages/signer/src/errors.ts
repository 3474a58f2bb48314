import { defineErrorFamily } from '@kvs-streams/core'

/** Brand of `KvsSignerError`, valued with its code, so `KvsSignerError.is()` works across duplicate installs. */
const brand = Symbol.for('kvs-streams.signer-error')
const family = defineErrorFamily<KvsSignerErrorCode>(brand)

/** Stable error codes of the signer. */
export type KvsSignerErrorCode =
  /** Static credentials whose `expiration` has passed, or a provider that returned expired credentials. */
  | 'ERR_KVS_CREDENTIALS_EXPIRED'
  /** The credentials provider threw or returned something that is not a credential identity; see `cause`. */
  | 'ERR_KVS_CREDENTIALS_UNAVAILABLE'
  /** The step functions disagree with `@smithy/signature-v4`. A bug in this package: please report it. */
  | 'ERR_KVS_SIGNER_INCONSISTENT'

/** Code of the `TypeError` thrown by `createKvsSigner` when `region` is missing or empty. */
export const ERR_KVS_SIGNER_MISSING_REGION = 'ERR_KVS_SIGNER_MISSING_REGION'

/** Extra context for a `KvsSignerError`. */
export interface KvsSignerErrorOptions {
  cause?: unknown
  /** The `expiration` of the rejected credentials (for `ERR_KVS_CREDENTIALS_EXPIRED`). */
  expiration?: Date | undefined
}

/**
 * Raised when a request cannot be signed: credentials expired or unavailable. Bad options are `TypeError`s
 * instead.
 */
export class KvsSignerError extends Error {
  override name = 'KvsSignerError'
  readonly code: KvsSignerErrorCode
  /** The `expiration` of the rejected credentials, for `ERR_KVS_CREDENTIALS_EXPIRED`. */
  readonly expiration: Date | undefined

  constructor(code: KvsSignerErrorCode, message: string, options: KvsSignerErrorOptions = {}) {
    super(message, family.superOptions(options))
    this.code = code
    this.expiration = options.expiration
  }

  get [brand](): KvsSignerErrorCode {
    return this.code
  }

  /** True for any `KvsSignerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsSignerError {
    return family.is(value)
  }
}
