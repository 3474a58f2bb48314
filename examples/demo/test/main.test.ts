import { readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { PassThrough } from 'node:stream'
import { expect, test } from 'vitest'
import { clusterElements } from '../src/clusters.ts'
import { defaultInput, runDemo } from '../src/main.ts'

test('the demo puts the sample into the embedded emulator and gets every cluster back byte-identical', async () => {
  const lines: string[] = []
  const progress = new PassThrough()
  progress.resume()
  const result = await runDemo({ print: (line) => lines.push(line), progressOutput: progress })
  try {
    expect(result.target).toBe('emulator')
    expect(result.identical).toBe(true)
    expect(result.sent).toBe(8)
    expect(result.received).toBe(8)
    expect(result.fragments.map((fragment) => fragment.identical)).toEqual(Array(8).fill(true))
    expect(result.fragments.every((fragment) => /^\d{40,}$/.test(fragment.fragmentNumber ?? ''))).toBe(true)
    expect(result.fragments.every((fragment) => (fragment.ackLatencyMs ?? -1) >= 0)).toBe(true)
    // The file written holds the same 8 clusters as the input.
    const input = clusterElements(new Uint8Array(await readFile(defaultInput)))
    const output = clusterElements(new Uint8Array(await readFile(result.output)))
    expect(output.map((cluster) => cluster.byteLength)).toEqual(input.map((cluster) => cluster.byteLength))
    expect(lines).toContain('4. round trip OK: all 8 clusters (1,195,238 bytes) came back byte-identical')
    expect(lines.filter((line) => line.endsWith('✓'))).toHaveLength(8)
    // It ends with an HLS session of what was put and the emulator's console.
    expect(result.hlsSegments).toBe(8)
    expect(result.hlsUrl).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/hls\/v1\/getHLSMasterPlaylist\.m3u8\?SessionToken=/,
    )
    expect(result.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(lines.slice(-3)).toEqual([
      `5. HLS (ON_DEMAND, 8 media segments): ${result.hlsUrl}`,
      `   console: ${result.consoleUrl}`,
      '   (both served by the emulator in this process: they stop working when the demo exits; `pnpm demo -- --serve` keeps it running)',
    ])
  } finally {
    await rm(dirname(result.output), { recursive: true, force: true })
  }
})

test('with serveUntil (--serve) the console and the HLS URL printed keep working until it settles', async () => {
  const lines: string[] = []
  const progress = new PassThrough()
  progress.resume()
  let stop!: () => void
  const serveUntil = new Promise<void>((resolve) => (stop = resolve))
  const running = runDemo({ print: (line) => lines.push(line), progressOutput: progress, serveUntil })
  while (!lines.includes('   serving them until Ctrl-C'))
    await new Promise((resolve) => setTimeout(resolve, 20))
  const hlsUrl = lines.find((line) => line.startsWith('5. HLS'))!.split(': ')[1]!
  const consoleUrl = lines.find((line) => line.startsWith('   console: '))!.slice('   console: '.length)
  const page = await fetch(consoleUrl)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('/console/hls.js')
  const master = await fetch(hlsUrl)
  expect(master.status).toBe(200)
  expect(await master.text()).toContain('#EXT-X-STREAM-INF')
  stop()
  const result = await running
  await rm(dirname(result.output), { recursive: true, force: true })
  await expect(fetch(consoleUrl)).rejects.toThrow()
})
