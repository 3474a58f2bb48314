import { readFile } from 'node:fs/promises'
import type { Producer, ProducerEvent, ProducerStats } from '@kvs-streams/producer'
import { openAwsSession } from '../aws.ts'
import { type CommandContext, flag, stringOption } from '../command.ts'
import { usageError } from '../errors.ts'
import { ExitCode, type ExitCodeValue } from '../exit-codes.ts'
import { type ErrorContext, type ExplainedError, explainError } from '../explain-error.ts'
import { FLEET_USAGE, type FleetEntry, parseFleetList } from '../fleet-list.ts'
import { formatBytes, formatClock, formatDuration, formatInteger, truncate } from '../format.ts'
import { createStyle, type Style, useColor, write } from '../io.ts'
import { createStatusRenderer, type StatusRenderer } from '../progress.ts'
import { producerEventJson, putOutput } from '../put-events.ts'
import { checkFpsFormat, type PutSettings, putSettings } from '../put-settings.ts'
import { inspectSource } from '../put-source.ts'
import { createEventNotices, type PutOutcome, putStream, putSummary } from './put.ts'

/**
 * Streams set up at once (DescribeStream or CreateStream, and a file's read for its producer start): a fleet of
 * a thousand starts in waves instead of a burst of control-plane calls the service would throttle.
 */
const SETUP_CONCURRENCY = 16

/** How often the fleet's counters are gathered (`stats()` of every producer) and shown. */
const STATS_INTERVAL_MS = 1000

/** Ack latencies kept for the fleet's percentiles: the most recent fragments of all streams. */
const LATENCY_WINDOW = 4096

/** Where one stream of the fleet is. */
type Phase = 'queued' | 'setup' | 'running' | 'done' | 'failed' | 'interrupted'

/** One stream of the fleet. */
interface StreamRun {
  entry: FleetEntry
  phase: Phase
  producer?: Producer | undefined
  acknowledgeOn?: 'PERSISTED' | 'RECEIVED' | undefined
  /** Its last counters: the final ones once it ended. */
  stats?: ProducerStats | undefined
  bytesRead: number
  exitCode: ExitCodeValue
  error?: ExplainedError | undefined
}

/** The fleet's counters at one moment, for the status block and `fleet-stats` lines. */
export interface FleetSnapshot {
  streams: {
    total: number
    starting: number
    streaming: number
    reconnecting: number
    done: number
    failed: number
    interrupted: number
  }
  bytesSent: number
  fragments: {
    accepted: number
    buffered: number
    received: number
    persisted: number
    acknowledged: number
    skipped: number
  }
  reconnects: number
  ackLatencyMs: { count: number; p50: number | undefined; p99: number | undefined; max: number | undefined }
  /** Names of the streams reconnecting now, and of those that failed. */
  reconnecting: string[]
  failed: string[]
}

/** Ack latencies (fragment accepted → acknowledged) of the whole fleet, the most recent `LATENCY_WINDOW`. */
class LatencyWindow {
  readonly #samples = new Float64Array(LATENCY_WINDOW)
  #length = 0
  #next = 0
  #count = 0

  record(milliseconds: number): void {
    this.#samples[this.#next] = milliseconds
    this.#next = (this.#next + 1) % LATENCY_WINDOW
    this.#length = Math.min(LATENCY_WINDOW, this.#length + 1)
    this.#count++
  }

  summary(): FleetSnapshot['ackLatencyMs'] {
    if (this.#length === 0) return { count: 0, p50: undefined, p99: undefined, max: undefined }
    const sorted = this.#samples.slice(0, this.#length).sort()
    const at = (fraction: number) =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]
    return { count: this.#count, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
  }
}

/** Counters of a stream that never got a producer (its file is missing, its stream does not exist). */
function noStats(): ProducerStats {
  const none = { count: 0, p50: undefined, p99: undefined, max: undefined }
  return {
    state: 'closed',
    bytesSent: 0,
    fragments: {
      accepted: 0,
      buffered: 0,
      sent: 0,
      resent: 0,
      received: 0,
      persisted: 0,
      reconciled: 0,
      acknowledged: 0,
      skipped: 0,
      fateUnknown: 0,
      possibleDuplicates: 0,
    },
    replayBuffer: { bytes: 0, durationMs: 0, maxBytes: 0, maxDurationMs: 0 },
    ackLatencyMs: { received: none, persisted: none },
    sessions: 0,
    reconnects: 0,
    rotations: 0,
    consecutiveFailures: 0,
  }
}

/**
 * The exit status of a fleet: a failure over an interruption over success, and of failures the highest
 * status (255 anything else, 254 the service, 253 configuration, 252 usage, 1 media rejected).
 */
export function worstExitCode(codes: Iterable<number>): number {
  let failure = 0
  let interrupted = false
  for (const code of codes) {
    if (code === ExitCode.Interrupted) interrupted = true
    else if (code !== ExitCode.Ok) failure = Math.max(failure, code)
  }
  return failure !== 0 ? failure : interrupted ? ExitCode.Interrupted : ExitCode.Ok
}

/** The fleet's status block: streams by state, bytes, fragments, ack latency, and who reconnects or failed. */
export function formatFleet(
  snapshot: FleetSnapshot,
  extra: { elapsedMs: number; rate: number | undefined; spinner?: string; width: number; style: Style },
): string[] {
  const { style } = extra
  const { streams, fragments } = snapshot
  const counts = [
    ...(streams.starting > 0 ? [style.cyan(`${formatInteger(streams.starting)} starting`)] : []),
    style.green(`${formatInteger(streams.streaming)} streaming`),
    ...(streams.reconnecting > 0
      ? [style.yellow(`${formatInteger(streams.reconnecting)} reconnecting`)]
      : []),
    `${formatInteger(streams.done)} done`,
    streams.failed > 0 ? style.red(`${formatInteger(streams.failed)} failed`) : '0 failed',
    ...(streams.interrupted > 0 ? [`${formatInteger(streams.interrupted)} interrupted`] : []),
  ].join(' · ')
  const rate = extra.rate === undefined ? '' : `  ${formatBytes(extra.rate)}/s`
  const first = `${extra.spinner === undefined ? '' : `${extra.spinner} `}${style.bold(`${formatInteger(streams.total)} streams`)}  ${counts}  ${formatBytes(snapshot.bytesSent)} sent${rate}  ${formatClock(extra.elapsedMs)}`
  const latency =
    snapshot.ackLatencyMs.p50 === undefined
      ? ''
      : `   ack latency p50 ${formatDuration(snapshot.ackLatencyMs.p50)} · p99 ${formatDuration(snapshot.ackLatencyMs.p99 ?? 0)}`
  const skipped =
    fragments.skipped > 0 ? ` · ${style.red(`${formatInteger(fragments.skipped)} skipped`)}` : ''
  const second = `  fragments ${formatInteger(fragments.buffered)} buffered · ${formatInteger(fragments.received)} received · ${formatInteger(fragments.persisted)} persisted${skipped}${latency}`
  const lines = [truncate(first, extra.width), truncate(second, extra.width)]
  const names = [
    ...(snapshot.reconnecting.length > 0 ? [`reconnecting: ${snapshot.reconnecting.join(', ')}`] : []),
    ...(snapshot.failed.length > 0 ? [`failed: ${snapshot.failed.join(', ')}`] : []),
  ]
  if (names.length > 0) lines.push(truncate(`  ${names.join(' · ')}`, extra.width))
  return lines
}

/** Adds `extra` tags to `base`, a tag of the same name replacing the base one. */
function mergeTags(
  base: readonly [string, string][],
  extra: readonly [string, string][],
): [string, string][] {
  const names = new Set(extra.map(([name]) => name))
  return [...base.filter(([name]) => !names.has(name)), ...extra]
}

/** The `stream-summary` JSON line of one stream, also its entry in the final summary's `results`. */
function streamResult(run: StreamRun, elapsedMs: number): Record<string, unknown> {
  const outcome = {
    stats: run.stats ?? noStats(),
    interrupted: run.phase === 'interrupted',
    bytesRead: run.bytesRead,
    failure: run.error,
  }
  return {
    stream: run.entry.stream,
    file: run.entry.file,
    ...putSummary(run.entry.stream, outcome, elapsedMs),
    exitCode: run.exitCode,
    ...(run.error === undefined
      ? {}
      : { error: { name: run.error.name, message: run.error.message, hints: run.error.hints } }),
  }
}

/**
 * `kvs put --many <list>`: one producer per line of the list, in this process, sharing one control-plane client
 * and signer. Each stream ends as `kvs put <stream> <file>` would (a failure does not stop the others); the
 * exit status is the worst of theirs (`worstExitCode`).
 */
export async function putManyCommand(context: CommandContext): Promise<number> {
  const { io, global } = context
  const listPath = stringOption(context, 'many') ?? ''
  if (listPath === '') throw usageError('--many needs a list file', [FLEET_USAGE])
  if (context.positionals.length > 0) {
    throw usageError(
      `kvs put --many takes its streams and files from the list, not as arguments: got also ${context.positionals.join(' ')}`,
      [FLEET_USAGE],
    )
  }
  const settings: PutSettings = putSettings(context)
  const entries = parseFleetList(await readFile(listPath, 'utf8'), listPath)
  for (const entry of entries) {
    const where = `${listPath} line ${entry.line}`
    const tags = mergeTags(settings.tags, entry.tags)
    if (tags.length > 10) {
      throw usageError(`${where}: ${tags.length} tags with --tag's (KVS takes at most 10 per fragment)`, [
        FLEET_USAGE,
      ])
    }
    entry.tags = tags
    entry.format ??= settings.format
    if (entry.fps === undefined && settings.fps !== undefined) {
      try {
        checkFpsFormat(entry.format, '--fps')
      } catch (error) {
        throw usageError(`${where}: ${(error as Error).message}`, [FLEET_USAGE])
      }
      entry.fps = settings.fps
    }
  }

  // Output: JSON lines on stdout (--json, or stdout is not a terminal), or the fleet's status block on stderr.
  const json = global.json || io.stdout.isTTY !== true
  context.errorContext.jsonOutput = json
  const quiet = flag(context, 'quiet')
  const color = useColor(io.stderr, io.env, global.noColor)
  const style = createStyle(color)
  const status: StatusRenderer<FleetSnapshot> | undefined =
    json || quiet
      ? undefined
      : createStatusRenderer<FleetSnapshot>({
          output: io.stderr,
          color,
          // Drawn by the fleet's timer, once a second.
          minIntervalMs: 0,
          format: formatFleet,
          bytes: (snapshot) => snapshot.bytesSent,
        })
  const { jsonOut, eventOut, notice } = putOutput(io, { json, jsonFlag: global.json, quiet }, status)

  // Shared by every producer: one control-plane client (and its sockets) and one signer. Each PutMedia session
  // still has a connection of its own, reset if the session is abandoned (see the transport's putMedia).
  const session = await openAwsSession(context, { maxAttempts: 5, retryMode: 'adaptive' })
  const started = Date.now()
  const runs: StreamRun[] = entries.map((entry) => ({
    entry,
    phase: 'queued',
    bytesRead: 0,
    exitCode: ExitCode.Ok,
  }))
  const latencies = new LatencyWindow()
  const describe = createEventNotices({ ...context.errorContext, command: 'put --many' })
  let repackagingSaid = false
  let repackagedStreams = 0

  /** The fleet's counters now: `stats()` of every running producer, the final counters of the others. */
  const snapshot = (): FleetSnapshot => {
    const result: FleetSnapshot = {
      streams: {
        total: runs.length,
        starting: 0,
        streaming: 0,
        reconnecting: 0,
        done: 0,
        failed: 0,
        interrupted: 0,
      },
      bytesSent: 0,
      fragments: { accepted: 0, buffered: 0, received: 0, persisted: 0, acknowledged: 0, skipped: 0 },
      reconnects: 0,
      ackLatencyMs: latencies.summary(),
      reconnecting: [],
      failed: [],
    }
    for (const run of runs) {
      if (run.phase === 'running' && run.producer !== undefined) run.stats = run.producer.stats()
      switch (run.phase) {
        case 'queued':
        case 'setup':
          result.streams.starting++
          break
        case 'running': {
          const state = run.producer?.state ?? 'idle'
          if (state === 'streaming' || state === 'closed') result.streams.streaming++
          else if (state === 'reconnecting') {
            result.streams.reconnecting++
            result.reconnecting.push(run.entry.stream)
          } else result.streams.starting++
          break
        }
        case 'done':
          result.streams.done++
          break
        case 'failed':
          result.streams.failed++
          result.failed.push(run.entry.stream)
          break
        case 'interrupted':
          result.streams.interrupted++
          break
      }
      const stats = run.stats
      if (stats === undefined) continue
      result.bytesSent += stats.bytesSent
      result.fragments.accepted += stats.fragments.accepted
      result.fragments.buffered += stats.fragments.buffered
      result.fragments.received += stats.fragments.received
      result.fragments.persisted += stats.fragments.persisted
      result.fragments.acknowledged += stats.fragments.acknowledged
      result.fragments.skipped += stats.fragments.skipped
      result.reconnects += stats.reconnects
    }
    return result
  }
  let lastTick = { at: started, bytesSent: 0 }
  const fleetStatsJson = (current: FleetSnapshot): Record<string, unknown> => {
    const now = Date.now()
    const seconds = (now - lastTick.at) / 1000
    const bytesPerSecond = seconds > 0 ? Math.round((current.bytesSent - lastTick.bytesSent) / seconds) : 0
    lastTick = { at: now, bytesSent: current.bytesSent }
    return {
      type: 'fleet-stats',
      streams: current.streams,
      bytesSent: current.bytesSent,
      bytesPerSecond,
      fragments: current.fragments,
      reconnects: current.reconnects,
      ackLatencyMs: current.ackLatencyMs,
      reconnecting: current.reconnecting,
      failed: current.failed,
      elapsedMs: now - started,
    }
  }
  // One timer for the whole fleet; the producers run without their own (statsIntervalMs 0).
  const timer = setInterval(() => {
    const current = snapshot()
    if (status !== undefined) status.update(current)
    else eventOut(fleetStatsJson(current))
  }, STATS_INTERVAL_MS)
  timer.unref()

  /** Ends `run` with `error` (an explained failure) or its outcome. */
  const finish = (run: StreamRun, outcome: PutOutcome | undefined, error: unknown, runStarted: number) => {
    const { stream } = run.entry
    const errorContext: ErrorContext = { ...context.errorContext, command: 'put --many', streamName: stream }
    const failure = error ?? outcome?.failure
    if (outcome !== undefined) {
      run.stats = outcome.stats
      run.bytesRead = outcome.bytesRead
    } else if (run.producer !== undefined) run.stats = run.producer.stats()
    if (failure !== undefined && !(io.signal.aborted && isAbort(failure))) {
      run.phase = 'failed'
      run.error = explainError(failure, errorContext)
      run.exitCode = run.error.exitCode
      notice(`${stream} failed: ${run.error.message}`)
    } else if (outcome?.interrupted === true || (outcome === undefined && io.signal.aborted)) {
      run.phase = 'interrupted'
      run.exitCode = ExitCode.Interrupted
    } else {
      run.phase = 'done'
      run.exitCode = ExitCode.Ok
    }
    run.producer = undefined
    eventOut({ type: 'stream-summary', ...streamResult(run, Date.now() - runStarted) })
  }

  /** Puts one stream of the fleet; `setupDone` is called once it no longer holds a setup slot. */
  const runStream = async (run: StreamRun, setupDone: () => void): Promise<void> => {
    const { entry } = run
    const { stream } = entry
    const runStarted = Date.now()
    run.phase = 'setup'
    let outcome: PutOutcome | undefined
    let error: unknown
    try {
      const source = await inspectSource(entry.path, stream, entry.format)
      outcome = await putStream(
        context,
        session,
        {
          streamName: stream,
          source,
          settings,
          fps: entry.fps,
          tags: entry.tags,
          client: session.client,
          statsIntervalMs: 0,
        },
        {
          notice: (line) => notice(`${stream}: ${line}`),
          created: (retentionHours) => {
            notice(`created stream ${stream} (retention ${retentionHours} h)`)
            eventOut({ type: 'stream-created', stream, retentionHours })
          },
          repackaging: (change) => {
            eventOut({ type: 'repackaging', stream, change })
            if (repackagingSaid) return
            repackagingSaid = true
            notice(
              `${stream}: the input is not KVS-ready as it is: repackaging it (${change}); --no-repackage sends it unchanged`,
            )
          },
          repackaged: (summary, stats) => {
            repackagedStreams++
            eventOut({ type: 'repackaged', stream, summary, ...stats })
          },
          started: (producer, acknowledgeOn) => {
            run.producer = producer
            run.acknowledgeOn = acknowledgeOn
            run.phase = 'running'
            setupDone()
          },
          event: (event: ProducerEvent) => {
            if (event.type === 'fragment-acknowledged') latencies.record(event.latencyMs)
            if (global.debug && !json && event.type !== 'stats' && event.type !== 'ack') {
              context.debug(`${stream}: ${JSON.stringify(producerEventJson(event))}`)
            }
            // The stream's own counters are in its stream-summary line; the fleet's in fleet-stats lines.
            if (event.type === 'error' || event.type === 'stats') return
            if (json) {
              const line = producerEventJson(event)
              eventOut({ type: line.type, stream, ...line })
              return
            }
            // Reconnects show in the status block (who is reconnecting); --json has every one.
            if (event.type === 'state') return
            const [head, ...rest] = describe(event)
            if (head === undefined) return
            notice(`${stream}: ${head}`)
            for (const line of rest) notice(line)
          },
        },
      )
    } catch (caught) {
      error = caught
    } finally {
      setupDone()
    }
    finish(run, outcome, error, runStarted)
  }

  // Streams start SETUP_CONCURRENCY at a time; each runs until its source ends (or Ctrl-C).
  let next = 0
  const running: Promise<void>[] = []
  await new Promise<void>((resolve) => {
    let active = 0
    const startMore = () => {
      while (active < SETUP_CONCURRENCY && next < runs.length) {
        const run = runs[next++]!
        if (io.signal.aborted) {
          // Ctrl-C before its turn: nothing was sent.
          run.phase = 'interrupted'
          run.exitCode = ExitCode.Interrupted
          eventOut({ type: 'stream-summary', ...streamResult(run, 0) })
          continue
        }
        active++
        let released = false
        running.push(
          runStream(run, () => {
            if (released) return
            released = true
            active--
            startMore()
          }),
        )
      }
      if (next >= runs.length) resolve()
    }
    startMore()
  })
  try {
    await Promise.all(running)
  } finally {
    clearInterval(timer)
    session.close()
  }

  const final = snapshot()
  const elapsedMs = Date.now() - started
  const exitCode = worstExitCode(runs.map((run) => run.exitCode))
  const interrupted = io.signal.aborted
  const failed = runs.filter((run) => run.phase === 'failed')
  const summary = {
    type: 'summary',
    ok: failed.length === 0,
    interrupted,
    exitCode,
    streams: {
      total: runs.length,
      done: final.streams.done,
      failed: final.streams.failed,
      interrupted: final.streams.interrupted,
    },
    bytesRead: runs.reduce((sum, run) => sum + run.bytesRead, 0),
    bytesSent: final.bytesSent,
    fragments: final.fragments.accepted,
    acknowledged: final.fragments.acknowledged,
    received: final.fragments.received,
    persisted: final.fragments.persisted,
    skipped: final.fragments.skipped,
    reconnects: final.reconnects,
    elapsedMs,
    ackLatencyMs: final.ackLatencyMs,
    results: runs.map((run) => {
      const { ackLatencyMs: _latency, ...result } = streamResult(run, elapsedMs)
      return result
    }),
  }
  if (json) jsonOut(summary)
  else {
    status?.done(final)
    const allPersisted = runs.every((run) => run.acknowledgeOn !== 'RECEIVED')
    const stored = allPersisted
      ? `${formatInteger(final.fragments.persisted)} persisted`
      : `${formatInteger(final.fragments.acknowledged)} acknowledged`
    const states = [
      `${formatInteger(final.streams.done)} done`,
      ...(final.streams.interrupted > 0 ? [`${formatInteger(final.streams.interrupted)} interrupted`] : []),
      `${formatInteger(final.streams.failed)} failed`,
    ].join(', ')
    const line = `${interrupted ? 'interrupted: ' : ''}${formatInteger(runs.length)} streams in ${formatDuration(elapsedMs)}: ${states}; ${formatInteger(final.fragments.accepted)} fragment${final.fragments.accepted === 1 ? '' : 's'}, ${formatBytes(final.bytesSent)} sent: ${stored}${
      final.fragments.skipped > 0 ? `, ${formatInteger(final.fragments.skipped)} not stored` : ''
    }${repackagedStreams > 0 ? `; ${formatInteger(repackagedStreams)} repackaged for KVS` : ''}`
    await write(io.stderr, `${line}\n`)
  }
  // Each failure as kvs prints an error, with its advice.
  const lines: string[] = []
  for (const run of failed) {
    const error = run.error!
    lines.push(
      `${style.red(style.bold('kvs: error:'))} ${run.entry.stream} (${listPath} line ${run.entry.line}): ${error.message}`,
      ...error.hints.map((hint) => `  ${hint}`),
    )
  }
  if (lines.length > 0) await write(io.stderr, `${lines.join('\n')}\n`)
  return exitCode
}

/** An error that only says the work was aborted (Ctrl-C while a stream was being set up). */
function isAbort(error: unknown): boolean {
  const fields = error as { name?: unknown; code?: unknown } | undefined
  return fields?.name === 'AbortError' || fields?.code === 'ABORT_ERR'
}
