import { expect, test } from 'vitest'
import { defaultFile, putFile } from '../src/main.ts'

test('the example puts clusters.mkv and prints BUFFERING, RECEIVED and PERSISTED for each of its 8 fragments', async () => {
  const lines: string[] = []
  await putFile(defaultFile, (line) => lines.push(line))
  expect(lines[0]).toMatch(/^putting .*clusters\.mkv into put-file-example at http:\/\/127\.0\.0\.1:\d+$/)
  for (const eventType of ['BUFFERING', 'RECEIVED', 'PERSISTED']) {
    expect(lines.filter((line) => line.startsWith(eventType))).toHaveLength(8)
  }
  expect(lines.some((line) => line.startsWith('ERROR'))).toBe(false)
})
