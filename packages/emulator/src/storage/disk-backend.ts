import { createHash, randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { EmulatorError } from '../errors.ts'
import type { Log } from '../logger.ts'
import {
  decodeMetadata,
  encodeFragmentFile,
  FRAGMENT_FILE_PREFIX_BYTES,
  infoOf,
  readMetadataLength,
  splitBody,
} from './fragment-file.ts'
import type {
  FragmentBytes,
  FragmentInfo,
  LoadedStream,
  StorageBackend,
  StoredFragment,
  StreamRecord,
} from './types.ts'

const FORMAT = { format: 'kvs-emulator', version: 1 }
const STREAM_FILE = 'stream.json'
const FRAGMENTS_DIR = 'fragments'
const FRAGMENT_SUFFIX = '.kvsf'
const TEMP_SUFFIX = '.tmp'

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
 * Every file is written atomically and durably: temporary file, fsync, rename, fsync of the directory.
 */
export function createDiskBackend(dataDir: string, log: Log): StorageBackend {
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

  return {
    kind: 'disk',

    async load(): Promise<LoadedStream[]> {
      await guard(root, async () => {
        await mkdir(streamsDir, { recursive: true })
        await mkdir(trashDir, { recursive: true })
        await writeAtomic(join(root, 'kvs-emulator.json'), [
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
        await writeAtomic(join(directory, STREAM_FILE), [
          new TextEncoder().encode(`${JSON.stringify(stream, null, 2)}\n`),
        ])
        await syncDirectory(streamsDir)
      })
    },

    async removeStream(stream: StreamRecord): Promise<void> {
      const directory = streamDir(stream)
      const target = join(
        trashDir,
        `${streamDirectoryName(stream.streamName)}-${stream.creationTimeMs}-${randomUUID()}`,
      )
      await guard(directory, async () => {
        await rename(directory, target)
        await syncDirectory(streamsDir)
      })
      inBackground(
        rm(target, { recursive: true, force: true }).catch((error: unknown) =>
          log.warn('could not remove a deleted stream from the trash', { target, error: String(error) }),
        ),
      )
    },

    async writeFragment(stream: StreamRecord, fragment: StoredFragment): Promise<void> {
      const path = fragmentPath(stream, fragment.fragmentNumber)
      await guard(path, () => writeAtomic(path, encodeFragmentFile(fragment)))
    },

    async readFragment(stream: StreamRecord, fragment: FragmentInfo): Promise<FragmentBytes | undefined> {
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
      const bytes = metadata === undefined ? undefined : splitBody(metadata, file.subarray(start))
      if (bytes === undefined)
        throw new EmulatorError('ERR_KVS_EMULATOR_STORAGE', `corrupt fragment file ${path}`, { path })
      return bytes
    },

    async close(): Promise<void> {
      await Promise.all(cleanups)
    },
  }
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

/** Writes a file so that it is either absent or complete and on disk: temporary file, fsync, rename, fsync dir. */
async function writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const directory = resolve(path, '..')
  const temporary = join(directory, `.${randomUUID()}${TEMP_SUFFIX}`)
  const handle = await open(temporary, 'w')
  try {
    for (const part of parts) {
      let written = 0
      while (written < part.length) {
        const { bytesWritten } = await handle.write(part, written, part.length - written)
        written += bytesWritten
      }
    }
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => {})
    await unlink(temporary).catch(() => {})
    throw error
  }
  await handle.close()
  await rename(temporary, path)
  await syncDirectory(directory)
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
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
