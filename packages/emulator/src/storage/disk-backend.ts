import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { EmulatorError } from '../errors.ts'
import type { Log } from '../logger.ts'
import { type DiskIo, nodeDiskIo } from './disk-io.ts'
import { DurableWriter, syncDirectory, TEMP_SUFFIX } from './durable-writer.ts'
import {
  decodeMetadata,
  encodeFragmentFile,
  FRAGMENT_FILE_PREFIX_BYTES,
  infoOf,
  layoutOf,
  readMetadataLength,
  splitBody,
} from './fragment-file.ts'
import type {
  FileFragmentSource,
  FragmentInfo,
  FragmentParts,
  FragmentSource,
  FragmentToStore,
  LoadedStream,
  StorageBackend,
  StreamRecord,
} from './types.ts'

const FORMAT = { format: 'kvs-emulator', version: 1 }
const STREAM_FILE = 'stream.json'
const FRAGMENTS_DIR = 'fragments'
const FRAGMENT_SUFFIX = '.kvsf'
/** Bytes read first from a fragment file opened for GetMedia: the prefix, the metadata and (usually) the header. */
const HEAD_READ_BYTES = 4096

/** Options of `createDiskBackend`. */
export interface DiskBackendOptions {
  /** The file-system calls of fragment writes and reads (tests wrap them). Default: `node:fs`. */
  io?: DiskIo
}

/**
 * Directory name of a stream: the name itself when it is a safe file name (stream names are
 * `[a-zA-Z0-9_.-]{1,256}`, so only `.`, `..` and names too long for a file system are not), else `@sha256-…`
 * (`@` cannot start a stream name, so the two forms never collide).
 */
export function streamDirectoryName(streamName: string): string {
  if (/^[A-Za-z0-9_.-]{1,200}$/.test(streamName) && !/^\.+$/.test(streamName)) return streamName
  return `@sha256-${createHash('sha256').update(streamName).digest('hex')}`
}

/**
 * Stores streams and fragments under `dataDir`:
 * ```
 * kvs-emulator.json                          format marker
 * streams/<stream>/stream.json               the StreamRecord
 * streams/<stream>/fragments/<number>.kvsf   one file per durable fragment (see fragment-file.ts)
 * trash/                                     deleted streams, removed in the background
 * ```
 * Every file is written atomically and durably: temporary file, fsync, rename, fsync of the directory. Fragment
 * files are written in batches (see `DurableWriter`): the fragments completed in the same tick, across streams,
 * are fsync'd concurrently and each directory once, and a fragment's write resolves only once all of its batch
 * is durable. A fragment's parts are written as they are (one `writev`), never joined.
 */
export function createDiskBackend(
  dataDir: string,
  log: Log,
  options: DiskBackendOptions = {},
): StorageBackend {
  const io = options.io ?? nodeDiskIo
  const writer = new DurableWriter(io)
  const root = resolve(dataDir)
  const streamsDir = join(root, 'streams')
  const trashDir = join(root, 'trash')
  const streamDir = (stream: StreamRecord) => join(streamsDir, streamDirectoryName(stream.streamName))
  const fragmentPath = (stream: StreamRecord, fragmentNumber: string) =>
    join(streamDir(stream), FRAGMENTS_DIR, `${fragmentNumber}${FRAGMENT_SUFFIX}`)
  /** Background removals of deleted streams, awaited by close(). */
  const cleanups = new Set<Promise<void>>()
  const inBackground = (work: Promise<void>) => {
    cleanups.add(work)
    void work.finally(() => cleanups.delete(work))
  }
  /**
   * The header last read per stream (by ARN): a fragment whose header has the same bytes gets this very array,
   * so what GetMedia derives from a header (cached by identity) is derived once per PutMedia session.
   */
  const headers = new Map<string, Uint8Array>()
  const sharedHeader = (stream: StreamRecord, header: Uint8Array): Uint8Array => {
    const known = headers.get(stream.streamARN)
    if (known !== undefined && sameBytes(known, header)) return known
    headers.set(stream.streamARN, header)
    return header
  }

  return {
    kind: 'disk',

    async load(): Promise<LoadedStream[]> {
      await guard(root, async () => {
        await mkdir(streamsDir, { recursive: true })
        await mkdir(trashDir, { recursive: true })
        await writer.write(join(root, 'kvs-emulator.json'), [
          new TextEncoder().encode(`${JSON.stringify(FORMAT)}\n`),
        ])
      })
      inBackground(emptyTrash(trashDir, log))
      const loaded: LoadedStream[] = []
      for (const entry of await guard(streamsDir, () => readdir(streamsDir, { withFileTypes: true }))) {
        if (!entry.isDirectory()) continue
        const directory = join(streamsDir, entry.name)
        const stream = await readStreamFile(join(directory, STREAM_FILE))
        if (stream === undefined) {
          // A stream whose creation never completed: not a stream.
          log.warn('moving a stream directory without a valid stream.json to the trash', { directory })
          await guard(directory, () => rename(directory, join(trashDir, `${entry.name}-${randomUUID()}`)))
          continue
        }
        loaded.push({ stream, fragments: await loadFragments(join(directory, FRAGMENTS_DIR), log) })
      }
      return loaded
    },

    async saveStream(stream: StreamRecord): Promise<void> {
      const directory = streamDir(stream)
      await guard(directory, async () => {
        await mkdir(join(directory, FRAGMENTS_DIR), { recursive: true })
        await writer.write(join(directory, STREAM_FILE), [
          new TextEncoder().encode(`${JSON.stringify(stream, null, 2)}\n`),
        ])
        await syncDirectory(io, streamsDir)
      })
    },

    async removeStream(stream: StreamRecord): Promise<void> {
      const directory = streamDir(stream)
      const target = join(
        trashDir,
        `${streamDirectoryName(stream.streamName)}-${stream.creationTimeMs}-${randomUUID()}`,
      )
      headers.delete(stream.streamARN)
      await guard(directory, async () => {
        await rename(directory, target)
        await syncDirectory(io, streamsDir)
      })
      inBackground(
        rm(target, { recursive: true, force: true }).catch((error: unknown) =>
          log.warn('could not remove a deleted stream from the trash', { target, error: String(error) }),
        ),
      )
    },

    async writeFragment(stream: StreamRecord, fragment: FragmentToStore): Promise<void> {
      const path = fragmentPath(stream, fragment.fragmentNumber)
      await guard(path, () => writer.write(path, encodeFragmentFile(fragment)))
    },

    async readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentParts | undefined> {
      const path = fragmentPath(stream, fragment.fragmentNumber)
      let file: Uint8Array
      try {
        file = await readFile(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `cannot read ${path}`, { cause: error, path })
      }
      const metadataLength = readMetadataLength(file)
      const start = FRAGMENT_FILE_PREFIX_BYTES + (metadataLength ?? 0)
      const metadata =
        metadataLength === undefined
          ? undefined
          : decodeMetadata(file.subarray(FRAGMENT_FILE_PREFIX_BYTES, start))
      const parts = metadata === undefined ? undefined : splitBody(metadata, file.subarray(start))
      if (parts === undefined) throw corruptFile(path)
      return parts
    },

    async openFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentSource | undefined> {
      const path = fragmentPath(stream, fragment.fragmentNumber)
      let fd: number
      try {
        fd = await io.open(path, 'r')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `cannot read ${path}`, { cause: error, path })
      }
      try {
        return await openedFragment(io, fd, path, (header) => sharedHeader(stream, header))
      } catch (error) {
        await io.close(fd).catch(() => {})
        if (EmulatorError.is(error)) throw error
        throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `cannot read ${path}`, { cause: error, path })
      }
    },

    async close(): Promise<void> {
      await Promise.all(cleanups)
      headers.clear()
    },
  }
}

/**
 * A fragment file opened for reading in pieces: reads its prefix, metadata and header (one read, usually),
 * checks its size, and reads its tags; the cluster is read later, range by range, by `readCluster`.
 */
async function openedFragment(
  io: DiskIo,
  fd: number,
  path: string,
  share: (header: Uint8Array) => Uint8Array,
): Promise<FileFragmentSource> {
  const head = new Uint8Array(HEAD_READ_BYTES)
  const headLength = await io.read(fd, head, 0, head.length, 0)
  const metadataLength = readMetadataLength(head.subarray(0, headLength))
  if (metadataLength === undefined) throw corruptFile(path)
  const readRange = async (position: number, length: number): Promise<Uint8Array> => {
    if (position + length <= headLength) return head.slice(position, position + length)
    const bytes = new Uint8Array(length)
    if ((await readFully(io, fd, bytes, position)) !== length) throw corruptFile(path)
    return bytes
  }
  const metadata = decodeMetadata(await readRange(FRAGMENT_FILE_PREFIX_BYTES, metadataLength))
  if (metadata === undefined) throw corruptFile(path)
  const layout = layoutOf(metadata, metadataLength)
  if ((await io.size(fd)) !== layout.fileLength) throw corruptFile(path)
  const header = share(await readRange(layout.headerOffset, layout.headerLength))
  const clusterOffset = layout.headerOffset + layout.headerLength
  const tags =
    layout.tagsLength === 0 ? [] : [await readRange(clusterOffset + layout.clusterLength, layout.tagsLength)]
  return {
    kind: 'file',
    header,
    tags,
    clusterLength: layout.clusterLength,
    async readCluster(buffer: Uint8Array, offset: number): Promise<number> {
      const length = Math.min(buffer.length, layout.clusterLength - offset)
      if (length <= 0) return 0
      const read = await readFully(io, fd, buffer.subarray(0, length), clusterOffset + offset).catch(
        (error: unknown) => {
          throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `cannot read ${path}`, { cause: error, path })
        },
      )
      if (read !== length) throw corruptFile(path)
      return read
    },
    close: () => io.close(fd),
  }
}

/** Reads into all of `buffer` from `position` unless the file ends first; resolves the bytes read. */
async function readFully(io: DiskIo, fd: number, buffer: Uint8Array, position: number): Promise<number> {
  let filled = 0
  while (filled < buffer.length) {
    const read = await io.read(fd, buffer, filled, buffer.length - filled, position + filled)
    if (read === 0) break
    filled += read
  }
  return filled
}

function corruptFile(path: string): EmulatorError {
  return new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `corrupt fragment file ${path}`, { path })
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)
}

async function guard<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    if (EmulatorError.is(error)) throw error
    throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `storage failure at ${path}: ${String(error)}`, {
      cause: error,
      path,
    })
  }
}

async function readStreamFile(path: string): Promise<StreamRecord | undefined> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const stream = value as StreamRecord
  if (typeof stream.streamName !== 'string' || typeof stream.streamARN !== 'string') return undefined
  if (!Number.isSafeInteger(stream.creationTimeMs) || typeof stream.version !== 'string') return undefined
  return {
    streamName: stream.streamName,
    streamARN: stream.streamARN,
    creationTimeMs: stream.creationTimeMs,
    dataRetentionInHours: Number.isSafeInteger(stream.dataRetentionInHours) ? stream.dataRetentionInHours : 0,
    deviceName: typeof stream.deviceName === 'string' ? stream.deviceName : null,
    mediaType: typeof stream.mediaType === 'string' ? stream.mediaType : null,
    kmsKeyId: typeof stream.kmsKeyId === 'string' ? stream.kmsKeyId : '',
    version: stream.version,
    tags: typeof stream.tags === 'object' && stream.tags !== null ? stream.tags : {},
  }
}

/** Reads the metadata of every fragment file of a stream, dropping temporary files a crash left behind. */
async function loadFragments(directory: string, log: Log): Promise<FragmentInfo[]> {
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `cannot list ${directory}`, {
      cause: error,
      path: directory,
    })
  }
  const fragments: FragmentInfo[] = []
  for (const name of names) {
    const path = join(directory, name)
    if (name.endsWith(TEMP_SUFFIX)) {
      await unlink(path).catch(() => {})
      continue
    }
    if (!name.endsWith(FRAGMENT_SUFFIX)) continue
    const info = await readFragmentInfo(path)
    if (info === undefined) log.warn('skipping a corrupt fragment file', { path })
    else fragments.push(info)
  }
  return fragments.sort((a, b) => a.sequence - b.sequence)
}

async function readFragmentInfo(path: string): Promise<FragmentInfo | undefined> {
  const handle = await open(path, 'r')
  try {
    const prefix = new Uint8Array(FRAGMENT_FILE_PREFIX_BYTES)
    const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0)
    const length = readMetadataLength(prefix.subarray(0, bytesRead))
    if (length === undefined) return undefined
    const json = new Uint8Array(length)
    const { bytesRead: jsonRead } = await handle.read(json, 0, length, FRAGMENT_FILE_PREFIX_BYTES)
    if (jsonRead !== length) return undefined
    const metadata = decodeMetadata(json)
    if (metadata === undefined) return undefined
    const { size } = await handle.stat()
    const expected =
      FRAGMENT_FILE_PREFIX_BYTES +
      length +
      metadata.headerLength +
      metadata.clusterLength +
      metadata.tagsLength
    return size === expected ? infoOf(metadata) : undefined
  } finally {
    await handle.close()
  }
}

async function emptyTrash(trashDir: string, log: Log): Promise<void> {
  try {
    for (const name of await readdir(trashDir))
      await rm(join(trashDir, name), { recursive: true, force: true })
  } catch (error) {
    log.warn('could not empty the trash', { trashDir, error: String(error) })
  }
}
