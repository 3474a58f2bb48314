import { describe, expect, test } from 'vitest'
import { defaultFile, printFragments } from '../src/main.ts'

describe('the parse-get-media example', () => {
  test('prints one line per fragment of the renderer capture', async () => {
    const lines: string[] = []
    await printFragments(defaultFile, (line) => lines.push(line))
    expect(lines).toHaveLength(8)
    expect(lines[0]).toBe(
      '91343852333181432392682062609776234230823574155  server 2018-02-23T21:57:49.070Z  59 frames (1 key) 0–1921 ms  150022 bytes  7336747 ms behind now',
    )
    expect(lines[7]).toMatch(
      /^91343852333181432427344383709766881962776549716 .* 31 frames \(1 key\) 13997–14985 ms/,
    )
  })
})
