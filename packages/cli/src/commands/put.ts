import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'
import { CreateStreamCommand, DescribeStreamCommand, type StreamInfo } from '@aws-sdk/client-kinesis-video'
import { detectFormat } from '@kvs-streams/muxer'
import {
  checkFragmentMetadata,
  createProducer,
  PRODUCER_EVENT_TYPES,
  ProducerError,
  type ProducerEvent,
  type ProducerStats,
  producerStartForFile,
  type SkippedFragment,
} from '@kvs-streams/producer'
import { adviseAckError } from '../ack-advice.ts'
import { type AwsSession, openAwsSession, waitUntilActive } from '../aws.ts'
import { type CommandContext, flag, stringOption } from '../command.ts'
import { CliError, usageError } from '../errors.ts'
import { ExitCode } from '../exit-codes.ts'
import { explainError } from '../explain-error.ts'
import { formatBytes, formatDuration, formatInteger } from '../format.ts'
import { detectForeignFormat, type ForeignFormat } from '../input-format.ts'
import {
  bytesOf,
  createInputStage,
  DETECT_BYTES,
  eventsBeforeError,
  INPUT_FORMATS,
  type InputFormat,
  type InputStage,
  type InputStageOptions,
} from '../input-stage.ts'
import { useColor, write } from '../io.ts'
import { createProgressRenderer } from '../progress.ts'
import { producerEventJson, progressSnapshot, statsJson } from '../put-events.ts'
import { parseTime } from '../time.ts'
import { retentionHours } from './streams.ts'

/** DescribeStream, creating the stream first (`--create`) when it does not exist. */
async function ensureStream(
  context: CommandContext,
  session: AwsSession,
  streamName: string,
  notice: (line: string) => void,
): Promise<StreamInfo> {
  try {
    const { StreamInfo: info } = await session.client.send(
      new DescribeStreamCommand({ StreamName: streamName }),
    )
    if (info !== undefined && info.Status !== 'ACTIVE' && info.Status !== 'UPDATING') {
      notice(`stream ${streamName} is ${info.Status}; waiting until it is ACTIVE`)
      return (await waitUntilActive(session, streamName, context.io.signal)) ?? info
    }
    return info ?? {}
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceNotFoundException' || !flag(context, 'create'))
      throw error
  }
  const hours = retentionHours(context, 24)
  await session.client.send(
    new CreateStreamCommand({
      StreamName: streamName,
      DataRetentionInHours: hours,
      MediaType: stringOption(context, 'media-type') ?? 'video/h264',
    }),
  )
  notice(`created stream ${streamName} (retention ${hours} h)`)
  if (context.global.json || (context.io.stdout.isTTY !== true && !flag(context, 'quiet'))) {
    context.io.stdout.write(
      `${JSON.stringify({ type: 'stream-created', stream: streamName, retentionHours: hours })}\n`,
    )
  }
  return (await waitUntilActive(session, streamName, context.io.signal)) ?? { DataRetentionInHours: hours }
}

/**
 * The producer start timestamp (RELATIVE timecodes count from it): `--producer-start`, else for a file the
 * time that makes its last frame end now (KVS refuses producer timestamps in the future, so a file sent faster
 * than real time must be dated back), and for stdin (a live source) now.
 */
async function producerStart(
  context: CommandContext,
  file: string | undefined,
  stageFor: () => InputStage | undefined,
): Promise<number> {
  const now = Date.now()
  const text = stringOption(context, 'producer-start')
  if (text !== undefined) {
    const value = parseTime(text, now)
    if (value === undefined) {
      throw usageError(
        `--producer-start must be now, an ISO 8601 time, epoch seconds or -<duration>, got ${JSON.stringify(text)}`,
      )
    }
    return value
  }
  if (file === undefined) return now
  const stage = stageFor()
  const bytes = createReadStream(file, { signal: context.io.signal })
  const start = await producerStartForFile(stage === undefined ? bytes : throughStage(bytes, stage), { now })
  context.debug(`${file}: media ends at ${now - start} ms; producer start ${new Date(start).toISOString()}`)
  return start
}

/** `source` through `stage` (raw video muxed, MKV repackaged), for a first read of a file; stops at an error. */
async function* throughStage(
  source: AsyncIterable<Uint8Array>,
  stage: InputStage,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield* bytesOf(stage.push(chunk))
    yield* bytesOf(stage.end())
  } catch {
    // The producer reports unusable input when the same bytes are written to it.
  }
}

/** Waits until `writable` drains, closes, or `signal` aborts. */
function drained(writable: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      writable.off('drain', done)
      writable.off('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    writable.once('drain', done)
    writable.once('close', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** What `feed` found out about the input on the way. */
interface FeedState {
  bytesRead: number
  foreign?: ForeignFormat | undefined
  /** The input's format (`--format`, or detected from its first bytes). */
  format?: InputFormat | undefined
  stage?: InputStage | undefined
  /** The input stage failed (corrupt or truncated input): what was complete before it was sent. */
  stageError?: unknown
}

/**
 * Copies `input` into `writable` until the input ends or `signal` aborts (then the input is dropped where
 * it is), through the input stage `makeStage` gives for the format seen in the first bytes (raw H.264/H.265/
 * AAC muxed into Matroska, MKV repackaged); counts the bytes read. Resolves with whether the input ended by
 * itself.
 */
async function feed(
  input: Readable,
  producer: { writable: Writable; fragments: Writable },
  signal: AbortSignal,
  state: FeedState,
  makeStage: (format: InputFormat) => InputStage | undefined,
): Promise<boolean> {
  // Ctrl-C while the input is quiet (a live pipe): stop waiting for it.
  const stop = () => input.destroy()
  signal.addEventListener('abort', stop, { once: true })
  /** MKV bytes as they are go to `writable`; a stage's fragments to `fragments` (sent as each completes). */
  const target = (): Writable => (state.stage === undefined ? producer.writable : producer.fragments)
  const send = async (items: readonly unknown[]): Promise<boolean> => {
    const writable = target()
    for (const item of items) {
      if (signal.aborted || writable.destroyed) return false
      if (!writable.write(item)) await drained(writable, signal)
    }
    return true
  }
  /** The first bytes, held until there are enough to tell the format. */
  const head: Uint8Array[] = []
  let headBytes = 0
  let started = false
  /** Sends `chunk` through the stage; false when the stage failed (`state.stageError`) or sending stopped. */
  const pass = async (chunk: Uint8Array): Promise<boolean> => {
    if (state.stage === undefined) return send([chunk])
    let events: readonly unknown[]
    try {
      events = state.stage.push(chunk)
    } catch (error) {
      state.stageError = error
      await send(eventsBeforeError(error))
      return false
    }
    return send(events)
  }
  /** Tells the format from the first bytes, makes the stage and passes them; false when nothing more goes. */
  const start = async (): Promise<boolean> => {
    started = true
    const first = head.length === 1 ? head[0]! : Buffer.concat(head)
    if (state.format === undefined) {
      // MP4, TS, …: nothing of it is sent, the caller names what it is.
      state.foreign = detectForeignFormat(first)
      if (state.foreign !== undefined) return false
      state.format = detectFormat(first) ?? 'mkv'
    }
    state.stage = makeStage(state.format)
    return pass(first)
  }
  /**
   * Ends the stage, also after Ctrl-C: the fragments it still holds (the last one of a live source waits for
   * the next one's first frames) are complete and go out; an input cut by Ctrl-C is no error.
   */
  const flush = async (): Promise<void> => {
    const writable = target()
    if (state.stage === undefined || state.stageError !== undefined || writable.destroyed) return
    let events: readonly unknown[]
    try {
      events = state.stage.end()
    } catch (error) {
      if (!signal.aborted) state.stageError = error
      events = eventsBeforeError(error)
    }
    for (const event of events) {
      if (writable.destroyed) return
      if (!writable.write(event) && !signal.aborted) await drained(writable, signal)
    }
  }
  /** The input ended by itself unless sending stopped (Ctrl-C, or the producer failed). */
  const ended = () => !signal.aborted && !target().destroyed
  try {
    for await (const chunk of input) {
      if (signal.aborted || target().destroyed) return false
      const bytes = chunk as Uint8Array
      state.bytesRead += bytes.byteLength
      if (!started) {
        head.push(bytes)
        headBytes += bytes.byteLength
        if (headBytes >= DETECT_BYTES && !(await start())) return ended()
        continue
      }
      if (!(await pass(bytes))) return ended()
    }
    if (!started && headBytes > 0 && !(await start())) return ended()
    return !signal.aborted
  } catch (error) {
    if (signal.aborted) return false
    throw error
  } finally {
    signal.removeEventListener('abort', stop)
    await flush()
    const writable = target()
    if (!writable.destroyed && !writable.writableEnded) writable.end()
  }
}

/** The error for MP4, MOV or TS given to `kvs put`: what it is, and the ffmpeg command that remuxes it. */
function foreignFormatError(format: ForeignFormat, file: string | undefined, streamName: string): CliError {
  const input = file ?? `in.${format.extension}`
  return new CliError(
    'ERR_KVS_CLI_INPUT',
    `The input is ${format.description}, not Matroska (MKV): kvs put sends Matroska, nothing was sent.`,
    {
      exitCode: ExitCode.MediaRejected,
      hints: [
        'Remux it into Matroska without re-encoding and pipe that in:',
        `  ffmpeg ${format.inputOptions}-i ${input} -c copy -f matroska - | kvs put ${streamName} -`,
      ],
    },
  )
}

/** The EBML reader's `ERR_KVS_EBML_TRUNCATED` in `error`'s causes: the input stopped inside an element. */
function truncationOf(error: unknown): { offset: number; message: string } | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const { code, offset } = current as { code?: unknown; offset?: unknown }
    if (code === 'ERR_KVS_EBML_TRUNCATED' && typeof offset === 'number') {
      return { offset, message: current.message.replace(/ \(at byte \d+\)$/, '') }
    }
    current = current.cause
  }
  return undefined
}

/** `--format`: undefined when absent (the format is then told from the input's first bytes). */
function inputFormatOption(context: CommandContext): InputFormat | undefined {
  const text = stringOption(context, 'format')
  if (text === undefined) return undefined
  const format = text.toLowerCase() as InputFormat
  if (!INPUT_FORMATS.includes(format)) {
    throw usageError(`--format must be one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(text)}`)
  }
  return format
}

/** `--fps` for raw H.264/H.265 (their streams carry no timestamps): a positive number. */
function fpsOption(context: CommandContext, format: InputFormat | undefined): number | undefined {
  const text = stringOption(context, 'fps')
  if (text === undefined) return undefined
  const fps = Number(text)
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    throw usageError(`--fps must be a number of frames per second (0-1000), got ${JSON.stringify(text)}`)
  }
  if (format === 'mkv' || format === 'aac') {
    throw usageError(`--fps goes with raw video (--format h264 or h265), not ${format}: it has timestamps`)
  }
  return fps
}

/** `--tag NAME=VALUE` (repeatable), each checked against the service's fragment metadata limits. */
function tagOptions(context: CommandContext): [string, string][] {
  const values = context.values.tag
  const texts = values === undefined ? [] : Array.isArray(values) ? values : [values]
  const tags: [string, string][] = []
  for (const text of texts) {
    if (typeof text !== 'string') continue
    const equals = text.indexOf('=')
    if (equals <= 0) throw usageError(`--tag must be NAME=VALUE, got ${JSON.stringify(text)}`)
    const name = text.slice(0, equals)
    const value = text.slice(equals + 1)
    const problem = checkFragmentMetadata(name, value)
    if (problem !== undefined) throw usageError(`--tag ${name}: ${problem.message}`)
    tags.push([name, value])
  }
  if (tags.length > 10) {
    throw usageError(`at most 10 --tag options (KVS takes 10 tags per fragment), got ${tags.length}`)
  }
  return tags
}

/** `kvs put <stream> [file|-]`. */
export async function putCommand(context: CommandContext): Promise<number> {
  const { io, global } = context
  const [streamName, file = '-', ...extra] = context.positionals
  if (streamName === undefined || streamName === '') throw usageError('kvs put needs a stream name')
  if (extra.length > 0) throw usageError(`kvs put takes one stream and one file, got also ${extra.join(' ')}`)
  context.errorContext.streamName = streamName
  const timecodeType = (stringOption(context, 'timecode-type') ?? 'relative').toLowerCase()
  if (timecodeType !== 'relative' && timecodeType !== 'absolute') {
    throw usageError(`--timecode-type must be relative or absolute, got ${JSON.stringify(timecodeType)}`)
  }
  if (
    !flag(context, 'create') &&
    (stringOption(context, 'retention-hours') !== undefined ||
      stringOption(context, 'media-type') !== undefined)
  ) {
    throw usageError('--retention-hours and --media-type go with --create')
  }
  if (flag(context, 'create')) retentionHours(context, 24)
  const formatOption = inputFormatOption(context)
  const fps = fpsOption(context, formatOption)
  const tags = tagOptions(context)
  const repackage = !flag(context, 'no-repackage')
  const fromStdin = file === '-'
  if (fromStdin && io.stdin.isTTY === true) {
    throw usageError('no input: stdin is a terminal', [
      'Give a file (kvs put <stream> video.mkv), or pipe MKV into kvs put <stream> -, e.g.',
      '  ffmpeg -i input.mp4 -c copy -cluster_size_limit 2M -f matroska - | kvs put <stream> -',
    ])
  }
  // A missing file, a directory or a file in another container is reported before anything goes over the network.
  const fileStat = fromStdin ? undefined : await stat(file)
  if (fileStat?.isDirectory() === true) {
    throw usageError(`${file} is a directory: kvs put sends one MKV file`, [
      `Give one file (kvs put ${streamName} ${file.replace(/\/+$/, '')}/video.mkv), or - to read stdin.`,
    ])
  }
  const bytesTotal = fileStat?.size
  let fileFormat = formatOption
  if (!fromStdin) {
    const handle = await open(file)
    try {
      const { buffer, bytesRead } = await handle.read(new Uint8Array(256), 0, 256, 0)
      const head = buffer.subarray(0, bytesRead)
      if (formatOption === undefined) {
        const foreign = detectForeignFormat(head)
        if (foreign !== undefined) throw foreignFormatError(foreign, file, streamName)
        fileFormat = detectFormat(head) ?? 'mkv'
      }
    } finally {
      await handle.close()
    }
  }

  // Where output goes: JSON lines on stdout (--json, or stdout is not a terminal), or the progress display.
  const json = global.json || io.stdout.isTTY !== true
  context.errorContext.jsonOutput = json
  const quiet = flag(context, 'quiet')
  const progress =
    json || quiet
      ? undefined
      : createProgressRenderer({ output: io.stderr, color: useColor(io.stderr, io.env, global.noColor) })
  const jsonOut = (value: Record<string, unknown>) => {
    if (json) io.stdout.write(`${JSON.stringify(value)}\n`)
  }
  const notice = (line: string) => {
    if (json) return
    if (progress !== undefined) progress.log(line)
    else io.stderr.write(`${line}\n`)
  }

  const session = await openAwsSession(context)
  const started = Date.now()
  try {
    const info = await ensureStream(context, session, streamName, notice)
    const retention = info.DataRetentionInHours ?? 0
    const acknowledgeOn = retention > 0 ? 'PERSISTED' : 'RECEIVED'
    context.debug(
      `stream ${streamName}: ${info.Status ?? '?'}, retention ${retention} h; fragments are safe once ${acknowledgeOn}`,
    )
    const relative = timecodeType === 'relative'
    let changeSaid = false
    // kvs get output sent again (a relay): PutMedia refuses the AWS_KINESISVIDEO_* tags GetMedia added (4009).
    const stripServiceTags = !flag(context, 'keep-service-tags')
    const stageOptions: InputStageOptions = {
      fps,
      stripServiceTags,
      onFirstChange: (text) => {
        if (changeSaid) return
        changeSaid = true
        jsonOut({ type: 'repackaging', change: text })
        notice(
          `the input is not KVS-ready as it is: repackaging it (${text}); --no-repackage sends it unchanged`,
        )
      },
    }
    const makeStage = (format: InputFormat) => createInputStage(format, repackage, stageOptions)
    const producerStartTimestamp = relative
      ? await producerStart(context, fromStdin ? undefined : file, () =>
          fileFormat === undefined
            ? undefined
            : createInputStage(fileFormat, repackage, { fps, stripServiceTags }),
        )
      : Date.now()
    const input: Readable = fromStdin ? io.stdin : createReadStream(file)
    const label = fromStdin ? `${streamName} ← stdin` : `${streamName} ← ${file}`
    const counter: FeedState = { bytesRead: 0, format: fileFormat }
    const producer = createProducer({
      streamName,
      region: session.region,
      credentials: session.credentials,
      signer: session.signer,
      ...(session.endpoint === undefined ? {} : { endpoint: session.endpoint }),
      fragmentTimecodeType: relative ? 'RELATIVE' : 'ABSOLUTE',
      producerStartTimestamp,
      acknowledgeOn,
      // File, pipe and socket streams hand over fresh buffers: no copy needed.
      copyInput: false,
      chunker: { stripServiceTags },
      statsIntervalMs: progress === undefined ? 1000 : 250,
    })
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
    const onEvent = (event: ProducerEvent) => {
      if (global.debug && !json && event.type !== 'stats' && event.type !== 'ack') {
        context.debug(JSON.stringify(producerEventJson(event)))
      }
      if (json) {
        // -q with stdout piped: the summary (and an error) only; --json asks for every event.
        if (event.type !== 'error' && !(quiet && !global.json)) jsonOut(producerEventJson(event))
        return
      }
      switch (event.type) {
        case 'stats':
          progress?.update(
            progressSnapshot(event.stats, label, {
              bytesRead: counter.bytesRead,
              ...(bytesTotal === undefined ? {} : { bytesTotal }),
            }),
          )
          break
        case 'fragment-skipped':
          for (const line of describeSkip(event)) notice(line)
          break
        case 'violation':
          if (event.violation.errorId !== undefined) break
          notice(`warning: ${event.violation.message}`)
          if (event.violation.kind === 'not-keyframe-start' && !keyframeHintShown) {
            keyframeHintShown = true
            notice('  KVS stores it, but players cannot start there. With ffmpeg, add -cluster_size_limit 2M')
            notice('  -cluster_time_limit 1000 and a key frame every 1-2 s (-g 25 -keyint_min 25 at 25 fps).')
          }
          break
        case 'state':
          if (event.state === 'reconnecting') {
            const delay = formatDuration(event.delayMs ?? 0)
            const attempt = `attempt ${event.attempt ?? 1}`
            const errorId = (event.cause as { errorId?: unknown } | undefined)?.errorId
            notice(
              typeof errorId === 'number'
                ? `reconnecting after ERROR ${errorId} in ${delay} (${attempt})`
                : `connection failed (${explainError(event.cause, context.errorContext).message}); reconnecting in ${delay} (${attempt})`,
            )
          }
          break
        case 'reconciliation':
          if (event.error !== undefined)
            notice(
              `warning: could not check which of ${event.checked} unacknowledged fragments were stored (ListFragments: ${
                explainError(event.error, context.errorContext).message
              }); resending them, so some may be stored twice`,
            )
          else if (event.found > 0)
            notice(
              `${event.found} of ${event.checked} unacknowledged fragments were stored anyway; not resending them`,
            )
          break
        case 'possible-duplicate':
          if (event.reason === 'reconciliation-off')
            notice(
              `warning: fragment ${event.fragment.index} (timecode ${event.fragment.timecode}) resent without checking whether it was stored: it may be stored twice`,
            )
          break
        default:
          break
      }
    }
    for (const type of PRODUCER_EVENT_TYPES) {
      producer.on(type, onEvent as never)
    }
    // --tag: on every fragment of this put (checked against the service's limits before connecting).
    for (const [name, value] of tags) producer.putMetadata(name, value, { persistent: true })

    const interrupted = !(await feed(input, producer, io.signal, counter, makeStage))
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
    if (repackaged?.summary !== undefined) {
      notice(repackaged.summary)
      jsonOut({ type: 'repackaged', summary: repackaged.summary, ...repackaged.stats })
    }
    if (counter.bytesRead === 0 && !interrupted && failure === undefined) {
      throw new CliError(
        'ERR_KVS_CLI_INPUT',
        fromStdin
          ? 'Nothing arrived on stdin: the input was empty, so nothing was sent.'
          : `${file} is empty: nothing was sent.`,
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
    const ok = failure === undefined
    const summary = {
      type: 'summary',
      ok,
      interrupted,
      stream: streamName,
      bytesRead: counter.bytesRead,
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
      elapsedMs: Date.now() - started,
      ackLatencyMs: statsJson(stats).ackLatencyMs,
    }
    if (json) jsonOut(summary)
    else {
      progress?.done(
        progressSnapshot(stats, label, {
          bytesRead: counter.bytesRead,
          ...(bytesTotal === undefined ? {} : { bytesTotal }),
        }),
      )
      const stored =
        acknowledgeOn === 'PERSISTED'
          ? `${formatInteger(stats.fragments.persisted)} persisted`
          : `${formatInteger(stats.fragments.received)} received`
      const line = `${interrupted ? 'interrupted: ' : ''}${formatInteger(stats.fragments.accepted)} fragment${stats.fragments.accepted === 1 ? '' : 's'}, ${formatBytes(stats.bytesSent)} sent to ${streamName} in ${formatDuration(summary.elapsedMs)}: ${stored}${stats.fragments.skipped > 0 ? `, ${formatInteger(stats.fragments.skipped)} not stored` : ''}${
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
    if (failure !== undefined) {
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
        throw new CliError(
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
        throw new CliError(
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
      throw failure
    }
    return interrupted ? ExitCode.Interrupted : ExitCode.Ok
  } finally {
    session.close()
  }
}
