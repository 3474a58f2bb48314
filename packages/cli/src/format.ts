/** Formatting helpers shared by the commands, the progress display and the demo. */

const integer = new Intl.NumberFormat('en-US')

/** `1234567` → `1,234,567`. */
export function formatInteger(value: number): string {
  return integer.format(value)
}

/** Bytes in SI units as `ls -h --si` and ffmpeg print them: `980 B`, `1.2 MB`, `3.40 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** Milliseconds for people: `85 ms`, `1.4 s`, `2 min 05 s`. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`
  const seconds = Math.round(milliseconds / 1000)
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`
}

/** Elapsed time as a clock: `00:07`, `12:34`, `1:02:03`. */
export function formatClock(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000)
  const hours = Math.floor(seconds / 3600)
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')
  const ss = String(seconds % 60).padStart(2, '0')
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`
}

/** Epoch ms as an ISO 8601 UTC time with milliseconds, or `-`. */
export function formatTime(epochMs: number | undefined): string {
  return epochMs === undefined || !Number.isFinite(epochMs) ? '-' : new Date(epochMs).toISOString()
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g

/** The length of `text` as a terminal shows it (ANSI escapes take no room). */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length
}

/** Cuts `text` to `width` visible characters (dropping its styling when it has to cut). */
export function truncate(text: string, width: number): string {
  if (visibleLength(text) <= width) return text
  const plain = text.replace(ANSI, '')
  return width <= 1 ? plain.slice(0, width) : `${plain.slice(0, width - 1)}…`
}

/** Rows as aligned columns: cells that look like numbers right-aligned, the rest left-aligned. */
export function formatTable(rows: readonly (readonly string[])[], gap = '  '): string[] {
  const widths: number[] = []
  for (const row of rows) {
    for (const [column, cell] of row.entries())
      widths[column] = Math.max(widths[column] ?? 0, visibleLength(cell))
  }
  const numeric = /^[-+]?[\d,.]+( ?(ms|s|B|kB|MB|GB|%))?$/
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const pad = ' '.repeat((widths[column] ?? 0) - visibleLength(cell))
        const last = column === row.length - 1
        return numeric.test(cell) ? pad + cell : last ? cell : cell + pad
      })
      .join(gap)
      .trimEnd(),
  )
}
