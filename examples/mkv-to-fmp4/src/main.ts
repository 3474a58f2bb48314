// Turns the fragments of an MKV file or a saved GetMedia body into one fragmented MP4 file: the init segment,
// then one moof+mdat per Cluster (KVS fragment), written as they come (the frames are never copied).
// Run: pnpm --filter @kvs-streams/example-mkv-to-fmp4 build && pnpm --filter @kvs-streams/example-mkv-to-fmp4 start [in.mkv] [out.mp4]
// (out.mp4 defaults to clusters.mp4 in the temporary folder)

import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { segmentFmp4 } from '@kvs-streams/fmp4'

/** The default input, found from this file's folder (src/ or dist/ alike): a real GetMedia capture. */
export const defaultInput = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

/** Converts `input` to `output`; prints the codecs and one line per media segment. Resolves with the segment count. */
export async function mkvToFmp4(
  input: string,
  output: string,
  print: (line: string) => void = console.log,
): Promise<number> {
  const file = createWriteStream(output)
  let segments = 0
  for await (const event of segmentFmp4(createReadStream(input))) {
    if (event.type === 'init-segment') {
      print(`${basename(input)}: ${event.mimeType}`)
      if (!file.write(event.data)) await once(file, 'drain')
      continue
    }
    segments++
    const runs = event.runs.map((run) => `track ${run.trackId}: ${run.sampleCount} samples`).join(', ')
    print(
      `  segment ${event.sequenceNumber}: ${event.byteLength} bytes at ${event.startMs.toFixed(0)} ms, ${runs}`,
    )
    // The parts are the box headers and views of the input's frames: write them in order.
    for (const part of event.parts) if (!file.write(part)) await once(file, 'drain')
  }
  file.end()
  await once(file, 'finish')
  print(`${basename(output)}: ${segments} media segments`)
  return segments
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await mkvToFmp4(process.argv[2] ?? defaultInput, process.argv[3] ?? join(tmpdir(), 'clusters.mp4'))
}
