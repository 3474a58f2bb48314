import { spawn } from 'node:child_process'
import {
  GetDASHStreamingSessionURLCommand,
  GetHLSStreamingSessionURLCommand,
} from '@aws-sdk/client-kinesis-video-archived-media'
import { openArchivedMedia, selectorType, streamArgument, timeOption } from '../archived-media.ts'
import { type CommandContext, flag, stringOption } from '../command.ts'
import { usageError } from '../errors.ts'
import { formatTime } from '../format.ts'
import { parseDuration } from '../time.ts'

type PlaybackMode = 'LIVE' | 'LIVE_REPLAY' | 'ON_DEMAND'

const MODES: Record<string, PlaybackMode> = {
  live: 'LIVE',
  'live-replay': 'LIVE_REPLAY',
  'on-demand': 'ON_DEMAND',
}

/** The program that opens a URL in the default browser or player of this platform. */
function opener(url: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [url]]
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]]
  return ['xdg-open', [url]]
}

/** Starts the platform's opener on `url`; resolves with why it could not, or `undefined`. */
function openUrl(url: string): Promise<string | undefined> {
  const [command, args] = opener(url)
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true })
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ENOENT' ? `${command} is not installed` : error.message),
    )
    child.once('spawn', () => {
      child.unref()
      resolve(undefined)
    })
  })
}

/**
 * `kvs play <stream>`: asks for an HLS (or, with `--dash`, DASH) streaming session URL with
 * `@aws-sdk/client-kinesis-video-archived-media` and prints it; `--open` opens it.
 */
export async function playCommand(context: CommandContext): Promise<number> {
  const streamName = streamArgument(context, 'play')
  const now = Date.now()
  const start = timeOption(context, 'start', now)
  const end = timeOption(context, 'end', now)
  const modeText = stringOption(context, 'mode')
  let mode: PlaybackMode
  if (modeText !== undefined) {
    const chosen = MODES[modeText]
    if (chosen === undefined) {
      throw usageError(`--mode must be live, live-replay or on-demand, got ${JSON.stringify(modeText)}`)
    }
    mode = chosen
  } else mode = start === undefined ? 'LIVE' : end === undefined ? 'LIVE_REPLAY' : 'ON_DEMAND'
  if (mode === 'LIVE' && (start !== undefined || end !== undefined)) {
    throw usageError(
      'a live session plays from now: --start and --end go with --mode on-demand or live-replay',
    )
  }
  if (mode !== 'LIVE' && start === undefined)
    throw usageError(`--mode ${modeText ?? 'on-demand'} needs --start`)
  if (mode === 'ON_DEMAND' && end === undefined) throw usageError('--mode on-demand needs --end')
  const expiresText = stringOption(context, 'expires')
  const expiresMs = expiresText === undefined ? undefined : parseDuration(expiresText)
  if (
    expiresText !== undefined &&
    (expiresMs === undefined || expiresMs < 300_000 || expiresMs > 43_200_000)
  ) {
    throw usageError(`--expires must be a duration from 5m to 12h, got ${JSON.stringify(expiresText)}`)
  }
  const maxText = stringOption(context, 'max-fragments')
  const maxFragments = maxText === undefined ? undefined : Number(maxText)
  if (
    maxText !== undefined &&
    !(Number.isInteger(maxFragments) && maxFragments! >= 1 && maxFragments! <= 5000)
  ) {
    throw usageError(`--max-fragments must be a whole number from 1 to 5000, got ${JSON.stringify(maxText)}`)
  }
  const dash = flag(context, 'dash')
  const selector = {
    FragmentSelectorType: selectorType(context),
    ...(start === undefined
      ? {}
      : {
          TimestampRange: {
            StartTimestamp: new Date(start),
            ...(end === undefined ? {} : { EndTimestamp: new Date(end) }),
          },
        }),
  }
  const common = {
    StreamName: streamName,
    PlaybackMode: mode,
    ...(expiresMs === undefined ? {} : { Expires: Math.round(expiresMs / 1000) }),
  }
  const session = await openArchivedMedia(
    context,
    streamName,
    dash ? 'GET_DASH_STREAMING_SESSION_URL' : 'GET_HLS_STREAMING_SESSION_URL',
  )
  let url: string
  try {
    if (dash) {
      const output = await session.client.send(
        new GetDASHStreamingSessionURLCommand({
          ...common,
          DASHFragmentSelector: selector,
          ...(maxFragments === undefined ? {} : { MaxManifestFragmentResults: maxFragments }),
        }),
      )
      url = output.DASHStreamingSessionURL!
    } else {
      const output = await session.client.send(
        new GetHLSStreamingSessionURLCommand({
          ...common,
          HLSFragmentSelector: selector,
          ...(maxFragments === undefined ? {} : { MaxMediaPlaylistFragmentResults: maxFragments }),
        }),
      )
      url = output.HLSStreamingSessionURL!
    }
  } finally {
    session.close()
  }
  const expiresAt = now + (expiresMs ?? 300_000)
  const protocol = dash ? 'DASH' : 'HLS'
  if (context.global.json) {
    context.io.stdout.write(
      `${JSON.stringify({ type: 'session', protocol: protocol.toLowerCase(), mode, url, expires: formatTime(expiresAt) })}\n`,
    )
  } else {
    context.io.stdout.write(`${url}\n`)
    if (context.io.stderr.isTTY === true) {
      context.io.stderr.write(
        `${protocol} session (${mode}) of ${streamName}, valid until ${formatTime(expiresAt)}: play it with ffplay, VLC, Safari or hls.js\n`,
      )
    }
  }
  if (flag(context, 'open')) {
    const problem = await openUrl(url)
    if (problem !== undefined)
      context.io.stderr.write(`could not open the URL (${problem}): open it yourself\n`)
  }
  return 0
}
