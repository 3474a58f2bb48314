import type * as Fs from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { acksByFragment, createStream, putMedia, testEmulator } from './support/client.ts'
import { videoStream } from './support/mkv.ts'

/** Which files' fsync fails (EIO), by path; the emulator's fragment writes go through node:fs's callback API. */
const failing = vi.hoisted(() => ({ fsync: (_path: string): boolean => false }))

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>()
  const paths = new Map<number, string>()
  const open = (path: Fs.PathLike, flags: Fs.OpenMode, callback: (error: Error | null, fd: number) => void) =>
    fs.open(path, flags, (error, fd) => {
      if (error === null) paths.set(fd, String(path))
      callback(error, fd)
    })
  const fsync = (fd: number, callback: (error: Error | null) => void) => {
    if (failing.fsync(paths.get(fd) ?? '')) {
      process.nextTick(callback, Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))
    } else fs.fsync(fd, callback)
  }
  return { ...fs, open, fsync, default: { ...fs, open, fsync } }
})

describe('PutMedia when storage fails', () => {
  it('answers ERROR 5001 for the fragment whose fsync failed, and PERSISTED for those of other streams', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kvs-emulator-fsync-'))
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }))
    const emulator = await testEmulator({ dataDir })
    await createStream(emulator, 'healthy')
    await createStream(emulator, 'broken')
    const broken = join(dataDir, 'streams', 'broken', 'fragments')
    failing.fsync = (path) => path.startsWith(`${broken}/`) && path.endsWith('.tmp')
    onTestFinished(() => {
      failing.fsync = () => false
    })

    const [healthy, failed] = await Promise.all([
      putMedia(emulator, videoStream(3), { streamName: 'healthy' }),
      putMedia(emulator, videoStream(3), { streamName: 'broken' }),
    ])
    expect([...acksByFragment(healthy.acks).values()]).toEqual([
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
      ['BUFFERING', 'RECEIVED', 'PERSISTED'],
    ])
    expect(emulator.storage.listFragments('healthy')).toHaveLength(3)

    const error = failed.acks.find((ack) => ack.eventType === 'ERROR')
    expect(error).toMatchObject({ errorId: 5001 })
    expect(failed.acks.filter((ack) => ack.eventType === 'PERSISTED')).toEqual([])
    // The ERROR names the fragment that could not be persisted: the first, RECEIVED and never listed.
    const first = failed.acks.find((ack) => ack.eventType === 'RECEIVED')!
    expect(error!.fragmentNumber).toBe(first.fragmentNumber)
    expect(emulator.storage.listFragments('broken').map((fragment) => fragment.fragmentNumber)).not.toContain(
      first.fragmentNumber,
    )
    expect((await readdir(broken)).filter((name) => name.endsWith('.kvsf') || name.endsWith('.tmp'))).toEqual(
      [],
    )
  })
})
