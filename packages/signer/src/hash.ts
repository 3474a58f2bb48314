import { Sha256 } from '@aws-crypto/sha256-js'

/** Bytes or text (hashed as UTF-8). */
export type Hashable = string | Uint8Array

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: Hashable): string {
  const hash = new Sha256()
  hash.update(data)
  return toHex(hash.digestSync())
}

/** HMAC-SHA256 of `data` under `key`. */
export function hmacSha256(key: Hashable, data: Hashable): Uint8Array {
  const hash = new Sha256(key)
  hash.update(data)
  return hash.digestSync()
}

const hexDigits = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += hexDigits[byte]
  return hex
}
