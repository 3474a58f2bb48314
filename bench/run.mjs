#!/usr/bin/env node
// Runs the benchmarks: every bench/*.mjs except this file, in name order, each as its own
// `node --expose-gc <file>` process (so one bench's heap, JIT state and peak RSS never affect another).
// Output streams through as it comes; every line starting with `RESULT ` is collected and all of them are
// printed again in one block at the end.
//
//   node bench/run.mjs              # all benches
//   node bench/run.mjs chunker ack  # only files whose name contains "chunker" or "ack"
//
// Exits 1 if any bench exits non-zero (the others still run), 2 if a filter matches no file.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const root = join(benchDir, '..')
const self = basename(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)

const all = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.mjs') && entry.name !== self)
  .map((entry) => entry.name)
  .sort()
const selected =
  filters.length === 0 ? all : all.filter((name) => filters.some((filter) => name.includes(filter)))

if (selected.length === 0) {
  if (filters.length > 0) {
    console.error(
      `bench: no bench/*.mjs file matches ${filters.join(', ')} (have: ${all.join(', ') || 'none'})`,
    )
    process.exit(2)
  }
  console.log('bench: no bench files yet (bench/*.mjs)')
  process.exit(0)
}

/** @type {{ file: string, line: string }[]} */
const results = []
/** @type {{ file: string, code: number | null, signal: string | null }[]} */
const failures = []
let current

// Forward Ctrl-C to the running bench instead of orphaning it; the loop below then stops.
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true
    current?.kill(signal)
  })
}

for (const name of selected) {
  if (interrupted) break
  const file = `bench/${name}`
  console.log(`\n── ${file} ${'─'.repeat(Math.max(0, 60 - file.length))}`)
  const started = Date.now()
  const { code, signal } = await runBench(file)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (code === 0) {
    console.log(`── ${file}: ok in ${seconds} s`)
  } else {
    failures.push({ file, code, signal })
    console.log(`── ${file}: FAILED (${signal ?? `exit code ${code}`}) after ${seconds} s`)
  }
}

console.log(`\n── results ${'─'.repeat(55)}`)
for (const { line } of results) console.log(line)
if (results.length === 0) console.log('(no RESULT lines)')
for (const { file, code, signal } of failures)
  console.log(`FAILED ${file} (${signal ?? `exit code ${code}`})`)
process.exitCode = failures.length > 0 || interrupted ? 1 : 0

function runBench(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    current = child
    let pending = ''
    const onLine = (line) => {
      process.stdout.write(`${line}\n`)
      if (line.startsWith('RESULT ')) results.push({ file, line })
    }
    child.stdout.setEncoding('utf8').on('data', (text) => {
      const lines = (pending + text).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    })
    child.on('error', (error) => {
      console.error(`bench: could not start ${file}: ${error.message}`)
      resolve({ code: 1, signal: null })
    })
    child.on('close', (code, signal) => {
      if (pending !== '') onLine(pending)
      current = undefined
      resolve({ code, signal })
    })
  })
}
