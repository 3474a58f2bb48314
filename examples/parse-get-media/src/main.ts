// Parses a recorded GetMedia response (8 fragments from the KVS parser library's tests) and prints one line
// per fragment as soon as its continuation-token tags are read.
// Run: pnpm --filter @kvs-streams/example-parse-get-media build && pnpm --filter @kvs-streams/example-parse-get-media start [file]
import { createReadStream } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseGetMedia } from '@kvs-streams/get-media/parser'

/** Prints one line per fragment of the GetMedia body in `file`. */
export async function printFragments(
  file: string,
  print: (line: string) => void = console.log,
): Promise<void> {
  let frames = 0
  let keyframes = 0
  let first = 0
  let last = 0
  let server = ''
  for await (const event of parseGetMedia(createReadStream(file))) {
    if (event.type === 'fragment-start') {
      frames = keyframes = 0
      server = event.serverTimestampMs === undefined ? '-' : new Date(event.serverTimestampMs).toISOString()
    } else if (event.type === 'frame') {
      if (frames++ === 0) first = event.timestampMs
      if (event.keyframe) keyframes++
      last = event.timestampMs
    } else if (event.type === 'fragment-end') {
      print(
        `${event.fragmentNumber ?? '(no number)'}  server ${server}  ${frames} frames (${keyframes} key) ` +
          `${first}–${last} ms  ${event.byteLength} bytes  ` +
          `${event.complete ? `${event.millisBehindNow} ms behind now` : 'incomplete'}`,
      )
    } else if (event.type === 'service-error') {
      print(`service error ${event.error.errorId ?? ''} ${event.error.errorCode ?? ''}`)
    }
  }
}

/** The default input, found from this file's folder (src/ or dist/ alike). */
export const defaultFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/kinesis_video_renderer_example_output.mkv', import.meta.url),
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await printFragments(process.argv[2] ?? defaultFile)
}
