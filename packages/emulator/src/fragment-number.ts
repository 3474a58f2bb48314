const SEQUENCE_BASE = 2n ** 64n
const LOW_BITS = 92n
const LOW_MASK = (1n << LOW_BITS) - 1n

/**
 * Formats a fragment number as the service does: `((2^64 + sequence) << 92) | lowBits` in decimal, always
 * 47 digits (for every safe-integer sequence: 47 digits hold sequences up to ~1.7e18), so numbers of a stream compare the same as strings and as
 * integers. The service's low 92 bits have no documented meaning; the emulator puts the server timestamp
 * (epoch ms) there.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_reader_Fragment.html
 */
export function formatFragmentNumber(sequence: number, lowBits: bigint | number = 0n): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new TypeError(`sequence must be a safe integer >= 0, got ${sequence}`)
  }
  const low = BigInt(lowBits)
  if (low < 0n || low > LOW_MASK) throw new TypeError(`lowBits must fit in 92 bits, got ${low}`)
  return (((SEQUENCE_BASE + BigInt(sequence)) << LOW_BITS) | low).toString()
}

/** Splits a fragment number into its sequence and low bits, or returns `undefined` when it is not one. */
export function parseFragmentNumber(
  fragmentNumber: string,
): { sequence: number; lowBits: bigint } | undefined {
  if (!/^[0-9]{1,128}$/.test(fragmentNumber)) return undefined
  const value = BigInt(fragmentNumber)
  const high = value >> LOW_BITS
  if (high < SEQUENCE_BASE) return undefined
  const sequence = high - SEQUENCE_BASE
  if (sequence > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return { sequence: Number(sequence), lowBits: value & LOW_MASK }
}
