/** The `x-amz-date` form of an instant (`20150830T123600Z`, UTC, whole seconds) and its date part (`20150830`). */
export interface AmzDate {
  amzDate: string
  shortDate: string
}

/** Formats epoch milliseconds as `x-amz-date` (milliseconds are dropped, as every SigV4 signer does). */
export function formatAmzDate(epochMs: number): AmzDate {
  const amzDate = new Date(epochMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')
  return { amzDate, shortDate: amzDate.slice(0, 8) }
}

const amzDatePattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** Parses an `x-amz-date` value to epoch milliseconds, or `undefined` when it is not a valid `YYYYMMDDTHHMMSSZ`. */
export function parseAmzDate(value: string): number | undefined {
  const match = amzDatePattern.exec(value)
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, ...number[]]
  const epochMs = Date.UTC(year!, month! - 1, day, hour, minute, second)
  return formatAmzDate(epochMs).amzDate === value ? epochMs : undefined
}
