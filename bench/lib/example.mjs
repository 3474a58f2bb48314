// A template bench: copy to bench/<name>.mjs (and fix the import paths) to make a real one.
// Run alone with `node --expose-gc bench/lib/example.mjs`; bench/run.mjs runs only bench/*.mjs.
//
// It measures a Node Transform that passes chunks through untouched against the same file read with no
// transform (the baseline), on both cached media files, and prints one RESULT line.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  compareRounds,
  ensureBenchMedia,
  formatMBs,
  formatMiB,
  mbPerSecond,
  peakRss,
  result,
} from './media.mjs'

const rounds = 5
const media = await ensureBenchMedia()
const fields = { bench: 'example', rounds }

for (const [name, path] of Object.entries(media)) {
  const { size } = await stat(path)
  const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() })
  const passThrough = () => new Transform({ transform: (chunk, _encoding, done) => done(null, chunk) })
  console.log(`example: ${name}, ${(size / 1e6).toFixed(1)} MB, ${rounds} rounds each`)
  const { baseline, candidate, ratio } = await compareRounds(
    {
      baseline: () => pipeline(createReadStream(path), sink()),
      candidate: () => pipeline(createReadStream(path), passThrough(), sink()),
    },
    rounds,
  )
  console.log(
    `  read only:         ${formatMBs(size, baseline.median)} (median ${baseline.median.toFixed(1)} ms)`,
  )
  console.log(
    `  read + Transform:  ${formatMBs(size, candidate.median)} (median ${candidate.median.toFixed(1)} ms)`,
  )
  fields[`${name}MBs`] = mbPerSecond(size, candidate.median)
  fields[`${name}Ratio`] = ratio
}

console.log(`example: peak RSS ${formatMiB(peakRss())}`)
result({ ...fields, peakRssMiB: peakRss() / 2 ** 20 })
