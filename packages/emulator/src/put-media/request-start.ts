/**
 * How long the newest accepted PutMedia start of a stream is remembered: the validity window of a KVS SigV4
 * signature (KVS answers "Signature expired" beyond 5 minutes). A request signed before the remembered start
 * and still arriving after this window would be expired at the service, so nothing is left to arbitrate.
 */
export const SIGNING_WINDOW_MS = 5 * 60_000

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** Parses an `x-amz-date` value (`YYYYMMDDTHHMMSSZ`) to epoch milliseconds; `undefined` when it is not one. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const match = value === undefined ? null : AMZ_DATE.exec(value)
  if (match === null) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second)
  const date = new Date(epochMs)
  // Date.UTC rolls 20261232 over to January: refuse dates that do not exist.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour) {
    return undefined
  }
  return epochMs
}

/**
 * When a PutMedia request started, as the emulator orders concurrent requests: its SigV4 signing time
 * (`x-amz-date`, second resolution), or its arrival time when it carries none (signatures not verified).
 */
export function putMediaStartMs(amzDate: string | undefined, arrivalMs: number): number {
  return parseAmzDate(amzDate) ?? arrivalMs
}

/** Whether a PutMedia start is accepted, and the stream's newest accepted start afterwards. */
export type StartAdmission =
  | { admitted: true; newestStartMs: number }
  | { admitted: false; newestStartMs: number }

/**
 * Decides whether a PutMedia request may become the stream's writer. Refused: a start strictly older than the
 * newest accepted start, while that one is less than `SIGNING_WINDOW_MS` old (by the emulator's clock).
 * Admitted otherwise (equal starts too: the later arrival wins), and the start becomes the newest.
 * @param newestStartMs the stream's newest accepted start, `undefined` before the first PutMedia.
 */
export function admitPutMediaStart(
  newestStartMs: number | undefined,
  startMs: number,
  nowMs: number,
): StartAdmission {
  const remembered =
    newestStartMs !== undefined && nowMs - newestStartMs <= SIGNING_WINDOW_MS ? newestStartMs : undefined
  if (remembered !== undefined && startMs < remembered) return { admitted: false, newestStartMs: remembered }
  return { admitted: true, newestStartMs: startMs }
}
