import { expect, test } from 'vitest'
import { defaultFile, putPerFragment } from '../src/main.ts'

test('the example puts each of the 8 fragments of clusters.mkv with its own request, each PERSISTED once', async () => {
  const lines: string[] = []
  const { sent, listed } = await putPerFragment(defaultFile, { print: (line) => lines.push(line) })
  expect(sent.map((fragment) => fragment.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  // The Cluster timecodes of clusters.mkv, as fixtures/SOURCES.md lists them.
  expect(sent[0]!.timecode).toBe(0)
  expect(sent[7]!.timecode).toBe(13997)
  expect(sent.every((fragment) => fragment.attempts === 1)).toBe(true)
  expect(new Set(sent.map((fragment) => fragment.fragmentNumber)).size).toBe(8)
  expect(sent.every((fragment) => /^\d{47}$/.test(fragment.fragmentNumber))).toBe(true)
  expect(lines.filter((line) => line.includes('PERSISTED as'))).toHaveLength(8)
  expect(lines).toContain('8 fragments stored with 8 requests')
  expect(listed.sort()).toEqual(sent.map((fragment) => fragment.fragmentNumber).sort())
})

test('a request dropped by the service is retried with the same fragment, and nothing is lost', async () => {
  const lines: string[] = []
  const { sent, listed } = await putPerFragment(defaultFile, {
    print: (line) => lines.push(line),
    // The 3rd and 6th requests (fragments 2 and 4) are cut after 1,000 body bytes.
    faults: (_stream, connectionIndex) =>
      connectionIndex === 2 || connectionIndex === 5 ? { dropAfterBytes: 1000 } : undefined,
  })
  expect(sent.map((fragment) => [fragment.index, fragment.attempts])).toEqual([
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 1],
    [4, 2],
    [5, 1],
    [6, 1],
    [7, 1],
  ])
  expect(lines.filter((line) => line.endsWith('sending it again'))).toHaveLength(2)
  expect(lines).toContain('8 fragments stored with 10 requests')
  // The service holds each fragment once: the cut requests stored nothing.
  expect(listed.sort()).toEqual(sent.map((fragment) => fragment.fragmentNumber).sort())
  expect(lines.at(-1)).toBe('ListFragments lists 8 fragments')
})

test('a fragment the service refuses with a non-retriable ERROR is not sent again', async () => {
  // The first request's first fragment gets ERROR 4006 (invalid MKV), which resending cannot fix.
  await expect(
    putPerFragment(defaultFile, {
      print: () => {},
      faults: (_stream, connectionIndex) =>
        connectionIndex === 0 ? { errorAfterFragments: { count: 0, errorId: 4006 } } : undefined,
    }),
  ).rejects.toThrow(/fragment 0: ERROR 4006 .*attempt 1, giving up/)
})
