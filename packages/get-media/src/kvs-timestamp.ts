const TIMESTAMP = /^(\d{1,15})(?:\.(\d{0,9}))?$/

/**
 * Parses a KVS timestamp tag value (`AWS_KINESISVIDEO_SERVER_TIMESTAMP`, `…_PRODUCER_TIMESTAMP`): epoch
 * seconds with 3 decimals, e.g. `'1519423069.070'` → `1519423069070`. The decimal string is read digit by
 * digit, so the result is exact (no `1519423069.07 * 1000` float error). Fewer decimals are padded
 * (`'5.5'` → 5500); digits past the millisecond are dropped.
 * @throws TypeError when `text` is not non-negative decimal seconds.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export function parseKvsTimestamp(text: string): number {
  const ms = tryParseKvsTimestamp(text)
  if (ms === undefined) {
    throw new TypeError(`timestamp must be epoch seconds like '1519423069.070', got ${JSON.stringify(text)}`)
  }
  return ms
}

/** {@link parseKvsTimestamp} returning `undefined` instead of throwing (the parser's tolerant path). */
export function tryParseKvsTimestamp(text: string): number | undefined {
  const match = TIMESTAMP.exec(text)
  if (match === null) return undefined
  const fraction = (match[2] ?? '').slice(0, 3).padEnd(3, '0')
  return Number(match[1]) * 1000 + Number(fraction)
}

/**
 * Formats epoch milliseconds as KVS writes them in its tags: seconds with exactly 3 decimals
 * (`1519423069070` → `'1519423069.070'`, `0` → `'0.000'`).
 * @throws TypeError when `ms` is not a non-negative safe integer.
 */
export function formatKvsTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new TypeError(`ms must be a non-negative safe integer, got ${ms}`)
  const millis = ms % 1000
  return `${(ms - millis) / 1000}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`
}
