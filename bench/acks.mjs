// Throughput of @kvs-streams/acks (built package) against a naive newline-split + JSON.parse baseline.
// Usage: pnpm --filter @kvs-streams/acks build && node bench/acks.mjs
import { createAckDecoder } from '../packages/acks/dist/index.js'

const ackCount = 1_000_000
const readSize = 16 * 1024
const rounds = 5

// A realistic body: one compact ack per line, as in the service's logs; for fragment k the service sends
// BUFFERING(k) then RECEIVED(k-1) and PERSISTED(k-1), with 47-digit fragment numbers and epoch-ms timecodes.
function buildBody() {
  const lines = []
  let fragmentNumber = 91343852333182006796860291068687794162371630095n
  const numbers = []
  const timecodes = []
  for (let k = 0; lines.length < ackCount; k++) {
    fragmentNumber += 4951760157141521099596496896n + BigInt(k % 7)
    numbers.push(fragmentNumber.toString())
    timecodes.push(1677613818261 + k * 2000 + (k % 3))
    lines.push(
      `{"EventType":"BUFFERING","FragmentTimecode":${timecodes[k]},"FragmentNumber":"${numbers[k]}"}\n`,
    )
    for (const type of ['RECEIVED', 'PERSISTED']) {
      if (k === 0 || lines.length >= ackCount) continue
      lines.push(
        `{"EventType":"${type}","FragmentTimecode":${timecodes[k - 1]},"FragmentNumber":"${numbers[k - 1]}"}\n`,
      )
    }
  }
  return new TextEncoder().encode(lines.join(''))
}

function reads(body) {
  const chunks = []
  for (let offset = 0; offset < body.length; offset += readSize)
    chunks.push(body.subarray(offset, offset + readSize))
  return chunks
}

function decodeWithPackage(chunks) {
  const decoder = createAckDecoder()
  let acks = 0
  for (const chunk of chunks) {
    for (const event of decoder.push(chunk)) if (event.type === 'ack') acks++
  }
  decoder.end()
  return acks
}

function decodeNaive(chunks) {
  const textDecoder = new TextDecoder()
  let rest = ''
  let acks = 0
  for (const chunk of chunks) {
    const lines = (rest + textDecoder.decode(chunk, { stream: true })).split('\n')
    rest = lines.pop()
    for (const line of lines) if (line !== '' && JSON.parse(line).EventType !== undefined) acks++
  }
  rest += textDecoder.decode()
  if (rest !== '' && JSON.parse(rest).EventType !== undefined) acks++
  return acks
}

/** Wall-clock milliseconds (what RESULT reports) and process CPU milliseconds (steadier on a busy host). */
function timeOnce(run, chunks) {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const acks = run(chunks)
  const elapsed = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  if (acks !== ackCount) throw new Error(`${run.name} decoded ${acks} acks, expected ${ackCount}`)
  return { wall: elapsed, cpu: (cpu.user + cpu.system) / 1000 }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const body = buildBody()
const chunks = reads(body)
const packageTimes = []
const naiveTimes = []
for (let round = 0; round < rounds; round++) {
  packageTimes.push(timeOnce(decodeWithPackage, chunks))
  naiveTimes.push(timeOnce(decodeNaive, chunks))
}
const packageMs = median(packageTimes.map((time) => time.wall))
const naiveMs = median(naiveTimes.map((time) => time.wall))
const packageCpuMs = median(packageTimes.map((time) => time.cpu))
const naiveCpuMs = median(naiveTimes.map((time) => time.cpu))
console.log(
  `body ${(body.length / 1e6).toFixed(1)} MB, ${chunks.length} reads of ${readSize} B; median of ${rounds}: ` +
    `package ${packageMs.toFixed(0)} ms (cpu ${packageCpuMs.toFixed(0)} ms), ` +
    `naive ${naiveMs.toFixed(0)} ms (cpu ${naiveCpuMs.toFixed(0)} ms)`,
)
console.log(
  `RESULT acks_per_sec=${Math.round((ackCount / packageMs) * 1000)} acks_vs_naive=${(naiveMs / packageMs).toFixed(2)}`,
)
