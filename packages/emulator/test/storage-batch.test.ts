import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { concatBytes } from '@kvs-streams/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { toLog } from '../src/logger.ts'
import { createDiskBackend } from '../src/storage/disk-backend.ts'
import { type DiskIo, nodeDiskIo } from '../src/storage/disk-io.ts'
import { DurableWriter } from '../src/storage/durable-writer.ts'
import { createMemoryBackend } from '../src/storage/memory-backend.ts'
import { retainable } from '../src/storage/parts.ts'
import { EmulatorStorage, storageInternals } from '../src/storage/storage.ts'
import type { FragmentToStore, StreamRecord } from '../src/storage/types.ts'

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kvs-emulator-batch-'))
  onTestFinished(() => rm(directory, { recursive: true, force: true }))
  return directory
}

/** One file-system call as the recording io saw it: the path of its file or directory, not its descriptor. */
interface Call {
  op: 'open' | 'writev' | 'fsync' | 'close' | 'rename' | 'unlink' | 'resolved' | 'rejected'
  path: string
  /** writev: the buffers as passed, and the bytes written; rename: the new path. */
  buffers?: readonly Uint8Array[]
  written?: number
  to?: string
}

/**
 * `node:fs` with every call recorded in order (and settled fragments added by the test), and fsync failing with
 * EIO for the paths `failFsync` picks.
 */
function recordingIo(calls: Call[], failFsync: (path: string) => boolean = () => false): DiskIo {
  const paths = new Map<number, string>()
  return {
    ...nodeDiskIo,
    async open(path, flags) {
      const fd = await nodeDiskIo.open(path, flags)
      paths.set(fd, path)
      calls.push({ op: 'open', path })
      return fd
    },
    async writev(fd, buffers, position) {
      const written = await nodeDiskIo.writev(fd, buffers, position)
      calls.push({ op: 'writev', path: paths.get(fd)!, buffers, written })
      return written
    },
    async fsync(fd) {
      const path = paths.get(fd)!
      if (failFsync(path)) {
        calls.push({ op: 'fsync', path: `${path} (failed)` })
        throw Object.assign(new Error(`EIO: i/o error, fsync`), { code: 'EIO' })
      }
      await nodeDiskIo.fsync(fd)
      calls.push({ op: 'fsync', path })
    },
    async close(fd) {
      const path = paths.get(fd)!
      paths.delete(fd)
      await nodeDiskIo.close(fd)
      calls.push({ op: 'close', path })
    },
    async rename(from, to) {
      await nodeDiskIo.rename(from, to)
      calls.push({ op: 'rename', path: from, to })
    },
    async unlink(path) {
      await nodeDiskIo.unlink(path)
      calls.push({ op: 'unlink', path })
    },
  }
}

function streamRecord(streamName: string): StreamRecord {
  return {
    streamName,
    streamARN: `arn:aws:kinesisvideo:us-east-1:123456789012:stream/${streamName}/1700000000000`,
    creationTimeMs: 1_700_000_000_000,
    dataRetentionInHours: 1,
    deviceName: null,
    mediaType: null,
    kmsKeyId: '',
    version: 'abcdefghijklmnopqrst',
    tags: {},
  }
}

/** A fragment whose cluster is three views of two chunks, as PutMedia hands them over. */
function fragmentOf(streamName: string, sequence: number, seed: number): FragmentToStore {
  const first = new Uint8Array(5000).fill(seed)
  const second = new Uint8Array(7000).fill(seed + 1)
  return {
    streamName,
    fragmentNumber: String(sequence).padStart(47, '0'),
    sequence,
    fragmentTimecode: sequence * 1000,
    timecodeScale: 1_000_000,
    timecodeType: 'ABSOLUTE',
    producerTimestampMs: 1_700_000_000_000 + sequence * 1000,
    serverTimestampMs: 1_700_000_000_000 + sequence * 1000,
    durationMs: 1000,
    sizeBytes: 11_500,
    tracks: [1],
    blockCount: 3,
    keyframe: true,
    metadata: [],
    persisted: true,
    firstInSession: sequence === 1,
    header: Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x80),
    cluster: [first.subarray(1000), second.subarray(0, 3000), second.subarray(3000, 6000)],
    tags: [],
  }
}

async function diskStorage(dataDir: string, io: DiskIo): Promise<EmulatorStorage> {
  const log = toLog(undefined)
  const storage = await EmulatorStorage.open(createDiskBackend(dataDir, log, { io }), log, Date.now)
  onTestFinished(() => storage.close())
  return storage
}

describe('durable fragment batches', () => {
  it('writes the fragments many streams complete in one tick once each, and acknowledges none before all are durable', async () => {
    const dataDir = await temporaryDirectory()
    const calls: Call[] = []
    const storage = await diskStorage(dataDir, recordingIo(calls))
    const names = Array.from({ length: 12 }, (_, index) => `stream-${index}`)
    const records = names.map(streamRecord)
    for (const record of records) await storage.createStream(record)
    calls.length = 0

    // One tick: every stream completes a fragment.
    const fragments = records.map((record, index) => fragmentOf(record.streamName, 1, index * 2))
    const settled = records.map((record, index) =>
      storageInternals.storeFragment(storage, record, fragments[index]!, true).then((stored) => {
        calls.push({ op: 'resolved', path: record.streamName })
        return stored
      }),
    )
    expect(await Promise.all(settled)).toEqual(records.map(() => true))

    const firstAck = calls.findIndex((call) => call.op === 'resolved')
    expect(calls.slice(firstAck).every((call) => call.op === 'resolved')).toBe(true)
    const durable = calls.slice(0, firstAck)
    for (const [index, record] of records.entries()) {
      const directory = join(dataDir, 'streams', record.streamName, 'fragments')
      const final = join(directory, `${fragments[index]!.fragmentNumber}.kvsf`)
      // Written once: one temporary file, one writev of the parts as given (no joined copy), one rename.
      const renames = durable.filter((call) => call.op === 'rename' && call.to === final)
      expect(renames).toHaveLength(1)
      const temporary = renames[0]!.path
      expect(dirname(temporary)).toBe(directory)
      const writes = durable.filter((call) => call.op === 'writev')
      const own = writes.filter((call) => call.path === temporary)
      expect(own).toHaveLength(1)
      for (const part of fragments[index]!.cluster) expect(own[0]!.buffers).toContain(part)
      expect(writes.filter((call) => call.buffers!.includes(fragments[index]!.cluster[0]!))).toHaveLength(1)
      // Its data fsync'd before the rename, its directory fsync'd once after it: all before the first ack.
      const fsyncAt = durable.findIndex((call) => call.op === 'fsync' && call.path === temporary)
      const renameAt = durable.indexOf(renames[0]!)
      const directorySyncs = durable.filter((call) => call.op === 'fsync' && call.path === directory)
      expect(fsyncAt).toBeGreaterThanOrEqual(0)
      expect(fsyncAt).toBeLessThan(renameAt)
      expect(directorySyncs).toHaveLength(1)
      expect(durable.indexOf(directorySyncs[0]!)).toBeGreaterThan(renameAt)

      const stored = await storage.readFragment(record.streamName, fragments[index]!.fragmentNumber)
      expect(Buffer.from(stored!.cluster).equals(concatBytes(fragments[index]!.cluster))).toBe(true)
      expect(await readdir(directory)).toEqual([basename(final)])
    }
    // Written together: every rename after every file's fsync (one batch, not one fragment after another).
    const lastFileSync = durable.findLastIndex((call) => call.op === 'fsync' && call.path.endsWith('.tmp'))
    const firstRename = durable.findIndex((call) => call.op === 'rename')
    expect(lastFileSync).toBeLessThan(firstRename)
  })

  it('a failing fsync fails exactly the fragments it concerns, through the storage error, and later batches go on', async () => {
    const dataDir = await temporaryDirectory()
    const calls: Call[] = []
    let failing: (path: string) => boolean = () => false
    const storage = await diskStorage(
      dataDir,
      recordingIo(calls, (path) => failing(path)),
    )
    const [a, b, c] = ['a', 'b', 'c'].map(streamRecord) as [StreamRecord, StreamRecord, StreamRecord]
    for (const record of [a, b, c]) await storage.createStream(record)
    const fragmentsOf = (record: StreamRecord) => join(dataDir, 'streams', record.streamName, 'fragments')

    // The data of b's fragment cannot be made durable.
    failing = (path) => path.startsWith(`${fragmentsOf(b)}/`) && path.endsWith('.tmp')
    const first = await Promise.allSettled(
      [a, b, c].map((record, index) =>
        storageInternals.storeFragment(storage, record, fragmentOf(record.streamName, 1, index), true),
      ),
    )
    expect(first.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((first[1] as PromiseRejectedResult).reason).toMatchObject({
      name: 'EmulatorError',
      code: 'ERR_KVS_EMULATOR_STORAGE',
    })
    expect(storage.listFragments('a').map((fragment) => fragment.sequence)).toEqual([1])
    expect(storage.listFragments('b')).toEqual([])
    expect(storage.listFragments('c').map((fragment) => fragment.sequence)).toEqual([1])
    // Nothing of b's fragment is left: no file that could load as a fragment, no temporary file.
    expect(await readdir(fragmentsOf(b))).toEqual([])

    // The directory entry of c's fragment cannot be made durable: c fails, a and b (retried) do not.
    failing = (path) => path === fragmentsOf(c)
    const second = await Promise.allSettled(
      [a, b, c].map((record, index) =>
        storageInternals.storeFragment(storage, record, fragmentOf(record.streamName, 2, index), true),
      ),
    )
    expect(second.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    expect((second[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_KVS_EMULATOR_STORAGE' })
    expect(storage.listFragments('b').map((fragment) => fragment.sequence)).toEqual([2])
    expect(storage.listFragments('c').map((fragment) => fragment.sequence)).toEqual([1])

    // Healthy again: the next batch is not affected by the failures before it.
    failing = () => false
    const third = await Promise.all(
      [a, b, c].map((record, index) =>
        storageInternals.storeFragment(storage, record, fragmentOf(record.streamName, 3, index), true),
      ),
    )
    expect(third).toEqual([true, true, true])
    expect(storage.listFragments('a').map((fragment) => fragment.sequence)).toEqual([1, 2, 3])
  })

  it('cuts a tick with more files than maxBatch into batches, each committed as soon as it is full', async () => {
    const dataDir = await temporaryDirectory()
    const calls: Call[] = []
    const recording = recordingIo(calls)
    let opensAsked = 0
    const writer = new DurableWriter(
      {
        ...recording,
        open: (path, flags) => {
          opensAsked++
          return recording.open(path, flags)
        },
      },
      { maxBatch: 4 },
    )
    const paths = Array.from({ length: 10 }, (_, index) => join(dataDir, `file-${index}`))
    // One tick: the first two batches start at once, the last two files wait for its end.
    const writes = paths.map((path, index) =>
      writer.write(path, [Uint8Array.of(index)]).then(() => calls.push({ op: 'resolved', path })),
    )
    expect(opensAsked).toBe(8)
    await Promise.all(writes)
    const batches = [paths.slice(0, 4), paths.slice(4, 8), paths.slice(8)]
    for (const batch of batches) {
      // Within a batch, none resolves before all of its files were renamed and their directory fsync'd once
      // after the last rename.
      const firstResolved = Math.min(
        ...batch.map((path) => calls.findIndex((c) => c.op === 'resolved' && c.path === path)),
      )
      const renames = batch.map((path) => calls.findIndex((c) => c.op === 'rename' && c.to === path))
      expect(Math.max(...renames)).toBeLessThan(firstResolved)
      const directorySync = calls.findLastIndex(
        (call, index) => call.op === 'fsync' && call.path === dataDir && index < firstResolved,
      )
      expect(directorySync).toBeGreaterThan(Math.max(...renames))
    }
    // Each batch's files were renamed together, after all of that batch's files were written.
    for (const batch of batches) {
      const lastWrite = Math.max(
        ...batch.map((path) => {
          const temporary = calls.find((c) => c.op === 'rename' && c.to === path)!.path
          return calls.findIndex((c) => c.op === 'fsync' && c.path === temporary)
        }),
      )
      const firstRename = Math.min(
        ...batch.map((path) => calls.findIndex((c) => c.op === 'rename' && c.to === path)),
      )
      expect(lastWrite).toBeLessThan(firstRename)
    }
    for (const [index, path] of paths.entries()) expect([...(await readFile(path))]).toEqual([index])
  })

  it('finishes a write that spans several writev calls when one is short', async () => {
    const dataDir = await temporaryDirectory()
    const calls: Call[] = []
    const recording = recordingIo(calls)
    // At most 4000 bytes per call, as a file system may.
    const io: DiskIo = {
      ...recording,
      writev: (fd, buffers, position) => {
        const limited: Uint8Array[] = []
        let room = 4000
        for (const buffer of buffers) {
          if (room === 0) break
          limited.push(buffer.subarray(0, Math.min(room, buffer.length)))
          room -= limited[limited.length - 1]!.length
        }
        return recording.writev(fd, limited, position)
      },
    }
    const storage = await diskStorage(dataDir, io)
    const record = streamRecord('short')
    await storage.createStream(record)
    const fragment = fragmentOf('short', 1, 7)
    expect(await storageInternals.storeFragment(storage, record, fragment, true)).toBe(true)
    expect(calls.filter((call) => call.op === 'writev' && call.path.endsWith('.tmp')).length).toBeGreaterThan(
      3,
    )
    const file = await readFile(
      join(dataDir, 'streams', 'short', 'fragments', `${fragment.fragmentNumber}.kvsf`),
    )
    const cluster = concatBytes(fragment.cluster)
    expect(file.subarray(file.length - cluster.length).equals(cluster)).toBe(true)
    const stored = await storage.readFragment('short', fragment.fragmentNumber)
    expect(Buffer.from(stored!.cluster).equals(concatBytes(fragment.cluster))).toBe(true)
  })
})

describe('fragments kept in memory', () => {
  it('keeps the views PutMedia hands over, except small views of large buffers, which it copies', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(1)
    const large = new Uint8Array(1024 * 1024).fill(2)
    const kept = retainable([
      chunk.subarray(100, 200),
      chunk,
      large.subarray(0, 700_000),
      large.subarray(5, 1029),
    ])
    expect(kept[0]!.buffer).toBe(chunk.buffer)
    expect(kept[1]).toBe(chunk)
    expect(kept[2]!.buffer).toBe(large.buffer)
    expect(kept[3]!.buffer).not.toBe(large.buffer)
    expect(kept[3]!.buffer.byteLength).toBe(1024)
    expect(Buffer.from(kept[3]!).equals(large.subarray(5, 1029))).toBe(true)

    const log = toLog(undefined)
    const storage = await EmulatorStorage.open(createMemoryBackend(), log, Date.now)
    onTestFinished(() => storage.close())
    for (const [name, retention] of [
      ['kept', 1],
      ['buffered', 0],
    ] as const) {
      const record = { ...streamRecord(name), dataRetentionInHours: retention }
      await storage.createStream(record)
      // Stored now: the host buffer keeps fragments of retention-0 streams for 5 minutes.
      const fragment = { ...fragmentOf(name, 1, 3), serverTimestampMs: Date.now() }
      expect(await storageInternals.storeFragment(storage, record, fragment, retention > 0)).toBe(true)
      const read = await storageInternals.readFragmentParts(storage, name, fragment.fragmentNumber)
      expect(read!.cluster).toEqual(fragment.cluster)
      for (const [index, part] of read!.cluster.entries()) expect(part).toBe(fragment.cluster[index])
      const opened = await storageInternals.openFragment(storage, name, fragment.fragmentNumber)
      expect(opened!.source).toMatchObject({ kind: 'memory', cluster: fragment.cluster })
      // The public read joins the parts.
      const joined = await storage.readFragment(name, fragment.fragmentNumber)
      expect(Buffer.from(joined!.cluster).equals(concatBytes(fragment.cluster))).toBe(true)
    }
  })
})
