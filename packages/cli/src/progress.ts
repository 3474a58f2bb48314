import { formatBytes, formatClock, formatDuration, formatInteger, truncate } from './format.ts'
import { createStyle, type OutputStream, type Style } from './io.ts'

/** What the progress display shows: one upload's counters at one moment. */
export interface ProgressSnapshot {
  /** What is being sent, e.g. the stream name. */
  label: string
  /** The producer's state: `connecting`, `streaming`, `reconnecting`, `closed`. */
  state: string
  /** MKV bytes written to PutMedia sessions so far. */
  bytesSent: number
  /** Size of the input, when known (a file): shows a percentage of the input read. */
  bytesTotal?: number | undefined
  /** Input bytes read so far, for the percentage. */
  bytesRead?: number | undefined
  fragments: {
    /** Accepted and not yet acknowledged. */
    buffered: number
    received: number
    persisted: number
    /** Skipped after an ERROR ack or a violation. */
    skipped: number
  }
  /** Ack latency percentiles (from fragment accepted to RECEIVED), ms. */
  ackLatencyMs?: { p50: number | undefined; p99: number | undefined } | undefined
  /** PutMedia sessions opened after a failure. */
  reconnects?: number | undefined
}

/** Options of `createProgressRenderer`. */
export interface ProgressRendererOptions {
  /** Where to draw, normally `process.stderr`. */
  output: OutputStream
  /** Redraw a status block in place (a terminal) instead of printing a summary at the end. Default: `output.isTTY`. */
  interactive?: boolean
  /** Use colour. Default: same as `interactive`. */
  color?: boolean
  /** Least time between two redraws, ms. Default 100. */
  minIntervalMs?: number
  /** Current time, epoch ms. Default `Date.now`. */
  clock?: () => number
}

/** Draws upload progress: a status block redrawn in place on a terminal, a final summary elsewhere. */
export interface ProgressRenderer {
  /** Shows `snapshot` (redraws at most every `minIntervalMs` on a terminal; remembered otherwise). */
  update(snapshot: ProgressSnapshot): void
  /** Prints a line above the status block (a warning, an event) and keeps the block below it. */
  log(line: string): void
  /** Draws the last snapshot (or `snapshot`) one final time, leaves it on screen and stops. */
  done(snapshot?: ProgressSnapshot): void
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** Keeps (time, bytes) samples over a sliding window to compute a current rate. */
class RateMeter {
  readonly #windowMs: number
  readonly #samples: { at: number; bytes: number }[] = []

  constructor(windowMs: number) {
    this.#windowMs = windowMs
  }

  /** Adds a sample and returns the rate over the window, bytes/s (undefined until two samples span time). */
  sample(at: number, bytes: number): number | undefined {
    this.#samples.push({ at, bytes })
    while (this.#samples.length > 2 && at - this.#samples[1]!.at >= this.#windowMs) this.#samples.shift()
    const first = this.#samples[0]!
    const span = at - first.at
    return span > 0 ? ((bytes - first.bytes) * 1000) / span : undefined
  }
}

/**
 * The status block for `snapshot` as lines of at most `width` characters: the transfer (state, bytes, rate,
 * elapsed) and the fragments (buffered, received, persisted, skipped, ack latency).
 */
export function formatProgress(
  snapshot: ProgressSnapshot,
  extra: { elapsedMs: number; rate: number | undefined; spinner?: string; width?: number; style?: Style },
): string[] {
  const style = extra.style ?? createStyle(false)
  const { fragments } = snapshot
  const percent =
    snapshot.bytesTotal !== undefined && snapshot.bytesTotal > 0 && snapshot.bytesRead !== undefined
      ? ` (${Math.min(100, Math.floor((snapshot.bytesRead * 100) / snapshot.bytesTotal))}% of ${formatBytes(snapshot.bytesTotal)})`
      : ''
  const state =
    snapshot.state === 'streaming' || snapshot.state === 'closed'
      ? style.green(snapshot.state)
      : snapshot.state === 'reconnecting'
        ? style.yellow(snapshot.state)
        : style.cyan(snapshot.state)
  const rate = extra.rate === undefined ? '' : `  ${formatBytes(extra.rate)}/s`
  const reconnects = snapshot.reconnects
    ? `  ${style.yellow(`${snapshot.reconnects} reconnect${snapshot.reconnects === 1 ? '' : 's'}`)}`
    : ''
  const first = `${extra.spinner === undefined ? '' : `${extra.spinner} `}${style.bold(snapshot.label)}  ${state}  ${formatBytes(snapshot.bytesSent)} sent${percent}${rate}  ${formatClock(extra.elapsedMs)}${reconnects}`
  const latency =
    snapshot.ackLatencyMs?.p50 === undefined
      ? ''
      : `   ack latency p50 ${formatDuration(snapshot.ackLatencyMs.p50)}${snapshot.ackLatencyMs.p99 === undefined ? '' : ` · p99 ${formatDuration(snapshot.ackLatencyMs.p99)}`}`
  const skipped =
    fragments.skipped > 0 ? ` · ${style.red(`${formatInteger(fragments.skipped)} skipped`)}` : ''
  const second = `  fragments ${formatInteger(fragments.buffered)} buffered · ${formatInteger(fragments.received)} received · ${formatInteger(fragments.persisted)} persisted${skipped}${latency}`
  const width = extra.width ?? Number.POSITIVE_INFINITY
  return [truncate(first, width), truncate(second, width)]
}

/** Options of `createStatusRenderer`: the progress display's, and how to draw and measure a snapshot. */
export interface StatusRendererOptions<Snapshot> extends ProgressRendererOptions {
  /** The status block of `snapshot`, as lines of at most `extra.width` characters. */
  format(
    snapshot: Snapshot,
    extra: { elapsedMs: number; rate: number | undefined; spinner?: string; width: number; style: Style },
  ): string[]
  /** The byte count whose rate the block shows (bytes sent). */
  bytes(snapshot: Snapshot): number
}

/** A status block redrawn in place (see `createProgressRenderer`), for any kind of snapshot. */
export interface StatusRenderer<Snapshot> {
  /** Shows `snapshot` (redraws at most every `minIntervalMs` on a terminal; remembered otherwise). */
  update(snapshot: Snapshot): void
  /** Prints a line above the status block (a warning, an event) and keeps the block below it. */
  log(line: string): void
  /** Draws the last snapshot (or `snapshot`) one final time, leaves it on screen and stops. */
  done(snapshot?: Snapshot): void
}

/**
 * Creates the progress display `kvs put` and the demo use. On a terminal it redraws a two-line status block
 * in place (cursor up, clear to end of screen), throttled to `minIntervalMs`; `log()` lines scroll above it.
 * Elsewhere it prints `log()` lines as they come and the block once, at `done()`.
 */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  return createStatusRenderer<ProgressSnapshot>({
    ...options,
    format: formatProgress,
    bytes: (snapshot) => snapshot.bytesSent,
  })
}

/** The renderer of `createProgressRenderer`, drawing snapshots with `options.format`. */
export function createStatusRenderer<Snapshot>(
  options: StatusRendererOptions<Snapshot>,
): StatusRenderer<Snapshot> {
  const { output, clock = Date.now, minIntervalMs = 100 } = options
  const interactive = options.interactive ?? output.isTTY === true
  const style = createStyle(options.color ?? interactive)
  const started = clock()
  const meter = new RateMeter(3000)
  /** Lines of the block on screen now (0: nothing drawn). */
  let drawn = 0
  let lastDraw = Number.NEGATIVE_INFINITY
  let frame = 0
  let latest: Snapshot | undefined
  let rate: number | undefined
  let finished = false

  const erase = (): string => (drawn === 0 ? '' : `\r${drawn > 1 ? `\u001b[${drawn - 1}A` : ''}\u001b[0J`)
  const block = (final: boolean): string[] =>
    latest === undefined
      ? []
      : options.format(latest, {
          elapsedMs: clock() - started,
          rate,
          ...(final ? {} : { spinner: SPINNER[frame++ % SPINNER.length] }),
          width: Math.max(20, (output.columns || 100) - 1),
          style,
        })
  const draw = (final: boolean): void => {
    const lines = block(final)
    output.write(erase() + lines.join('\n') + (final && lines.length > 0 ? '\n' : ''))
    drawn = final ? 0 : lines.length
    lastDraw = clock()
  }

  return {
    update(snapshot) {
      if (finished) return
      latest = snapshot
      const now = clock()
      rate = meter.sample(now, options.bytes(snapshot)) ?? rate
      if (interactive && now - lastDraw >= minIntervalMs) draw(false)
    },
    log(line) {
      if (finished || !interactive) {
        output.write(`${line}\n`)
        return
      }
      output.write(`${erase()}${line}\n`)
      drawn = 0
      draw(false)
    },
    done(snapshot) {
      if (finished) return
      if (snapshot !== undefined) latest = snapshot
      if (latest !== undefined) {
        const elapsed = clock() - started
        // The final line shows the average rate over the whole upload.
        rate = elapsed > 0 ? (options.bytes(latest) * 1000) / elapsed : rate
      }
      if (interactive) draw(true)
      else {
        const lines = block(true)
        if (lines.length > 0) output.write(`${lines.join('\n')}\n`)
      }
      finished = true
    },
  }
}
