import { verifyRequestSync } from '@kvs-streams/signer'
import { afterEach, expect, test, vi } from 'vitest'

afterEach(() => {
  vi.restoreAllMocks()
})

test('the example prints PutMedia headers whose signature verifies, and the steps behind it', async () => {
  const lines: string[] = []
  vi.spyOn(console, 'log').mockImplementation((line: string) => {
    lines.push(line)
  })
  await import('../src/main.ts')
  const output = lines.join('\n')
  const headers = Object.fromEntries(
    output
      .slice(output.indexOf('Headers to send:\n') + 17, output.indexOf('\n\nCanonical request:'))
      .split('\n')
      .map((line) => [
        line.trim().slice(0, line.trim().indexOf(':')),
        line.trim().slice(line.trim().indexOf(':') + 2),
      ]),
  )
  expect(headers).toMatchObject({
    'x-amzn-producer-start-timestamp': '1677613818.005',
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': '20230228T195018Z',
  })
  expect(headers).not.toHaveProperty('transfer-encoding')
  const result = verifyRequestSync(
    { method: 'POST', path: '/putMedia', headers },
    {
      lookupSecret: (id) =>
        id === 'AKIAIOSFODNN7EXAMPLE' ? 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' : undefined,
      region: 'us-west-2',
      now: Date.UTC(2023, 1, 28, 19, 50, 18),
    },
  )
  expect(result).toEqual({ ok: true, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', region: 'us-west-2' })
  expect(output).toContain(
    '\nCanonical request:\nPOST\n/putMedia\n\nhost:s-670061c1.kinesisvideo.us-west-2.amazonaws.com\n',
  )
  expect(output).toContain(`Signature: ${headers.authorization.slice(-64)}`)
})

test('the signer README quotes the example verbatim', async () => {
  const { readFile } = await import('node:fs/promises')
  const readme = await readFile(new URL('../../../packages/signer/README.md', import.meta.url), 'utf8')
  const main = await readFile(new URL('../src/main.ts', import.meta.url), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${main}\`\`\``)
})
