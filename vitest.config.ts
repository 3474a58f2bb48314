import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = fileURLToPath(new URL('./packages/', import.meta.url))

// Tests run against the TypeScript sources of every workspace package, so no build is needed first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@kvs-streams\/([a-z-]+)\/node$/, replacement: `${packages}$1/src/node.ts` },
      { find: /^@kvs-streams\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
