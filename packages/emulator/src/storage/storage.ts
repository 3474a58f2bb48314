import type { Log } from '../logger.ts'
import { fragmentLength, joinParts, retainFragment } from './parts.ts'
import type {
  FragmentInfo,
  FragmentParts,
  FragmentSource,
  FragmentToStore,
  StorageBackend,
  StoredFragment,
  StreamRecord,
} from './types.ts'

/** What `subscribe` listeners receive. */
export type StorageEvent =
  | { type: 'fragment-stored'; fragment: FragmentInfo }
  | { type: 'stream-deleted'; streamName: string; streamARN: string }
  | { type: 'storage-closed' }

/** Called with each change of the storage. */
export type StorageListener = (event: StorageEvent) => void

/** How long fragments of a stream with retention 0 stay readable, and how many bytes of them per stream. */
export const HOST_BUFFER_MS = 5 * 60_000
/** Bytes of fragments kept readable per stream with retention 0 (see `HOST_BUFFER_MS`). */
export const HOST_BUFFER_BYTES = 200 * 1024 * 1024

interface StreamEntry {
  record: StreamRecord
  /** Readable fragments, by increasing sequence. */
  fragments: FragmentInfo[]
  byNumber: Map<string, FragmentInfo>
  /** Bytes of the fragments kept only in memory (retention 0), by fragment number. */
  buffered: Map<string, FragmentParts>
  bufferedBytes: number
  /** Bytes of this stream's fragments counted against `maxMemoryBytes` (memory backend and host buffer). */
  memoryBytes: number
  /** Sequence of the next fragment number handed out. */
  nextSequence: number
}

/** A fragment whose bytes are held in memory, in the order fragments were stored (for `maxMemoryBytes`). */
interface HeldFragment {
  entry: StreamEntry
  fragmentNumber: string
  bytes: number
}

/** Options of `EmulatorStorage.open`. */
export interface StorageOptions {
  /** See `EmulatorOptions.maxMemoryBytes`. Default `Infinity`. */
  maxMemoryBytes?: number
}

/** A stored fragment: what is known about it, and its bytes as they are held (not joined). */
export interface FragmentWithParts extends FragmentInfo, FragmentParts {}

/**
 * What the emulator's own modules use of `EmulatorStorage` beyond its public API: fragments stored and read
 * as parts (no joining, no copy), and opened to be written out piece by piece. Not exported by the package.
 */
export interface StorageInternals {
  /** `putFragment` with the bytes as parts (views of the received chunks): nothing is copied. */
  storeFragment(
    storage: EmulatorStorage,
    record: StreamRecord,
    fragment: FragmentToStore,
    durable: boolean,
  ): Promise<boolean>
  /** `readFragment` without joining the parts. */
  readFragmentParts(
    storage: EmulatorStorage,
    streamName: string,
    fragmentNumber: string,
  ): Promise<FragmentWithParts | undefined>
  /** A fragment opened to be written out (GetMedia), or `undefined` when it is gone. Close a file source. */
  openFragment(
    storage: EmulatorStorage,
    streamName: string,
    fragmentNumber: string,
  ): Promise<{ info: FragmentInfo; source: FragmentSource } | undefined>
}

/** Set by `EmulatorStorage`'s static initialiser (which can reach its private members). */
export let storageInternals: StorageInternals

/**
 * The emulator's streams and fragments: an in-memory index in front of a memory or disk backend, with a
 * host buffer for retention-0 streams and a subscription for new fragments. The read side
 * (`listStreams`, `listFragments`, `readFragment`, `subscribe`, `watchFragments`) is what media readers
 * (GetMedia, ListFragments) build on; the write side is driven by the control plane and PutMedia.
 */
export class EmulatorStorage {
  readonly #backend: StorageBackend
  readonly #log: Log
  readonly #clock: () => number
  readonly #streams = new Map<string, StreamEntry>()
  /** Tail of the serial work queue of each stream name (create, writes, delete stay in order). */
  readonly #queues = new Map<string, Promise<void>>()
  readonly #listeners = new Set<{ streamName: string | undefined; listener: StorageListener }>()
  readonly #maxMemoryBytes: number
  /** Bytes of fragments held in memory, and (when `maxMemoryBytes` is finite) those fragments, oldest first. */
  #memoryBytes = 0
  #held: HeldFragment[] = []
  #heldHead = 0
  #closed = false

  static {
    storageInternals = {
      storeFragment: (storage, record, fragment, durable) => storage.#put(record, fragment, durable),
      readFragmentParts: (storage, streamName, fragmentNumber) =>
        storage.#readParts(streamName, fragmentNumber),
      openFragment: (storage, streamName, fragmentNumber) => storage.#open(streamName, fragmentNumber),
    }
  }

  private constructor(backend: StorageBackend, log: Log, clock: () => number, options: StorageOptions) {
    this.#backend = backend
    this.#log = log
    this.#clock = clock
    this.#maxMemoryBytes = options.maxMemoryBytes ?? Number.POSITIVE_INFINITY
  }

  /** Opens a backend and loads what it holds. */
  static async open(
    backend: StorageBackend,
    log: Log,
    clock: () => number,
    options: StorageOptions = {},
  ): Promise<EmulatorStorage> {
    const storage = new EmulatorStorage(backend, log, clock, options)
    for (const { stream, fragments } of await backend.load()) {
      const last = fragments[fragments.length - 1]
      storage.#streams.set(stream.streamName, {
        record: stream,
        fragments,
        byNumber: new Map(fragments.map((fragment) => [fragment.fragmentNumber, fragment])),
        buffered: new Map(),
        bufferedBytes: 0,
        memoryBytes: 0,
        nextSequence: last === undefined ? 1 : last.sequence + 1,
      })
    }
    return storage
  }

  /** `'disk'` or `'memory'`. */
  get kind(): 'disk' | 'memory' {
    return this.#backend.kind
  }

  /** Bytes of fragments held in memory now (memory storage and the host buffer; see `maxMemoryBytes`). */
  get memoryBytes(): number {
    return this.#memoryBytes
  }

  // Read side.

  /** A stream by name. */
  getStream(streamName: string): StreamRecord | undefined {
    return this.#streams.get(streamName)?.record
  }

  /** Every stream, sorted by name. */
  listStreams(): StreamRecord[] {
    return [...this.#streams.values()]
      .map((entry) => entry.record)
      .sort((a, b) => compare(a.streamName, b.streamName))
  }

  /** The readable fragments of a stream, oldest first (empty for an unknown stream). A snapshot. */
  listFragments(streamName: string): FragmentInfo[] {
    const entry = this.#streams.get(streamName)
    if (entry === undefined) return []
    this.#trimHostBuffer(entry)
    return entry.fragments.slice()
  }

  /**
   * A fragment with its bytes, or `undefined` when the stream or fragment is gone. The cluster and tags are
   * each one array: joined when they are held in parts (a copy; the emulator's own readers take the parts).
   */
  async readFragment(streamName: string, fragmentNumber: string): Promise<StoredFragment | undefined> {
    const fragment = await this.#readParts(streamName, fragmentNumber)
    if (fragment === undefined) return undefined
    return { ...fragment, cluster: joinParts(fragment.cluster), tags: joinParts(fragment.tags) }
  }

  async #readParts(streamName: string, fragmentNumber: string): Promise<FragmentWithParts | undefined> {
    const entry = this.#streams.get(streamName)
    const info = entry?.byNumber.get(fragmentNumber)
    if (entry === undefined || info === undefined) return undefined
    const bytes = entry.buffered.get(fragmentNumber) ?? (await this.#backend.readFragment(entry.record, info))
    return bytes === undefined
      ? undefined
      : { ...info, header: bytes.header, cluster: bytes.cluster, tags: bytes.tags }
  }

  async #open(
    streamName: string,
    fragmentNumber: string,
  ): Promise<{ info: FragmentInfo; source: FragmentSource } | undefined> {
    const entry = this.#streams.get(streamName)
    const info = entry?.byNumber.get(fragmentNumber)
    if (entry === undefined || info === undefined) return undefined
    const buffered = entry.buffered.get(fragmentNumber)
    const source: FragmentSource | undefined =
      buffered === undefined
        ? await this.#backend.openFragment(entry.record, info)
        : { kind: 'memory', ...buffered }
    return source === undefined ? undefined : { info, source }
  }

  /**
   * Calls `listener` for every fragment stored from now on (in the order of the stream's fragment numbers)
   * and for stream deletions; for one stream, or for all when `streamName` is undefined. Returns the
   * unsubscribe function. Subscribe, then `listFragments`, to see every fragment once (dedupe by number).
   */
  subscribe(streamName: string | undefined, listener: StorageListener): () => void {
    const subscription = { streamName, listener }
    this.#listeners.add(subscription)
    return () => {
      this.#listeners.delete(subscription)
    }
  }

  /**
   * The fragments stored in a stream from now on, as an async iterator; it ends when the stream is deleted,
   * the storage closes, or `signal` aborts.
   */
  watchFragments(
    streamName: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<FragmentInfo> {
    const queue: FragmentInfo[] = []
    let done = this.#closed || options.signal?.aborted === true
    let wake: (() => void) | undefined
    const finish = () => {
      done = true
      unsubscribe()
      options.signal?.removeEventListener('abort', finish)
      wake?.()
    }
    const unsubscribe = this.subscribe(streamName, (event) => {
      if (event.type === 'fragment-stored') queue.push(event.fragment)
      else finish()
      wake?.()
    })
    options.signal?.addEventListener('abort', finish, { once: true })
    const iterator: AsyncIterableIterator<FragmentInfo> = {
      async next(): Promise<IteratorResult<FragmentInfo>> {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
        const value = queue.shift()
        return value === undefined ? { done: true, value: undefined } : { done: false, value }
      },
      async return(): Promise<IteratorResult<FragmentInfo>> {
        finish()
        queue.length = 0
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return iterator
      },
    }
    if (done) finish()
    return iterator
  }

  // Write side, for the control plane and PutMedia.

  /** Adds a stream (the caller checked the name is free) and persists it. */
  async createStream(record: StreamRecord): Promise<void> {
    this.#streams.set(record.streamName, {
      record,
      fragments: [],
      byNumber: new Map(),
      buffered: new Map(),
      bufferedBytes: 0,
      memoryBytes: 0,
      nextSequence: 1,
    })
    try {
      await this.#enqueue(record.streamName, () => this.#backend.saveStream(record))
    } catch (error) {
      if (this.#streams.get(record.streamName)?.record === record) this.#streams.delete(record.streamName)
      throw error
    }
  }

  /** Replaces a stream's record (same name and ARN) and persists it. */
  async updateStream(record: StreamRecord): Promise<void> {
    const entry = this.#streams.get(record.streamName)
    if (entry === undefined || entry.record.streamARN !== record.streamARN) return
    entry.record = record
    await this.#enqueue(record.streamName, async () => {
      if (this.#streams.get(record.streamName) === entry) await this.#backend.saveStream(record)
    })
  }

  /** Removes a stream and its fragments. Readers see it gone at once; files go after pending writes. */
  async deleteStream(record: StreamRecord): Promise<void> {
    const entry = this.#streams.get(record.streamName)
    if (entry === undefined || entry.record.streamARN !== record.streamARN) return
    this.#streams.delete(record.streamName)
    this.#memoryBytes -= entry.memoryBytes
    if (this.#heldHead < this.#held.length) {
      this.#held = this.#held.slice(this.#heldHead).filter((held) => held.entry !== entry)
      this.#heldHead = 0
    }
    this.#emit(record.streamName, {
      type: 'stream-deleted',
      streamName: record.streamName,
      streamARN: record.streamARN,
    })
    await this.#enqueue(record.streamName, () => this.#backend.removeStream(entry.record))
  }

  /** The next fragment sequence of a stream (1, 2, 3, …), or `undefined` when the stream is gone. */
  allocateSequence(record: StreamRecord): number | undefined {
    const entry = this.#streams.get(record.streamName)
    if (entry === undefined || entry.record.streamARN !== record.streamARN) return undefined
    return entry.nextSequence++
  }

  /**
   * Stores a fragment: durably (`durable`, the stream has retention > 0) or in the host buffer. Resolves true
   * once stored (durable: written, fsync'd, renamed and its directory fsync'd, together with the other fragments
   * stored in the same tick), false when the stream was deleted meanwhile.
   */
  async putFragment(record: StreamRecord, fragment: StoredFragment, durable: boolean): Promise<boolean> {
    const { cluster, tags } = fragment
    return this.#put(
      record,
      { ...fragment, cluster: cluster.length === 0 ? [] : [cluster], tags: tags.length === 0 ? [] : [tags] },
      durable,
    )
  }

  #put(record: StreamRecord, fragment: FragmentToStore, durable: boolean): Promise<boolean> {
    return this.#enqueue(record.streamName, async () => {
      const entry = this.#streams.get(record.streamName)
      if (entry === undefined || entry.record.streamARN !== record.streamARN) return false
      const info = infoOf(fragment, durable)
      const bytes = fragmentLength(fragment)
      if (durable) {
        await this.#backend.writeFragment(entry.record, fragment)
      } else {
        entry.buffered.set(fragment.fragmentNumber, retainFragment(fragment))
        entry.bufferedBytes += bytes
      }
      if (this.#streams.get(record.streamName) !== entry) return false
      insertBySequence(entry.fragments, info)
      entry.byNumber.set(info.fragmentNumber, info)
      if (!durable || this.#backend.kind === 'memory') this.#hold(entry, info.fragmentNumber, bytes)
      this.#trimHostBuffer(entry)
      this.#emit(record.streamName, { type: 'fragment-stored', fragment: info })
      return true
    })
  }

  /** Waits for pending writes, then closes the backend. Watchers end. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#queues.values()])
    for (const { listener } of [...this.#listeners]) listener({ type: 'storage-closed' })
    this.#listeners.clear()
    await this.#backend.close()
  }

  #enqueue<T>(streamName: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(streamName) ?? Promise.resolve()
    const run = previous.then(work)
    const tail = run.then(
      () => {},
      () => {},
    )
    this.#queues.set(streamName, tail)
    void tail.then(() => {
      if (this.#queues.get(streamName) === tail) this.#queues.delete(streamName)
    })
    return run
  }

  #emit(streamName: string, event: StorageEvent): void {
    for (const subscription of [...this.#listeners]) {
      if (subscription.streamName !== undefined && subscription.streamName !== streamName) continue
      try {
        subscription.listener(event)
      } catch (error) {
        this.#log.error('a storage listener threw', { error: String(error) })
      }
    }
  }

  /**
   * Counts a fragment just stored in memory; when that takes the total over `maxMemoryBytes`, drops the oldest
   * fragments held (never the one just stored) until it is back under.
   */
  #hold(entry: StreamEntry, fragmentNumber: string, bytes: number): void {
    this.#memoryBytes += bytes
    entry.memoryBytes += bytes
    if (this.#maxMemoryBytes === Number.POSITIVE_INFINITY) return
    const held = this.#held
    held.push({ entry, fragmentNumber, bytes })
    while (this.#memoryBytes > this.#maxMemoryBytes && this.#heldHead < held.length - 1) {
      const oldest = held[this.#heldHead]!
      held[this.#heldHead++] = undefined as unknown as HeldFragment
      // Already gone (its stream deleted, or trimmed from the host buffer): its bytes were subtracted then.
      if (this.#streams.get(oldest.entry.record.streamName) !== oldest.entry) continue
      const info = oldest.entry.byNumber.get(oldest.fragmentNumber)
      if (info !== undefined) this.#drop(oldest.entry, info, oldest.bytes)
    }
    if (this.#heldHead > 1024 && this.#heldHead * 2 > held.length) {
      this.#held = held.slice(this.#heldHead)
      this.#heldHead = 0
    }
  }

  /** Removes a fragment held in memory from the index and lets go of its bytes. */
  #drop(entry: StreamEntry, info: FragmentInfo, bytes: number): void {
    entry.byNumber.delete(info.fragmentNumber)
    const index = entry.fragments.indexOf(info)
    if (index >= 0) entry.fragments.splice(index, 1)
    if (entry.buffered.delete(info.fragmentNumber)) entry.bufferedBytes -= bytes
    else this.#backend.forgetFragment?.(entry.record, info)
    entry.memoryBytes -= bytes
    this.#memoryBytes -= bytes
  }

  /** Drops host-buffer fragments older than 5 minutes, then the oldest while over 200 MB. */
  #trimHostBuffer(entry: StreamEntry): void {
    if (entry.buffered.size === 0) return
    const oldest = this.#clock() - HOST_BUFFER_MS
    const drop = new Set<string>()
    let bytes = entry.bufferedBytes
    for (const info of entry.fragments) {
      const buffered = entry.buffered.get(info.fragmentNumber)
      if (buffered === undefined) continue
      if (info.serverTimestampMs >= oldest && bytes <= HOST_BUFFER_BYTES) break
      drop.add(info.fragmentNumber)
      bytes -= fragmentLength(buffered)
    }
    if (drop.size === 0) return
    this.#memoryBytes -= entry.bufferedBytes - bytes
    entry.memoryBytes -= entry.bufferedBytes - bytes
    entry.bufferedBytes = bytes
    entry.fragments = entry.fragments.filter((info) => !drop.has(info.fragmentNumber))
    for (const number of drop) {
      entry.buffered.delete(number)
      entry.byNumber.delete(number)
    }
  }
}

function infoOf(fragment: FragmentToStore, persisted: boolean): FragmentInfo {
  const { header: _header, cluster: _cluster, tags: _tags, ...info } = fragment
  return { ...info, persisted }
}

function insertBySequence(fragments: FragmentInfo[], info: FragmentInfo): void {
  let index = fragments.length
  while (index > 0 && fragments[index - 1]!.sequence > info.sequence) index--
  fragments.splice(index, 0, info)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
