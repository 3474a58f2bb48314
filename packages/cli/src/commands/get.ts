import { createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import {
  createFragmentMerger,
  type MediaFragmentEvent,
  type MergePatchEvent,
  ReadStreamError,
  readStream,
} from '@kvs-streams/get-media'
import type { StartSelector } from '@kvs-streams/transport'
import { type AwsSession, openAwsSession } from '../aws.ts'
import { type CommandContext, flag, stringOption } from '../command.ts'
import { usageError } from '../errors.ts'
import { formatBytes, formatDuration, formatInteger, formatTime } from '../format.ts'
import { flushed } from '../io.ts'
import { parseDuration, parseStart, parseUntil, type StartPosition, type UntilCondition } from '../time.ts'

/** Idle time that ends `kvs get` once an `--until` time has passed (no later fragment came). */
const IDLE_AFTER_UNTIL_MS = 3000

/** How long `kvs get` keeps reconnecting while GetMedia connections fail, without `--retry-for`. */
const DEFAULT_RETRY_FOR_MS = 60_000

/** Why `kvs get` stopped. `gave-up`: GetMedia connections kept failing for `--retry-for`. */
export type GetStopReason = 'until' | 'interrupted' | 'idle' | 'end' | 'gave-up'

/** The GetMedia StartSelector for a `--start` position. */
export function startSelector(start: StartPosition, timestampType: 'server' | 'producer'): StartSelector {
  switch (start.kind) {
    case 'now':
      return { StartSelectorType: 'NOW' }
    case 'earliest':
      return { StartSelectorType: 'EARLIEST' }
    case 'after-fragment':
      return { StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: start.fragmentNumber }
    case 'time':
      return {
        StartSelectorType: timestampType === 'server' ? 'SERVER_TIMESTAMP' : 'PRODUCER_TIMESTAMP',
        StartTimestamp: new Date(start.epochMs),
      }
  }
}

/**
 * The fragments of a stream from `selector` on, as raw GetMedia fragments (each a playable MKV document),
 * through `readStream`: a dropped, ended or silent connection is resumed with the last fragment's
 * continuation token, so none is skipped or repeated. Ends when `signal` aborts. `onCaughtUp` is called each
 * time the service ends a response that had caught up with the stream (no new fragment for a few seconds).
 */
async function* readFragments(
  session: AwsSession,
  streamName: string,
  selector: StartSelector,
  retryForMs: number,
  signal: AbortSignal,
  notice: (line: string) => void,
  debug: (line: string) => void,
  onCaughtUp: () => void,
): AsyncGenerator<MediaFragmentEvent> {
  const events = readStream({
    streamName,
    startSelector: selector,
    signer: session.signer,
    resolver: session.resolver,
    signal,
    mode: 'raw',
    retryForMs,
  })
  for await (const event of events) {
    if (event.type === 'fragment') yield event
    else if (event.type === 'service-error')
      notice(`warning: the service reported an error in the media: ${event.error.message}`)
    else if (event.type === 'reconnect') {
      const code = (event.cause as { code?: unknown } | undefined)?.code
      const why = event.cause instanceof Error ? event.cause.message : String(event.cause)
      // A caught-up reader of a quiet stream reconnects now and then: not worth a line.
      if (code === 'ERR_KVS_GETMEDIA_CAUGHT_UP') {
        debug(`GetMedia caught up, reconnecting: ${why}`)
        onCaughtUp()
      } else if (code === 'ERR_KVS_GETMEDIA_IDLE_TIMEOUT') debug(`GetMedia idle, reconnecting: ${why}`)
      else notice(`GetMedia connection ended (${why}); resuming in ${formatDuration(event.delayMs)}`)
    }
  }
}

function fragmentTimestamp(fragment: MediaFragmentEvent, type: 'server' | 'producer'): number | undefined {
  return type === 'server' ? fragment.serverTimestampMs : fragment.producerTimestampMs
}

/** One fragment as `--json` prints it. */
export function fragmentJson(fragment: MediaFragmentEvent, index: number): Record<string, unknown> {
  return {
    type: 'fragment',
    index,
    fragmentNumber: fragment.fragmentNumber,
    producerTimestamp: formatTime(fragment.producerTimestampMs),
    serverTimestamp: formatTime(fragment.serverTimestampMs),
    producerTimestampMs: fragment.producerTimestampMs,
    serverTimestampMs: fragment.serverTimestampMs,
    bytes: fragment.byteLength,
    frames: fragment.frameCount,
    millisBehindNow: fragment.millisBehindNow,
    continuationToken: fragment.continuationToken,
    complete: fragment.complete,
  }
}

/** `kvs get <stream>`. */
export async function getCommand(context: CommandContext): Promise<number> {
  const [streamName, ...extra] = context.positionals
  if (streamName === undefined || streamName === '') throw usageError('kvs get needs a stream name')
  if (extra.length > 0)
    throw usageError(`kvs get takes one stream, got also ${extra.join(' ')} (write to a file with -o)`)
  context.errorContext.streamName = streamName
  const now = Date.now()
  const start = parseStart(stringOption(context, 'start'), now)
  const until = parseUntil(stringOption(context, 'until'), now)
  const timestampType = stringOption(context, 'timestamp-type') ?? 'server'
  if (timestampType !== 'server' && timestampType !== 'producer') {
    throw usageError(`--timestamp-type must be server or producer, got ${JSON.stringify(timestampType)}`)
  }
  const idleText = stringOption(context, 'idle-timeout')
  const idleTimeoutMs = idleText === undefined ? undefined : parseDuration(idleText)
  if (idleText !== undefined && (idleTimeoutMs === undefined || idleTimeoutMs <= 0)) {
    throw usageError(`--idle-timeout must be a duration such as 10s or 2m, got ${JSON.stringify(idleText)}`)
  }
  const retryText = stringOption(context, 'retry-for')
  const retryFor = retryText === undefined ? DEFAULT_RETRY_FOR_MS : parseDuration(retryText)
  if (retryFor === undefined || !Number.isSafeInteger(Math.round(retryFor))) {
    throw usageError(`--retry-for must be a duration such as 30s or 10m, got ${JSON.stringify(retryText)}`)
  }
  const retryForMs = Math.round(retryFor)
  const target = stringOption(context, 'out') ?? (context.io.stdout.isTTY === true ? undefined : '-')
  if (target === undefined) {
    throw usageError('not writing video to a terminal', [
      'Write to a file with -o file.mkv, or pipe stdout: kvs get <stream> | ffplay -',
    ])
  }
  const toStdout = target === '-'
  context.errorContext.stdoutIsMedia = toStdout
  // One merged MKV (a file gets Cues, its Segment size and duration patched in at the end), or with --raw the
  // service's bytes: one MKV document per fragment, which most players read only the first of.
  const merger = flag(context, 'raw') ? undefined : createFragmentMerger({ seekable: !toStdout })
  const patches: MergePatchEvent[] = []

  const session = await openAwsSession(context)
  const output: Writable = toStdout ? context.io.stdout : createWriteStream(target)
  const opened = toStdout
    ? Promise.resolve()
    : new Promise<void>((resolve, reject) => {
        output.once('open', () => resolve())
        output.once('error', reject)
      })
  const log = (line: string) => context.io.stderr.write(`${line}\n`)
  const notice = (line: string) =>
    log(context.global.json ? JSON.stringify({ type: 'notice', message: line }) : line)
  const outputName = toStdout ? 'stdout' : target
  const result = {
    fragments: 0,
    bytes: 0,
    stoppedBy: 'end' as GetStopReason,
    lastFragmentNumber: undefined as string | undefined,
  }
  const startedAt = Date.now()
  /**
   * What the output actually took: counted in the write callbacks, so bytes Node had buffered when the reader
   * closed stdout (head -c, EPIPE) do not count, and a fragment counts once its last byte was taken. The
   * summary reports these.
   */
  const delivered = { fragments: 0, bytes: 0 }
  /** A file that cannot be written (disk full…) fails the command; stdout's reader leaving is an interruption. */
  let fileError: Error | undefined
  let broken = false
  const deliver = (bytes: Uint8Array, fragmentEnd: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      if (fileError !== undefined) {
        reject(fileError)
        return
      }
      const ok = output.write(bytes, (error) => {
        // Counted up to the first failed write only: what follows it never reached the reader whole.
        if (error) {
          broken = true
          if (!toStdout) fileError ??= error
          return
        }
        if (broken) return
        delivered.bytes += bytes.byteLength
        if (fragmentEnd) delivered.fragments++
      })
      if (ok || output.destroyed) resolve()
      else {
        const done = (): void => {
          output.off('drain', done)
          output.off('close', done)
          resolve()
        }
        output.once('drain', done)
        output.once('close', done)
      }
    })
  /** Why reading stopped when GetMedia connections kept failing for --retry-for. */
  let gaveUp: ReadStreamError | undefined

  // Stopping: Ctrl-C, --until, or the idle timer abort the GetMedia request; what was written stays whole.
  const stop = new AbortController()
  let reason: GetStopReason | undefined
  const stopWith = (why: GetStopReason) => {
    reason ??= why
    stop.abort(new Error(`kvs get stopped: ${why}`))
  }
  const onInterrupt = () => stopWith('interrupted')
  if (context.io.signal.aborted) onInterrupt()
  context.io.signal.addEventListener('abort', onInterrupt, { once: true })
  let idleTimer: NodeJS.Timeout | undefined
  const armIdleTimer = () => {
    clearTimeout(idleTimer)
    const untilPassed = until?.kind === 'time' && Date.now() >= until.epochMs
    const wait = idleTimeoutMs ?? (untilPassed ? IDLE_AFTER_UNTIL_MS : undefined)
    if (wait !== undefined) idleTimer = setTimeout(() => stopWith('idle'), wait)
    else if (until?.kind === 'time') {
      // Re-arm once the --until time has passed, so a stream that went quiet still ends.
      idleTimer = setTimeout(armIdleTimer, Math.max(0, until.epochMs - Date.now()) + 10)
    }
  }

  try {
    await opened
    const selector = startSelector(start, timestampType)
    context.debug(`GetMedia ${JSON.stringify(selector)}`)
    if (!context.global.json) {
      log(`reading ${streamName} from ${describeStart(start)}${describeUntil(until)} into ${outputName}`)
    }
    armIdleTimer()
    try {
      for await (const fragment of readFragments(
        session,
        streamName,
        selector,
        retryForMs,
        stop.signal,
        notice,
        context.debug,
        () => {
          // Caught up after the --until time: no fragment at or after it is stored yet, every earlier one was
          // written.
          if (until?.kind === 'time' && Date.now() >= until.epochMs) stopWith('until')
        },
      )) {
        if (reachedTime(fragment, until, timestampType)) {
          stopWith('until')
          break
        }
        const parts =
          merger === undefined
            ? fragment.parts
            : merger.push(fragment).flatMap((event) => (event.type === 'data' ? [event.bytes] : []))
        for (let i = 0; i < parts.length; i++) {
          await deliver(parts[i]!, i === parts.length - 1)
          result.bytes += parts[i]!.byteLength
        }
        if (parts.length === 0) delivered.fragments++
        result.fragments++
        result.lastFragmentNumber = fragment.fragmentNumber ?? result.lastFragmentNumber
        log(
          context.global.json
            ? JSON.stringify(fragmentJson(fragment, result.fragments - 1))
            : fragmentLine(fragment),
        )
        armIdleTimer()
        if (until?.kind === 'count' && result.fragments >= until.fragments) {
          stopWith('until')
          break
        }
      }
    } catch (error) {
      // Whole fragments only were written (raw mode delivers no part of one), so the output stays valid.
      if (
        reason === undefined &&
        ReadStreamError.is(error) &&
        error.code === 'ERR_KVS_GETMEDIA_RETRIES_EXHAUSTED'
      ) {
        gaveUp = error
        reason = 'gave-up'
      } else if (reason === undefined) throw error
    }
    result.stoppedBy = reason ?? 'end'
    // The merged file's end: its Cues, then (a file) the patches applied once the stream is closed. Not on
    // stdout once interrupted (Ctrl-C, or the reader closed it as head -c does): a pipe's reader has no use for
    // Cues, and may be gone.
    const readerGone = output.destroyed || (toStdout && reason === 'interrupted')
    const endEvents = readerGone ? [] : (merger?.end() ?? [])
    for (const event of endEvents) {
      if (event.type === 'patch') patches.push(event)
      else {
        await deliver(event.bytes, false)
        result.bytes += event.bytes.byteLength
      }
    }
  } finally {
    clearTimeout(idleTimer)
    context.io.signal.removeEventListener('abort', onInterrupt)
    stop.abort()
    session.close()
    if (!toStdout) await new Promise<void>((resolve) => output.end(() => resolve()))
    else await flushed(output)
  }
  // What the output took (a reader that left early took less than was handed to it).
  result.fragments = delivered.fragments
  result.bytes = delivered.bytes
  if (fileError !== undefined) throw fileError
  if (patches.length > 0) {
    const file = await open(target, 'r+')
    try {
      for (const patch of patches) await file.write(patch.bytes, 0, patch.bytes.length, patch.offset)
    } finally {
      await file.close()
    }
  }
  // Where a new kvs get goes on: after the last fragment written, else (after giving up) where this one started.
  const resume =
    result.lastFragmentNumber ??
    (gaveUp === undefined ? undefined : startArgument(start, startedAt, timestampType))
  const summary = {
    type: 'summary',
    fragments: result.fragments,
    bytes: result.bytes,
    output: outputName,
    stoppedBy: result.stoppedBy,
    lastFragmentNumber: result.lastFragmentNumber,
    ...(gaveUp === undefined
      ? {}
      : {
          retriedForMs: Math.round(gaveUp.retriedForMs),
          failedConnections: gaveUp.failures,
          lastError: describeError(gaveUp.cause),
          resumeCommand: `kvs get ${streamName} --start ${resume}`,
        }),
  }
  if (context.global.json) log(JSON.stringify(summary))
  else {
    const why = {
      until: 'reached --until',
      interrupted: 'interrupted',
      idle: 'no fragment for a while',
      end: 'the service ended the response',
      'gave-up': `gave up after retrying for ${formatDuration(gaveUp?.retriedForMs ?? 0)}, ${gaveUp?.failures} failed connections`,
    }[result.stoppedBy]
    log(
      `wrote ${formatInteger(result.fragments)} fragment${result.fragments === 1 ? '' : 's'}, ${formatBytes(result.bytes)} to ${outputName} (${why})`,
    )
    if (resume !== undefined && result.stoppedBy !== 'until') {
      log(`resume with: kvs get ${streamName} --start ${resume}`)
    }
  }
  // Explained as the other failures are (kvs: error: …), with its own exit status.
  if (gaveUp !== undefined) throw gaveUp
  return 0
}

/** The `--start` (and `--timestamp-type`) arguments of a new `kvs get` that starts where this one did. */
function startArgument(
  start: StartPosition,
  startedAt: number,
  timestampType: 'server' | 'producer',
): string {
  const type = timestampType === 'producer' ? ' --timestamp-type producer' : ''
  switch (start.kind) {
    case 'now':
      // Later, "now" would skip what came in meanwhile: start from the time this one started instead.
      return `${formatTime(startedAt)}${type}`
    case 'earliest':
      return 'earliest'
    case 'after-fragment':
      return start.fragmentNumber
    case 'time':
      return `${formatTime(start.epochMs)}${type}`
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function reachedTime(
  fragment: MediaFragmentEvent,
  until: UntilCondition | undefined,
  type: 'server' | 'producer',
): boolean {
  if (until?.kind !== 'time') return false
  const timestamp = fragmentTimestamp(fragment, type)
  return timestamp !== undefined && timestamp >= until.epochMs
}

function describeStart(start: StartPosition): string {
  switch (start.kind) {
    case 'now':
      return 'now'
    case 'earliest':
      return 'the earliest fragment'
    case 'after-fragment':
      return `after fragment ${start.fragmentNumber}`
    case 'time':
      return formatTime(start.epochMs)
  }
}

function describeUntil(until: UntilCondition | undefined): string {
  if (until === undefined) return ' (Ctrl-C stops)'
  return until.kind === 'count'
    ? ` until ${until.fragments} fragment${until.fragments === 1 ? '' : 's'}`
    : ` until ${formatTime(until.epochMs)}`
}

/** The stderr line of one fragment. */
export function fragmentLine(fragment: MediaFragmentEvent): string {
  const behind =
    fragment.millisBehindNow === undefined ? '' : `  behind ${formatDuration(fragment.millisBehindNow)}`
  const incomplete = fragment.complete ? '' : '  (incomplete)'
  return `fragment ${fragment.fragmentNumber ?? '?'}  producer ${formatTime(fragment.producerTimestampMs)}  server ${formatTime(fragment.serverTimestampMs)}  ${formatInteger(fragment.byteLength)} B${behind}${incomplete}`
}
