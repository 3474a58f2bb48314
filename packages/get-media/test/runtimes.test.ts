import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))

describe('the pure cores outside Node', () => {
  // Deno comes from the npm registry (the `deno` package ships its official binary), like Node 22/24 in CI.
  test('Deno runs the EBML reader, chunker, ack decoder and GetMedia parser on the fixtures, with web APIs only', async () => {
    const { stdout } = await run(
      'npx',
      ['-y', 'deno@2', 'run', '--allow-read', 'scripts/runtimes/pure-cores-smoke.mjs'],
      { cwd: root, timeout: 170_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
    )
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
    expect(result).toMatchObject({
      chunkerFragments: 8,
      getMediaFragments: 5,
      getMediaFrames: 300,
      acks: ['BUFFERING', 'RECEIVED', 'PERSISTED'],
    })
    expect(String(result.runtime)).toMatch(/^deno 2\./)
  }, 180_000)
})
