import { checkFragmentMetadata } from '@kvs-streams/producer'
import { type CommandContext, flag, stringOption } from './command.ts'
import { retentionHours } from './commands/streams.ts'
import { usageError } from './errors.ts'
import { INPUT_FORMATS, type InputFormat } from './input-stage.ts'
import { parseTime } from './time.ts'

/** The options of `kvs put` that hold for every stream it puts, checked before anything is sent. */
export interface PutSettings {
  /** `--create`, with `--retention-hours` and `--media-type`. */
  create: boolean
  retentionHours: number
  mediaType: string
  /** `--timecode-type relative` (the default). */
  relative: boolean
  /** `--producer-start` as given (checked): a time relative to when each stream starts. */
  producerStart: string | undefined
  /** `--format`: undefined to tell each input's format from its first bytes. */
  format: InputFormat | undefined
  /** `--fps` of raw video. */
  fps: number | undefined
  /** `--tag NAME=VALUE`, on every fragment. */
  tags: [string, string][]
  /** Not `--no-repackage`. */
  repackage: boolean
  /** Not `--keep-service-tags`. */
  stripServiceTags: boolean
}

/** Checks the options of `kvs put` that apply to every stream; usage errors name the option. */
export function putSettings(context: CommandContext): PutSettings {
  const timecodeType = (stringOption(context, 'timecode-type') ?? 'relative').toLowerCase()
  if (timecodeType !== 'relative' && timecodeType !== 'absolute') {
    throw usageError(`--timecode-type must be relative or absolute, got ${JSON.stringify(timecodeType)}`)
  }
  const create = flag(context, 'create')
  if (
    !create &&
    (stringOption(context, 'retention-hours') !== undefined ||
      stringOption(context, 'media-type') !== undefined)
  ) {
    throw usageError('--retention-hours and --media-type go with --create')
  }
  const hours = create ? retentionHours(context, 24) : 24
  const format = inputFormatOption(context)
  const fpsText = stringOption(context, 'fps')
  const fps = fpsText === undefined ? undefined : parseFps(fpsText, '--fps')
  if (fps !== undefined) checkFpsFormat(format, '--fps')
  const tags = tagOptions(context)
  const producerStartText = stringOption(context, 'producer-start')
  if (producerStartText !== undefined && parseTime(producerStartText, Date.now()) === undefined) {
    throw usageError(
      `--producer-start must be now, an ISO 8601 time, epoch seconds or -<duration>, got ${JSON.stringify(producerStartText)}`,
    )
  }
  return {
    create,
    retentionHours: hours,
    mediaType: stringOption(context, 'media-type') ?? 'video/h264',
    relative: timecodeType === 'relative',
    producerStart: producerStartText,
    format,
    fps,
    tags,
    repackage: !flag(context, 'no-repackage'),
    stripServiceTags: !flag(context, 'keep-service-tags'),
  }
}

/** `--format`: undefined when absent (the format is then told from the input's first bytes). */
function inputFormatOption(context: CommandContext): InputFormat | undefined {
  const text = stringOption(context, 'format')
  return text === undefined ? undefined : parseInputFormat(text, '--format')
}

/** A format name (`--format`, a list's `format`): one of `INPUT_FORMATS`, any case. */
export function parseInputFormat(text: string, what: string): InputFormat {
  const format = text.toLowerCase() as InputFormat
  if (!INPUT_FORMATS.includes(format)) {
    throw usageError(`${what} must be one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(text)}`)
  }
  return format
}

/** Frames per second of raw H.264/H.265 (their streams carry no timestamps): a number from 0 to 1000. */
export function parseFps(text: string, what: string): number {
  const fps = Number(text)
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    throw usageError(`${what} must be a number of frames per second (0-1000), got ${JSON.stringify(text)}`)
  }
  return fps
}

/** A frame rate goes with raw video only: MKV and AAC have timestamps. */
export function checkFpsFormat(format: InputFormat | undefined, what: string): void {
  if (format === 'mkv' || format === 'aac') {
    throw usageError(`${what} goes with raw video (--format h264 or h265), not ${format}: it has timestamps`)
  }
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
