import { expect, test } from 'vitest'
import { main } from '../src/main.ts'

test('the example creates an ACTIVE stream on an in-process emulator and prints its endpoint', async () => {
  const lines: string[] = []
  await main((line) => lines.push(line))
  expect(lines[0]).toMatch(/^endpoint: {3}http:\/\/127\.0\.0\.1:\d+$/)
  expect(lines).toContain('stream:     example-stream (ACTIVE, retention 24 h)')
  expect(lines[4]).toMatch(
    /^stream ARN: arn:aws:kinesisvideo:us-east-1:000000000000:stream\/example-stream\/\d+$/,
  )
})
