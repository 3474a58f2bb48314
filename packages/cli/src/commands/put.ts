import { createReadStream } from 'node:fs'
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  type KinesisVideoClient,
  type StreamInfo,
} from '@aws-sdk/client-kinesis-video'
import {
  createProducer,
  PRODUCER_EVENT_TYPES,
  type Producer,
  ProducerError,
  type ProducerEvent,
  type ProducerStats,
  producerStartForFile,
  type SkippedFragment,
} from '@kvs-streams/producer'
import type { RepackagerStats } from '@kvs-streams/repackager'
import { adviseAckError } from '../ack-advice.ts'
import { type AwsSession, openAwsSession, waitUntilActive } from '../aws.ts'
import { type CommandContext, flag } from '../command.ts'
import { CliError, usageError } from '../errors.ts'
import { ExitCode } from '../exit-codes.ts'
import { type ErrorContext, explainError } from '../explain-error.ts'
import { formatBytes, formatDuration, formatInteger } from '../format.ts'
import {
  createInputStage,
  type InputFormat,
  type InputStage,
  type InputStageOptions,
} from '../input-stage.ts'
import { useColor, write } from '../io.ts'
import { createProgressRenderer } from '../progress.ts'
import { producerEventJson, progressSnapshot, putOutput, statsJson } from '../put-events.ts'
import { type FeedState, feed, throughStage, truncationOf } from '../put-feed.ts'
import { type PutSettings, putSettings } from '../put-settings.ts'
import { foreignFormatError, inspectSource, openSource, type PutSource } from '../put-source.ts'
import { parseTime } from '../time.ts'

/** DescribeStream, creating the stream first (`--create`) when it does not exist. */
async function ensureStream(
  session: AwsSession,
  streamName: string,
  settings: PutSettings,
  signal: AbortSignal,
  hooks: Pick<PutStreamHooks, 'notice' | 'created'>,
): Promise<StreamInfo> {
  try {
    const { StreamInfo: info } = await session.client.send(
      new DescribeStreamCommand({ StreamName: streamName }),
    )
    if (info !== undefined && info.Status !== 'ACTIVE' && info.Status !== 'UPDATING') {
      hooks.notice(`stream ${streamName} is ${info.Status}; waiting until it is ACTIVE`)
      return (await waitUntilActive(session, streamName, signal)) ?? info
    }
    return info ?? {}
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceNotFoundException' || !settings.create) throw error
  }
  const hours = settings.retentionHours
  await session.client.send(
    new CreateStreamCommand({
      StreamName: streamName,
      DataRetentionInHours: hours,
      MediaType: settings.mediaType,
    }),
  )
  hooks.created(hours)
  return (await waitUntilActive(session, streamName, signal)) ?? { DataRetentionInHours: hours }
}

/**
 * The producer start timestamp (RELATIVE timecodes count from it): `--producer-start`, else for a file the
 * time that makes its last frame end now (KVS refuses producer timestamps in the future, so a file sent faster
 * than real time must be dated back), and for a live source (stdin, a FIFO) now.
 */
async function producerStart(
  settings: PutSettings,
  source: PutSource,
  stageFor: () => InputStage | undefined,
  signal: AbortSignal,
  debug: (message: string) => void,
): Promise<number> {
  const now = Date.now()
  if (settings.producerStart !== undefined) return parseTime(settings.producerStart, now) ?? now
  if (source.kind === 'live' || source.path === undefined) return now
  const stage = stageFor()
  const bytes = createReadStream(source.path, { signal })
  const start = await producerStartForFile(stage === undefined ? bytes : throughStage(bytes, stage), { now })
  debug(`${source.path}: media ends at ${now - start} ms; producer start ${new Date(start).toISOString()}`)
  return start
}

/** What `putStream` tells its caller as one stream's upload goes. */
export interface PutStreamHooks {
  /** A line for people (warnings, what was changed). */
  notice(line: string): void
  /** The stream was created (`--create`) with this retention, and is being waited for until it is ACTIVE. */
  created(retentionHours: number): void
  /** The input stage changed a fragment for the first time: one sentence on what. */
  repackaging(change: string): void
  /** At the end: what repackaging changed over the whole input. */
  repackaged(summary: string, stats: RepackagerStats | undefined): void
  /** The producer exists, before the input is read; `input.bytesRead` counts what is read from the source. */
  started(
    producer: Producer,
    acknowledgeOn: 'PERSISTED' | 'RECEIVED',
    input: { readonly bytesRead: number },
  ): void
  /** Every producer event, as it comes. */
  event(event: ProducerEvent): void
}

/** One stream to put: where to, from where, with what. */
export interface PutStreamOptions {
  streamName: string
  source: PutSource
  settings: PutSettings
  /** Frames per second of raw video (`--fps`, or a list line's). */
  fps: number | undefined
  /** Fragment metadata on every fragment. */
  tags: readonly (readonly [string, string])[]
  /** A control-plane client shared by many producers (else each makes its own). */
  client?: KinesisVideoClient | undefined
  /** The producer's `stats` event period, ms (0: none; `stats()` is read instead). */
  statsIntervalMs: number
}

/** How one stream's upload ended. */
export interface PutOutcome {
  /** Which acknowledgement makes a fragment safe: PERSISTED, or RECEIVED on a stream without retention. */
  acknowledgeOn: 'PERSISTED' | 'RECEIVED'
  stats: ProducerStats
  /** Ctrl-C stopped the input before it ended. */
  interrupted: boolean
  bytesRead: number
  /** Why it failed (explained by `explainError`: ERROR acks and cut input as `CliError`s), or undefined. */
  failure: unknown
}

/**
 * Puts one stream: makes sure it exists (or creates it), dates the media, runs a producer and feeds it the
 * source until it ends or `signal` aborts, then waits for what was sent to be acknowledged. Throws what makes
 * a summary pointless (the stream is missing, the input is MP4 or empty); resolves with a failure otherwise.
 */
export async function putStream(
  context: CommandContext,
  session: AwsSession,
  options: PutStreamOptions,
  hooks: PutStreamHooks,
): Promise<PutOutcome> {
  const { streamName, source, settings, fps } = options
  const signal = context.io.signal
  const info = await ensureStream(session, streamName, settings, signal, hooks)
  const retention = info.DataRetentionInHours ?? 0
  const acknowledgeOn = retention > 0 ? 'PERSISTED' : 'RECEIVED'
  context.debug(
    `stream ${streamName}: ${info.Status ?? '?'}, retention ${retention} h; fragments are safe once ${acknowledgeOn}`,
  )
  const { repackage, stripServiceTags } = settings
  let changeSaid = false
  // kvs get output sent again (a relay): PutMedia refuses the AWS_KINESISVIDEO_* tags GetMedia added (4009).
  const stageOptions: InputStageOptions = {
    fps,
    stripServiceTags,
    onFirstChange: (text) => {
      if (changeSaid) return
      changeSaid = true
      hooks.repackaging(text)
    },
  }
  const makeStage = (format: InputFormat) => createInputStage(format, repackage, stageOptions)
  const producerStartTimestamp = settings.relative
    ? await producerStart(
        settings,
        source,
        () =>
          source.format === undefined
            ? undefined
            : createInputStage(source.format, repackage, { fps, stripServiceTags }),
        signal,
        (message) => context.debug(message),
      )
    : Date.now()
  const input = await openSource(source, context.io.stdin)
  const counter: FeedState = { bytesRead: 0, format: source.format }
  const producer = createProducer({
    streamName,
    region: session.region,
    credentials: session.credentials,
    signer: session.signer,
    ...(session.endpoint === undefined ? {} : { endpoint: session.endpoint }),
    ...(options.client === undefined ? {} : { client: options.client }),
    fragmentTimecodeType: settings.relative ? 'RELATIVE' : 'ABSOLUTE',
    producerStartTimestamp,
    acknowledgeOn,
    // File, pipe and socket streams hand over fresh buffers: no copy needed.
    copyInput: false,
    chunker: { stripServiceTags },
    statsIntervalMs: options.statsIntervalMs,
  })
  for (const type of PRODUCER_EVENT_TYPES) producer.on(type, hooks.event as never)
  // Tags go on every fragment of this put (checked against the service's limits before connecting).
  for (const [name, value] of options.tags) producer.putMetadata(name, value, { persistent: true })
  hooks.started(producer, acknowledgeOn, counter)

  const interrupted = !(await feed(input, producer, signal, counter, makeStage))
  let stats: ProducerStats
  let failure: unknown
  try {
    stats = await producer.close()
  } catch (error) {
    failure = error
    stats = producer.stats()
  }
  if (counter.foreign !== undefined) throw foreignFormatError(counter.foreign, undefined, streamName)
  // Corrupt or truncated input found by the muxer or the repackager: what was complete before it was sent.
  failure ??= counter.stageError
  const repackaged = counter.stage?.report()
  if (repackaged?.summary !== undefined) hooks.repackaged(repackaged.summary, repackaged.stats)
  if (counter.bytesRead === 0 && !interrupted && failure === undefined) {
    const fromStdin = source.path === undefined
    throw new CliError(
      'ERR_KVS_CLI_INPUT',
      fromStdin
        ? 'Nothing arrived on stdin: the input was empty, so nothing was sent.'
        : source.kind === 'live'
          ? `Nothing arrived from ${source.path}: its writer closed it without writing, so nothing was sent.`
          : `${source.path} is empty: nothing was sent.`,
      {
        exitCode: ExitCode.MediaRejected,
        hints: fromStdin
          ? [
              'Check the command that writes into the pipe (its errors are printed above), e.g.',
              `  ffmpeg -i input.mp4 -c copy -f matroska - | kvs put ${streamName} -`,
            ]
          : [],
      },
    )
  }
  return {
    acknowledgeOn,
    stats,
    interrupted,
    bytesRead: counter.bytesRead,
    failure: failure === undefined ? undefined : putFailure(failure, stats),
  }
}

/** A producer failure in words: ERROR acks with the fragments not stored, input cut short with what was sent. */
function putFailure(failure: unknown, stats: ProducerStats): unknown {
  if (ProducerError.is(failure) && failure.code === 'ERR_KVS_PRODUCER_INCOMPLETE') {
    const skipped = failure.skipped
    const ids = [
      ...new Set(skipped.map((item) => item.errorId).filter((id): id is number => id !== undefined)),
    ]
    const listed = skipped
      .slice(0, 5)
      .map((item) => `fragment ${item.fragment.index} (timecode ${item.fragment.timecode})`)
    const more =
      skipped.length > listed.length ? ` and ${formatInteger(skipped.length - listed.length)} more` : ''
    const meaning = ids.length === 1 ? `: ${adviseAckError(ids[0]!).meaning}` : ''
    return new CliError(
      'ERR_KVS_CLI_ERROR_ACK',
      `${formatInteger(stats.fragments.skipped)} of ${formatInteger(stats.fragments.accepted)} fragments were not stored${
        ids.length === 0
          ? ''
          : ` (${ids.map((id) => `ERROR ${id} ${adviseAckError(id).errorCode}`).join(', ')})`
      }${meaning}`,
      {
        errorId: ids[0],
        exitCode: ExitCode.MediaRejected,
        cause: failure,
        hints: [`Not stored: ${listed.join(', ')}${more}.`],
      },
    )
  }
  const truncated = truncationOf(failure)
  if (truncated !== undefined) {
    const before = stats.fragments.accepted
    const stored = stats.fragments.acknowledged
    return new CliError(
      'ERR_KVS_CLI_INPUT',
      before === 0
        ? `The input ends before its first fragment is complete (at byte ${truncated.offset}): nothing was sent.`
        : `The input ends in the middle of fragment ${before} (at byte ${truncated.offset}): that fragment was not sent; ${
            stored === before
              ? `the ${formatInteger(before)} fragment${before === 1 ? '' : 's'} before it ${before === 1 ? 'was' : 'were'} stored.`
              : `${formatInteger(stored)} of the ${formatInteger(before)} fragments before it were stored.`
          }`,
      {
        exitCode: ExitCode.MediaRejected,
        cause: failure,
        hints: [
          `Was the input cut short (a file still being written, a copy or download that stopped)? ${truncated.message}.`,
        ],
      },
    )
  }
  return failure
}

/** The counts of one stream's summary (`kvs put`'s last JSON line; one result of `kvs put --many`). */
export function putSummary(
  streamName: string,
  outcome: Pick<PutOutcome, 'stats' | 'interrupted' | 'bytesRead' | 'failure'>,
  elapsedMs: number,
): Record<string, unknown> {
  const { stats } = outcome
  return {
    ok: outcome.failure === undefined,
    interrupted: outcome.interrupted,
    stream: streamName,
    bytesRead: outcome.bytesRead,
    bytesSent: stats.bytesSent,
    fragments: stats.fragments.accepted,
    acknowledged: stats.fragments.acknowledged,
    received: stats.fragments.received,
    persisted: stats.fragments.persisted,
    skipped: stats.fragments.skipped,
    fateUnknown: stats.fragments.fateUnknown,
    possibleDuplicates: stats.fragments.possibleDuplicates,
    sessions: stats.sessions,
    reconnects: stats.reconnects,
    elapsedMs,
    ackLatencyMs: statsJson(stats).ackLatencyMs,
  }
}

/**
 * What a producer event says to people, as lines (none for most events): fragments not stored with the advice
 * for their ERROR (once per ErrorId), rule violations, reconnects, reconciliation, possible duplicates.
 */
export function createEventNotices(errorContext: ErrorContext): (event: ProducerEvent) => string[] {
  const adviceShown = new Set<number>()
  let keyframeHintShown = false
  const describeSkip = (skipped: SkippedFragment): string[] => {
    const id = skipped.errorId
    const head = `fragment ${skipped.fragment.index} (timecode ${skipped.fragment.timecode}) not stored: ${
      id === undefined
        ? skipped.message
        : `ERROR ${id} ${skipped.errorCode ?? adviseAckError(id).errorCode} — ${adviseAckError(id).meaning}`
    }${skipped.reason === 'violation' ? ' (caught before sending)' : ''}`
    if (id === undefined || adviceShown.has(id)) return [head]
    adviceShown.add(id)
    return [head, ...adviseAckError(id).advice.map((line) => `  ${line}`)]
  }
  return (event) => {
    switch (event.type) {
      case 'fragment-skipped':
        return describeSkip(event)
      case 'violation': {
        if (event.violation.errorId !== undefined) return []
        const lines = [`warning: ${event.violation.message}`]
        if (event.violation.kind === 'not-keyframe-start' && !keyframeHintShown) {
          keyframeHintShown = true
          lines.push(
            '  KVS stores it, but players cannot start there. With ffmpeg, add -cluster_size_limit 2M',
            '  -cluster_time_limit 1000 and a key frame every 1-2 s (-g 25 -keyint_min 25 at 25 fps).',
          )
        }
        return lines
      }
      case 'state': {
        if (event.state !== 'reconnecting') return []
        const delay = formatDuration(event.delayMs ?? 0)
        const attempt = `attempt ${event.attempt ?? 1}`
        const errorId = (event.cause as { errorId?: unknown } | undefined)?.errorId
        return [
          typeof errorId === 'number'
            ? `reconnecting after ERROR ${errorId} in ${delay} (${attempt})`
            : `connection failed (${explainError(event.cause, errorContext).message}); reconnecting in ${delay} (${attempt})`,
        ]
      }
      case 'reconciliation':
        if (event.error !== undefined)
          return [
            `warning: could not check which of ${event.checked} unacknowledged fragments were stored (ListFragments: ${
              explainError(event.error, errorContext).message
            }); resending them, so some may be stored twice`,
          ]
        if (event.found > 0)
          return [
            `${event.found} of ${event.checked} unacknowledged fragments were stored anyway; not resending them`,
          ]
        return []
      case 'possible-duplicate':
        return event.reason === 'reconciliation-off'
          ? [
              `warning: fragment ${event.fragment.index} (timecode ${event.fragment.timecode}) resent without checking whether it was stored: it may be stored twice`,
            ]
          : []
      default:
        return []
    }
  }
}

/** `kvs put <stream> [file|-]` (`kvs put --many <list>` is `putManyCommand`). */
export async function putCommand(context: CommandContext): Promise<number> {
  const { io, global } = context
  const [streamName, file = '-', ...extra] = context.positionals
  if (streamName === undefined || streamName === '') throw usageError('kvs put needs a stream name')
  if (extra.length > 0) throw usageError(`kvs put takes one stream and one file, got also ${extra.join(' ')}`)
  context.errorContext.streamName = streamName
  const settings = putSettings(context)
  const fromStdin = file === '-'
  if (fromStdin && io.stdin.isTTY === true) {
    throw usageError('no input: stdin is a terminal', [
      'Give a file (kvs put <stream> video.mkv), or pipe MKV into kvs put <stream> -, e.g.',
      '  ffmpeg -i input.mp4 -c copy -cluster_size_limit 2M -f matroska - | kvs put <stream> -',
    ])
  }
  // A missing file, a directory or a file in another container is reported before anything goes over the network.
  const source = await inspectSource(fromStdin ? undefined : file, streamName, settings.format)

  // Where output goes: JSON lines on stdout (--json, or stdout is not a terminal), or the progress display.
  const json = global.json || io.stdout.isTTY !== true
  context.errorContext.jsonOutput = json
  const quiet = flag(context, 'quiet')
  const progress =
    json || quiet
      ? undefined
      : createProgressRenderer({ output: io.stderr, color: useColor(io.stderr, io.env, global.noColor) })
  const { jsonOut, eventOut, notice } = putOutput(io, { json, jsonFlag: global.json, quiet }, progress)

  const session = await openAwsSession(context)
  const started = Date.now()
  const label = source.path === undefined ? `${streamName} ← stdin` : `${streamName} ← ${source.path}`
  const bytesTotal = source.size
  let input: { readonly bytesRead: number } = { bytesRead: 0 }
  const notices = createEventNotices(context.errorContext)
  try {
    const outcome = await putStream(
      context,
      session,
      {
        streamName,
        source,
        settings,
        fps: settings.fps,
        tags: settings.tags,
        statsIntervalMs: progress === undefined ? 1000 : 250,
      },
      {
        notice,
        created: (retentionHours) => {
          notice(`created stream ${streamName} (retention ${retentionHours} h)`)
          eventOut({ type: 'stream-created', stream: streamName, retentionHours })
        },
        repackaging: (change) => {
          jsonOut({ type: 'repackaging', change })
          notice(
            `the input is not KVS-ready as it is: repackaging it (${change}); --no-repackage sends it unchanged`,
          )
        },
        repackaged: (summary, stats) => {
          notice(summary)
          jsonOut({ type: 'repackaged', summary, ...stats })
        },
        started: (_producer, _acknowledgeOn, counter) => {
          input = counter
        },
        event: (event) => {
          if (global.debug && !json && event.type !== 'stats' && event.type !== 'ack') {
            context.debug(JSON.stringify(producerEventJson(event)))
          }
          if (json) {
            if (event.type !== 'error') eventOut(producerEventJson(event))
            return
          }
          if (event.type === 'stats') {
            progress?.update(
              progressSnapshot(event.stats, label, {
                bytesRead: input.bytesRead,
                ...(bytesTotal === undefined ? {} : { bytesTotal }),
              }),
            )
            return
          }
          for (const line of notices(event)) notice(line)
        },
      },
    )
    const { stats, interrupted, failure, acknowledgeOn } = outcome
    const elapsedMs = Date.now() - started
    const summary = { type: 'summary', ...putSummary(streamName, outcome, elapsedMs) }
    if (json) jsonOut(summary)
    else {
      progress?.done(
        progressSnapshot(stats, label, {
          bytesRead: outcome.bytesRead,
          ...(bytesTotal === undefined ? {} : { bytesTotal }),
        }),
      )
      const stored =
        acknowledgeOn === 'PERSISTED'
          ? `${formatInteger(stats.fragments.persisted)} persisted`
          : `${formatInteger(stats.fragments.received)} received`
      const line = `${interrupted ? 'interrupted: ' : ''}${formatInteger(stats.fragments.accepted)} fragment${stats.fragments.accepted === 1 ? '' : 's'}, ${formatBytes(stats.bytesSent)} sent to ${streamName} in ${formatDuration(elapsedMs)}: ${stored}${stats.fragments.skipped > 0 ? `, ${formatInteger(stats.fragments.skipped)} not stored` : ''}${
        stats.fragments.fateUnknown > 0
          ? ` (${formatInteger(stats.fragments.fateUnknown)} of them sent and dropped before an answer: stored or not, unknown)`
          : ''
      }${
        stats.fragments.possibleDuplicates > 0
          ? `, ${formatInteger(stats.fragments.possibleDuplicates)} resent unchecked (possibly stored twice)`
          : ''
      }`
      await write(io.stderr, `${line}\n`)
    }
    if (failure !== undefined) throw failure
    return interrupted ? ExitCode.Interrupted : ExitCode.Ok
  } finally {
    session.close()
  }
}
