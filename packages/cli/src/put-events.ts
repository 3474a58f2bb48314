import type { Ack } from '@kvs-streams/acks'
import type { ProducerEvent, ProducerStats } from '@kvs-streams/producer'
import { formatTime } from './format.ts'
import type { CliIo } from './io.ts'
import type { ProgressSnapshot } from './progress.ts'

function causeMessage(cause: unknown): string | undefined {
  if (cause === undefined) return undefined
  return cause instanceof Error ? cause.message : String(cause)
}

function ackJson(ack: Ack): Record<string, unknown> {
  return {
    eventType: ack.eventType,
    fragmentNumber: ack.fragmentNumber,
    fragmentTimecode: ack.fragmentTimecode,
    ...(ack.errorId === undefined ? {} : { errorId: ack.errorId, errorCode: ack.errorCode }),
  }
}

/** Producer stats as `kvs put --json` prints them (`type: 'stats'`). */
export function statsJson(stats: ProducerStats): Record<string, unknown> {
  return {
    type: 'stats',
    state: stats.state,
    bytesSent: stats.bytesSent,
    fragments: stats.fragments,
    ackLatencyMs: stats.ackLatencyMs,
    replayBuffer: stats.replayBuffer,
    sessions: stats.sessions,
    reconnects: stats.reconnects,
    rotations: stats.rotations,
  }
}

/** One producer event as the JSON object `kvs put --json` prints for it (one per line). */
export function producerEventJson(event: ProducerEvent): Record<string, unknown> {
  switch (event.type) {
    case 'ack':
      return {
        type: 'ack',
        sessionId: event.sessionId,
        fragmentIndex: event.fragment?.index,
        ...ackJson(event.ack),
      }
    case 'fragment-acknowledged':
      return {
        type: 'fragment-acknowledged',
        index: event.fragment.index,
        timecode: event.fragment.timecode,
        producerTimestamp: formatTime(event.fragment.producerTimestampMs),
        bytes: event.fragment.byteLength,
        durationMs: event.fragment.durationMs,
        acknowledgedBy: event.acknowledgedBy,
        fragmentNumber: event.fragmentNumber,
        latencyMs: event.latencyMs,
        sends: event.sends,
      }
    case 'fragment-skipped':
      return {
        type: 'fragment-skipped',
        index: event.fragment.index,
        timecode: event.fragment.timecode,
        reason: event.reason,
        errorId: event.errorId,
        errorCode: event.errorCode,
        message: event.message,
        fate: event.fate,
      }
    case 'possible-duplicate':
      return {
        type: 'possible-duplicate',
        index: event.fragment.index,
        timecode: event.fragment.timecode,
        producerTimestamp: formatTime(event.fragment.producerTimestampMs),
        reason: event.reason,
        ...(event.error === undefined ? {} : { error: causeMessage(event.error) }),
      }
    case 'state':
      return {
        type: 'state',
        state: event.state,
        previous: event.previous,
        sessionId: event.sessionId,
        reason: event.reason,
        ...(event.attempt === undefined ? {} : { attempt: event.attempt, delayMs: event.delayMs }),
        ...(event.cause === undefined ? {} : { cause: causeMessage(event.cause) }),
      }
    case 'reconciliation':
      return {
        type: 'reconciliation',
        sessionId: event.sessionId,
        checked: event.checked,
        found: event.found,
        ...(event.error === undefined ? {} : { error: causeMessage(event.error) }),
      }
    case 'violation':
      return {
        type: 'violation',
        kind: event.violation.kind,
        errorId: event.violation.errorId,
        fragmentIndex: event.violation.fragmentIndex,
        message: event.violation.message,
      }
    case 'stats':
      return statsJson(event.stats)
    case 'error':
      return {
        type: 'producer-error',
        message: event.error.message,
        code: (event.error as { code?: unknown }).code,
      }
  }
}

/** The progress display's snapshot of producer stats. */
export function progressSnapshot(
  stats: ProducerStats,
  label: string,
  input: { bytesRead?: number; bytesTotal?: number } = {},
): ProgressSnapshot {
  return {
    label,
    state: stats.state,
    bytesSent: stats.bytesSent,
    bytesRead: input.bytesRead,
    bytesTotal: input.bytesTotal,
    fragments: {
      buffered: stats.fragments.buffered,
      received: stats.fragments.received,
      persisted: stats.fragments.persisted,
      skipped: stats.fragments.skipped,
    },
    ackLatencyMs: { p50: stats.ackLatencyMs.received.p50, p99: stats.ackLatencyMs.received.p99 },
    reconnects: stats.reconnects,
  }
}

/** How a put writes its lines (`putOutput`). */
export interface PutOutput {
  /** A JSON line on stdout, when the output is JSON. */
  jsonOut(value: Record<string, unknown>): void
  /** An event's JSON line: not with -q and stdout piped (the summary and an error only), always with --json. */
  eventOut(value: Record<string, unknown>): void
  /** A line for people: through the display when there is one, else on stderr; none with JSON output. */
  notice(line: string): void
}

/**
 * Where `kvs put`'s lines go (one stream or `--many`): `json` when the output is JSON lines (--json, or stdout
 * not a terminal), `jsonFlag` when --json was given, `display` the progress or status renderer, if any.
 */
export function putOutput(
  io: Pick<CliIo, 'stdout' | 'stderr'>,
  options: { json: boolean; jsonFlag: boolean; quiet: boolean },
  display: { log(line: string): void } | undefined,
): PutOutput {
  const { json, jsonFlag, quiet } = options
  const jsonOut = (value: Record<string, unknown>) => {
    if (json) io.stdout.write(`${JSON.stringify(value)}\n`)
  }
  return {
    jsonOut,
    eventOut: (value) => {
      if (!(quiet && !jsonFlag)) jsonOut(value)
    },
    notice: (line) => {
      if (json) return
      if (display !== undefined) display.log(line)
      else io.stderr.write(`${line}\n`)
    },
  }
}
