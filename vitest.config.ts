import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = fileURLToPath(new URL('./packages/', import.meta.url))

// Tests run against the TypeScript sources of every workspace package, so no build is needed first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@kvs-streams\/([a-z-]+)\/node$/, replacement: `${packages}$1/src/node.ts` },
      { find: /^@kvs-streams\/transport\/web$/, replacement: `${packages}transport/src/web.ts` },
      { find: /^@kvs-streams\/get-media\/parser$/, replacement: `${packages}get-media/src/parse.ts` },
      { find: /^@kvs-streams\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
  test: {
    // CI asks for a JSON report beside the usual output, to print its closing "N passed, N failed" line.
    reporters: process.env.KVS_TEST_REPORT ? ['default', 'json'] : ['default'],
    ...(process.env.KVS_TEST_REPORT ? { outputFile: { json: process.env.KVS_TEST_REPORT } } : {}),
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    // Every response of every in-process emulator is checked against the service models (issue 11).
    setupFiles: ['packages/emulator/test/support/model-check-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
