// Splits an MKV file into the fragments a PutMedia session would send (one per Cluster) and prints them,
// with every KVS rule they break, before any byte leaves the process.
// Run: pnpm --filter @kvs-streams/example-chunk-file build && pnpm --filter @kvs-streams/example-chunk-file start [file.mkv]
import { createReadStream, statSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type ChunkerEvent, chunkClusters, type HeaderEvent, type Violation } from '@kvs-streams/chunker'

/** The default input, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

const trackTypes: Record<number, string> = { 1: 'video', 2: 'audio', 17: 'subtitle' }
const integer = new Intl.NumberFormat('en-US')
const ms = (value: number) => value.toFixed(1)

/**
 * Chunks `file` and prints its header, a table of its fragments, its violations and a one-line summary.
 * Resolves with the error that stopped the input (truncated or corrupt Matroska) after printing what came
 * before it, or `undefined`.
 */
export async function chunkFile(file: string, print: (line: string) => void = console.log): Promise<unknown> {
  const size = statSync(file).size
  const headers: HeaderEvent[] = []
  const violations: Violation[] = []
  const rows = [['#', 'timecode', 'start–end ms', 'duration ms', 'bytes', 'key frame', 'tracks', 'blocks']]
  let bytes = 0
  let blocks = 0
  let failure: unknown

  // 'emit' reports each broken rule and goes on; the default, 'throw', stops at the first one.
  const events: AsyncIterable<ChunkerEvent> = chunkClusters(createReadStream(file), { onViolation: 'emit' })
  try {
    for await (const event of events) {
      if (event.type === 'header') headers.push(event)
      else if (event.type === 'violation') violations.push(event.violation)
      else if (event.type === 'fragment') {
        bytes += event.byteLength
        blocks += event.blockCount
        rows.push([
          String(event.index),
          String(event.timecode),
          `${ms(event.startMs)}–${ms(event.endMs)}`,
          ms(event.durationMs),
          integer.format(event.byteLength),
          event.keyframe ? 'yes' : 'NO',
          event.tracks.join(','),
          String(event.blockCount),
        ])
      }
    }
  } catch (error) {
    failure = error
  }

  print(`${basename(file)}: ${integer.format(size)} bytes`)
  const [header] = headers
  if (header !== undefined) {
    const more = headers.length > 1 ? ` (and ${headers.length - 1} more, one per extra Segment)` : ''
    print(
      `  header: ${integer.format(header.bytes.length)} bytes${more}, TimecodeScale ${header.timecodeScale} ns`,
    )
    for (const track of header.tracks) {
      print(`  track ${track.number}: ${trackTypes[track.type] ?? `type ${track.type}`}, ${track.codecId}`)
    }
  }
  if (rows.length > 1) {
    print('')
    printTable(rows, print)
  }
  if (violations.length > 0) {
    print('')
    printTable(
      [
        ['where', 'violation', 'ErrorId', 'message'],
        ...violations.map((violation) => [
          violation.fragmentIndex === undefined
            ? `byte ${violation.offset}`
            : `fragment ${violation.fragmentIndex}`,
          violation.kind,
          violation.errorId === undefined ? '-' : String(violation.errorId),
          violation.message,
        ]),
      ],
      print,
    )
  }
  print('')
  const problems = [
    ...(violations.length > 0 ? [`${violations.length} violation(s)`] : []),
    ...(failure === undefined ? [] : [`stopped by ${describe(failure)}`]),
  ]
  const verdict = problems.length === 0 ? 'ready for PutMedia' : problems.join(', ')
  const fragments = `${rows.length - 1} fragment${rows.length === 2 ? '' : 's'}`
  print(`${basename(file)}: ${fragments}, ${integer.format(bytes)} bytes, ${blocks} blocks: ${verdict}`)
  return failure
}

function describe(error: unknown): string {
  const { code, name, message } = error as { code?: string; name?: string; message?: string }
  return `${code ?? name ?? 'error'} (${message ?? String(error)})`
}

/** Prints rows as aligned columns: numbers right-aligned, text left-aligned. */
function printTable(rows: string[][], print: (line: string) => void): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  const numeric = widths.map((_, column) => rows.slice(1).every((row) => /^[\d,.]+$/.test(row[column]!)))
  for (const row of rows) {
    const cells = row.map((cell, column) =>
      numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
    )
    print(`  ${cells.join('  ')}`.trimEnd())
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    if ((await chunkFile(process.argv[2] ?? defaultFile)) !== undefined) process.exitCode = 1
  } catch (error) {
    console.error(describe(error))
    process.exitCode = 1
  }
}
