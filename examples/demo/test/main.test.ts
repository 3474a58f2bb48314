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
  } finally {
    await rm(dirname(result.output), { recursive: true, force: true })
  }
})
