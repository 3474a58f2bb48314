import { type Emulator, startEmulator } from '@kvs-streams/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorEnv, ensureBuilt, jsonLines, kvs } from './support.ts'

let emulator: Emulator
let env: Record<string, string>

beforeAll(async () => {
  await ensureBuilt()
  emulator = await startEmulator({ port: 0 })
  env = emulatorEnv(emulator.url)
})
afterAll(() => emulator?.close())

describe('kvs streams', () => {
  it('creates, describes, lists and deletes a stream', async () => {
    const created = await kvs(
      ['streams', 'create', 'cam-1', '--retention-hours', '48', '--media-type', 'video/h265'],
      { env },
    )
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(
      /^created stream cam-1 \(ACTIVE, retention 48 h\)\n {2}arn:aws:kinesisvideo:us-east-1:\d+:stream\/cam-1\/\d+\n$/,
    )

    const described = await kvs(['streams', 'describe', 'cam-1', '--json'], { env })
    expect(described.code).toBe(0)
    const [info] = jsonLines(described.stdout)
    expect(info).toMatchObject({
      StreamInfo: {
        StreamName: 'cam-1',
        Status: 'ACTIVE',
        DataRetentionInHours: 48,
        MediaType: 'video/h265',
      },
    })
    const text = await kvs(['streams', 'describe', 'cam-1'], { env })
    expect(text.stdout).toMatch(/^StreamName +cam-1$/m)
    expect(text.stdout).toMatch(/^DataRetentionInHours +48$/m)

    await kvs(['streams', 'create', 'cam-2'], { env })
    await kvs(['streams', 'create', 'other'], { env })
    const listed = await kvs(['streams', 'list', '--prefix', 'cam-', '--json'], { env })
    expect(listed.code).toBe(0)
    const names = (
      jsonLines(listed.stdout)[0]!.StreamInfoList as { StreamName: string; DataRetentionInHours: number }[]
    )
      .map((stream) => `${stream.StreamName}:${stream.DataRetentionInHours}`)
      .sort()
    expect(names).toEqual(['cam-1:48', 'cam-2:24'])
    const table = await kvs(['streams', 'list'], { env })
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME +STATUS +RETENTION +MEDIA TYPE +CREATED$/)
    expect(table.stdout).toMatch(/^other +ACTIVE +24 h +video\/h264 /m)

    const deleted = await kvs(['streams', 'delete', 'cam-1'], { env })
    expect(deleted.code).toBe(0)
    expect(deleted.stdout).toBe('deleted stream cam-1\n')
    const after = await kvs(['streams', 'list', '--prefix', 'cam-', '--json'], { env })
    expect((jsonLines(after.stdout)[0]!.StreamInfoList as unknown[]).length).toBe(1)
  })

  it('says how to create a stream that does not exist (exit 254)', async () => {
    const result = await kvs(['streams', 'describe', 'missing-stream'], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toContain(
      'kvs: error: Stream "missing-stream" was not found (region us-east-1, endpoint',
    )
    expect(result.stderr).toContain('Create it with: kvs streams create missing-stream --retention-hours 24')
    expect(result.stdout).toBe('')
  })

  it('reports an existing stream on create', async () => {
    await kvs(['streams', 'create', 'twice'], { env })
    const result = await kvs(['streams', 'create', 'twice'], { env })
    expect(result.code).toBe(254)
    expect(result.stderr).toMatch(/kvs: error: .*already exists/)
  })

  it('prints a JSON error line on stdout with --json', async () => {
    const result = await kvs(['streams', 'delete', 'nope', '--json'], { env })
    expect(result.code).toBe(254)
    expect(jsonLines(result.stdout)[0]).toMatchObject({
      type: 'error',
      name: 'ResourceNotFoundException',
      exitCode: 254,
    })
  })
})
