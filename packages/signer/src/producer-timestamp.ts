/**
 * Formats epoch milliseconds for the `x-amzn-producer-start-timestamp` PutMedia header: whole seconds, a dot and
 * three zero-padded millisecond digits (`1677613818005` → `1677613818.005`, `0` → `0.000`). Fractions of a
 * millisecond are dropped. Avoids producer-c's unpadded `1677613818.5`.
 * @throws {TypeError} when `epochMs` is NaN, negative, infinite or beyond `Number.MAX_SAFE_INTEGER`.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function formatProducerStartTimestamp(epochMs: number): string {
  if (typeof epochMs !== 'number' || !(epochMs >= 0) || epochMs > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(
      `epochMs must be a finite non-negative number of milliseconds, got ${typeof epochMs === 'number' ? epochMs : typeof epochMs}`,
    )
  }
  const milliseconds = Math.floor(epochMs)
  return `${Math.floor(milliseconds / 1000)}.${String(milliseconds % 1000).padStart(3, '0')}`
}
