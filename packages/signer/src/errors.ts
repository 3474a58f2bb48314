const brand = Symbol.for('kvs-streams.signer-error')

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
    super(message, options.cause === undefined ? {} : { cause: options.cause })
    this.code = code
    this.expiration = options.expiration
  }

  get [brand](): true {
    return true
  }

  /** True for any `KvsSignerError`, also across duplicate installs of this package. */
  static is(value: unknown): value is KvsSignerError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}

/** The `TypeError` thrown for a bad option, with the one message pattern used across kvs-streams. */
export function invalidOption(name: string, expected: string, value: unknown, code?: string): TypeError {
  const error = new TypeError(`${name} must be ${expected}, got ${describe(value)}`)
  if (code !== undefined) Object.defineProperty(error, 'code', { value: code, enumerable: true })
  return error
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}
