import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { paginateGetImages } from '@aws-sdk/client-kinesis-video-archived-media'
import { openArchivedMedia, selectorType, streamArgument, timeOption } from '../archived-media.ts'
import { type CommandContext, stringOption } from '../command.ts'
import { CliError, usageError } from '../errors.ts'
import { parseDuration } from '../time.ts'

function integerOption(context: CommandContext, name: string, min: number, max: number): number | undefined {
  const text = stringOption(context, name)
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`)
  }
  return value
}

/**
 * `kvs images <stream> --start --end --every 3s -o dir/`: GetImages page by page, one file per image
 * (`<stream>-<time>.jpg`), a line per image and a summary on stderr.
 */
export async function imagesCommand(context: CommandContext): Promise<number> {
  const streamName = streamArgument(context, 'images')
  const now = Date.now()
  const start = timeOption(context, 'start', now)
  const end = timeOption(context, 'end', now)
  if (start === undefined || end === undefined) {
    throw usageError('kvs images needs --start and --end', [
      'Example: kvs images my-stream --start -1m --end now -o frames/',
    ])
  }
  const everyText = stringOption(context, 'every') ?? '3s'
  const every = parseDuration(everyText)
  if (every === undefined || every <= 0) {
    throw usageError(`--every must be a duration such as 3s or 10s, got ${JSON.stringify(everyText)}`)
  }
  const formatText = (stringOption(context, 'format') ?? 'jpeg').toLowerCase()
  if (formatText !== 'jpeg' && formatText !== 'jpg' && formatText !== 'png') {
    throw usageError(`--format must be jpeg or png, got ${JSON.stringify(formatText)}`)
  }
  const format = formatText === 'png' ? 'PNG' : 'JPEG'
  const width = integerOption(context, 'width', 1, 3840)
  const height = integerOption(context, 'height', 1, 2160)
  if (width !== undefined && height === undefined) {
    throw usageError(
      '--width needs --height (the service scales to both, or to --height alone keeping the aspect ratio)',
    )
  }
  const quality = integerOption(context, 'quality', 1, 100)
  const directory = stringOption(context, 'out') ?? '.'
  try {
    await mkdir(directory, { recursive: true })
  } catch (error) {
    throw new CliError('ERR_KVS_CLI_FILE', `cannot create ${directory}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const extension = format === 'PNG' ? 'png' : 'jpg'
  const session = await openArchivedMedia(context, streamName, 'GET_IMAGES')
  const counts = { written: 0, noMedia: 0, mediaError: 0 }
  const log = (line: Record<string, unknown>, text: string) =>
    context.io.stderr.write(context.global.json ? `${JSON.stringify(line)}\n` : `${text}\n`)
  try {
    const pages = paginateGetImages(
      { client: session.client },
      {
        StreamName: streamName,
        ImageSelectorType: selectorType(context),
        StartTimestamp: new Date(start),
        EndTimestamp: new Date(end),
        SamplingInterval: Math.round(every),
        Format: format,
        ...(quality === undefined ? {} : { FormatConfig: { JPEGQuality: String(quality) } }),
        ...(width === undefined ? {} : { WidthPixels: width }),
        ...(height === undefined ? {} : { HeightPixels: height }),
      },
    )
    for await (const page of pages) {
      for (const image of page.Images ?? []) {
        const time = image.TimeStamp?.toISOString() ?? 'unknown'
        if (image.ImageContent === undefined) {
          if (image.Error === 'NO_MEDIA') counts.noMedia++
          else counts.mediaError++
          log({ type: 'image', time, error: image.Error }, `${time}  ${image.Error ?? 'no image'}`)
          continue
        }
        // Colons are not allowed in Windows file names: 2026-11-28T12-00-03.000Z.
        const path = join(directory, `${streamName}-${time.replace(/:/g, '-')}.${extension}`)
        const bytes = Buffer.from(image.ImageContent, 'base64')
        try {
          await writeFile(path, bytes)
        } catch (error) {
          throw new CliError('ERR_KVS_CLI_FILE', `cannot write ${path}: ${(error as Error).message}`, {
            cause: error,
          })
        }
        counts.written++
        log({ type: 'image', time, path, bytes: bytes.length }, `${time}  ${path}`)
      }
    }
  } finally {
    session.close()
  }
  log(
    {
      type: 'summary',
      images: counts.written,
      noMedia: counts.noMedia,
      mediaError: counts.mediaError,
      out: directory,
    },
    `${counts.written} image${counts.written === 1 ? '' : 's'} in ${directory}` +
      (counts.noMedia + counts.mediaError === 0
        ? ''
        : `; no image at ${counts.noMedia + counts.mediaError} time${counts.noMedia + counts.mediaError === 1 ? '' : 's'} (NO_MEDIA ${counts.noMedia}, MEDIA_ERROR ${counts.mediaError})`),
  )
  return 0
}
