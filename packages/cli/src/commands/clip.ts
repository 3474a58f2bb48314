import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { GetClipCommand } from '@aws-sdk/client-kinesis-video-archived-media'
import { openArchivedMedia, selectorType, streamArgument, timeOption } from '../archived-media.ts'
import { type CommandContext, stringOption } from '../command.ts'
import { CliError, usageError } from '../errors.ts'
import { formatBytes } from '../format.ts'

/** `kvs clip <stream> --start --end -o clip.mp4`: GetClip, the MP4 written to a file or stdout. */
export async function clipCommand(context: CommandContext): Promise<number> {
  const streamName = streamArgument(context, 'clip')
  const now = Date.now()
  const start = timeOption(context, 'start', now)
  const end = timeOption(context, 'end', now)
  if (start === undefined || end === undefined) {
    throw usageError('kvs clip needs --start and --end', [
      'Example: kvs clip my-stream --start -2m --end -1m -o clip.mp4',
    ])
  }
  const target = stringOption(context, 'out') ?? (context.io.stdout.isTTY === true ? undefined : '-')
  if (target === undefined) {
    throw usageError('not writing video to a terminal', [
      'Write to a file with -o clip.mp4, or pipe stdout: kvs clip … | ffplay -',
    ])
  }
  const session = await openArchivedMedia(context, streamName, 'GET_CLIP')
  let bytes = 0
  try {
    const output = await session.client.send(
      new GetClipCommand({
        StreamName: streamName,
        ClipFragmentSelector: {
          FragmentSelectorType: selectorType(context),
          TimestampRange: { StartTimestamp: new Date(start), EndTimestamp: new Date(end) },
        },
      }),
    )
    const body = output.Payload as AsyncIterable<Uint8Array> | undefined
    if (body === undefined) throw new Error('GetClip returned no payload')
    const file: Writable = target === '-' ? context.io.stdout : createWriteStream(target)
    const failed = target === '-' ? undefined : once(file, 'error')
    try {
      for await (const chunk of body) {
        bytes += chunk.byteLength
        if (!file.write(chunk)) await Promise.race([once(file, 'drain'), ...(failed ? [failed] : [])])
      }
      if (target !== '-') {
        file.end()
        await Promise.race([once(file, 'finish'), failed!])
      }
    } catch (error) {
      throw new CliError('ERR_KVS_CLI_FILE', `cannot write ${target}: ${(error as Error).message}`, {
        cause: error,
      })
    }
  } finally {
    session.close()
  }
  const where = target === '-' ? 'stdout' : target
  context.io.stderr.write(
    context.global.json
      ? `${JSON.stringify({ type: 'clip', out: where, bytes })}\n`
      : `${where}: ${formatBytes(bytes)} MP4 clip of ${streamName}\n`,
  )
  return 0
}
