import { dirname, resolve } from 'node:path'
import { checkFragmentMetadata } from '@kvs-streams/producer'
import { type CliError, usageError } from './errors.ts'
import type { InputFormat } from './input-stage.ts'
import { checkFpsFormat, parseFps, parseInputFormat } from './put-settings.ts'

/** One line of a `kvs put --many` list: a stream and where its media comes from. */
export interface FleetEntry {
  /** Line number in the list, from 1. */
  line: number
  stream: string
  /** The path as written in the list. */
  file: string
  /** The path to open: relative paths are taken from the list's folder. */
  path: string
  /** The line's `format` (JSON lines), else `--format`'s. */
  format?: InputFormat | undefined
  /** The line's `fps` (JSON lines). */
  fps?: number | undefined
  /** The line's `tags` (JSON lines), added to `--tag`'s. */
  tags: [string, string][]
}

/** A stream name as KVS takes it: 1-256 letters, digits, `_`, `.` and `-`. */
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,256}$/

const JSON_FIELDS = new Set(['stream', 'file', 'format', 'fps', 'tags'])

/** The usage line of `kvs put --many`, last in its usage errors (instead of `kvs put`'s own). */
export const FLEET_USAGE = 'Usage: kvs put --many <list> [options]'

/** How a line of the list looks, for the usage errors. */
export const FLEET_LIST_HINTS = [
  'Each line is "<stream> <file|fifo>" (e.g. cam-1 /run/cams/cam-1.mkv), or a JSON object:',
  '  {"stream":"cam-1","file":"cam 1.mkv","format":"h264","fps":30,"tags":{"site":"lab"}}',
  'Lines starting with # and blank lines are skipped.',
]

/**
 * Reads the text of a `kvs put --many` list (named `listPath`): one source per line, `<stream> <file|fifo>`
 * separated by spaces or tabs, or a JSON object with `stream`, `file` and optionally `format`, `fps` and
 * `tags`; `#` starts a comment (at the start of a line, or after a space); blank lines are skipped. Relative
 * paths are taken from the list's folder. Throws a usage error naming the line of the first problem.
 */
export function parseFleetList(text: string, listPath: string): FleetEntry[] {
  const folder = dirname(listPath)
  const entries: FleetEntry[] = []
  const lineOf = new Map<string, number>()
  const lines = text.split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = index + 1
    const fail = (message: string, hints: readonly string[] = FLEET_LIST_HINTS): CliError =>
      usageError(`${listPath} line ${line}: ${message}`, [...hints, FLEET_USAGE])
    const trimmed = raw.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    let entry: Omit<FleetEntry, 'path' | 'line'>
    if (trimmed.startsWith('{')) entry = jsonLine(trimmed, fail)
    else {
      const fields = trimmed
        .replace(/\s#.*$/, '')
        .trim()
        .split(/\s+/)
      if (fields.length !== 2) {
        throw fail(
          `expected "<stream> <file|fifo>", got ${fields.length} field${fields.length === 1 ? '' : 's'}: ${JSON.stringify(trimmed)}`,
          fields.length > 2
            ? [
                'A path with spaces goes in a JSON line: {"stream":"cam-1","file":"/videos/cam 1.mkv"}',
                ...FLEET_LIST_HINTS.slice(2),
              ]
            : FLEET_LIST_HINTS,
        )
      }
      entry = { stream: fields[0]!, file: fields[1]!, tags: [] }
    }
    if (!STREAM_NAME.test(entry.stream)) {
      throw fail(
        `${JSON.stringify(entry.stream)} is not a stream name (1-256 letters, digits, _ . and -)`,
        [],
      )
    }
    if (entry.file === '-') {
      throw fail('stdin (-) cannot be one of many sources: give a file, or a FIFO an encoder writes to', [
        'e.g. mkfifo cam-1.mkv; ffmpeg -i rtsp://… -c copy -f matroska cam-1.mkv &',
      ])
    }
    if (entry.file === '') throw fail('the file is empty', [])
    const first = lineOf.get(entry.stream)
    if (first !== undefined) {
      throw fail(
        `stream ${entry.stream} is already on line ${first}: a stream takes one producer at a time`,
        [],
      )
    }
    lineOf.set(entry.stream, line)
    entries.push({ ...entry, line, path: resolve(folder, entry.file) })
  }
  if (entries.length === 0) {
    throw usageError(`${listPath} lists no sources`, [...FLEET_LIST_HINTS, FLEET_USAGE])
  }
  return entries
}

/** A JSON line: `{"stream":…,"file":…}` with optional `format`, `fps` and `tags`. */
function jsonLine(
  text: string,
  fail: (message: string, hints?: readonly string[]) => CliError,
): Omit<FleetEntry, 'path' | 'line'> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw fail(`not valid JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a JSON object')
  const object = value as Record<string, unknown>
  const unknown = Object.keys(object).filter((key) => !JSON_FIELDS.has(key))
  if (unknown.length > 0) {
    throw fail(
      `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((key) => JSON.stringify(key)).join(', ')} (known: stream, file, format, fps, tags)`,
    )
  }
  const { stream, file, format, fps, tags } = object
  if (typeof stream !== 'string') throw fail('"stream" must be a string')
  if (typeof file !== 'string') throw fail('"file" must be a string')
  const entry: Omit<FleetEntry, 'path' | 'line'> = { stream, file, tags: [] }
  const rethrow = (check: () => void): void => {
    try {
      check()
    } catch (error) {
      throw fail((error as Error).message, [])
    }
  }
  if (format !== undefined) {
    if (typeof format !== 'string') throw fail('"format" must be a string')
    rethrow(() => {
      entry.format = parseInputFormat(format, '"format"')
    })
  }
  if (fps !== undefined) {
    if (typeof fps !== 'number') throw fail('"fps" must be a number')
    rethrow(() => {
      entry.fps = parseFps(String(fps), '"fps"')
      checkFpsFormat(entry.format, '"fps"')
    })
  }
  if (tags !== undefined) {
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
      throw fail('"tags" must be an object of names and string values, e.g. {"site":"lab"}')
    }
    for (const [name, tagValue] of Object.entries(tags)) {
      if (typeof tagValue !== 'string') throw fail(`tag ${name}: the value must be a string`)
      const problem = checkFragmentMetadata(name, tagValue)
      if (problem !== undefined) throw fail(`tag ${name}: ${problem.message}`, [])
      entry.tags.push([name, tagValue])
    }
  }
  return entry
}
