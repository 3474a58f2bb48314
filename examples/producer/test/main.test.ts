import { expect, test } from 'vitest'
import { defaultFile, produceFile } from '../src/main.ts'

test('the example puts clusters.mkv through the producer: 8 fragments acknowledged PERSISTED, one line per ack', async () => {
  const lines: string[] = []
  const stats = await produceFile(defaultFile, (line) => lines.push(line))
  expect(lines[0]).toMatch(/^putting .*clusters\.mkv into producer-example$/)
  for (const eventType of ['BUFFERING', 'RECEIVED', 'PERSISTED']) {
    expect(lines.filter((line) => line.startsWith(eventType))).toHaveLength(8)
  }
  expect(lines).toContain('PERSISTED fragment 7 (timecode 13997)')
  expect(lines.some((line) => line.startsWith('ERROR') || line.startsWith('skipped'))).toBe(false)
  expect(lines.at(-1)).toMatch(/^done: 8\/8 fragments acknowledged, \d+ bytes sent in 1 session\(s\)/)
  expect(stats.fragments).toMatchObject({ accepted: 8, acknowledged: 8, persisted: 8 })
})
