import type { ServerResponse } from 'node:http'
import type { EmulatorContext, LiveConnection, StreamRuntime } from '../context.ts'
import { ServiceError } from '../errors.ts'
import { getMediaFaultsFor } from '../options.ts'
import { storageInternals } from '../storage/storage.ts'
import type { FragmentInfo, FragmentSource, StreamRecord } from '../storage/types.ts'
import { writeFragmentChunk } from './fragment-output.ts'
import { chunkHead, type GET_MEDIA_ERRORS, getMediaEndTags, getMediaErrorChunk } from './media-chunk.ts'
import { MediaResponse } from './media-response.ts'
import type { StartPosition } from './start-selector.ts'

/** Concurrent GetMedia connections per stream; more are refused with `ConnectionLimitExceededException`. */
export const MAX_GET_MEDIA_CONNECTIONS = 3

/** Why a GetMedia response stops. `caught-up`: every fragment was sent and none came for the idle window. */
type StopReason =
  | 'client-gone'
  | 'stream-deleted'
  | 'storage-closed'
  | 'shutdown'
  | 'error-chunk'
  | 'caught-up'

/**
 * One GetMedia response: the stream's fragments from the start selector on, one MKV chunk each, then every
 * fragment PutMedia stores afterwards, as soon as it is stored. Once it has caught up (every fragment sent), it
 * ends (terminating chunk) when no new fragment is stored for `getMediaIdleTimeoutMs`, as the service does; it
 * also ends when the stream is deleted, the emulator closes, or a fragment cannot be read (after the error
 * chunk, as the service's "error that caused GetMedia to stop").
 */
export class GetMediaConnection implements LiveConnection {
  readonly #context: EmulatorContext
  readonly #stream: StreamRecord
  readonly #position: StartPosition
  readonly #runtime: StreamRuntime
  readonly #media: MediaResponse
  readonly #connectionIndex: number
  /** Fragments to consider, oldest first: the stored ones (per the selector), then live ones as they arrive. */
  #queue: FragmentInfo[] = []
  /** Sequence of the last fragment written: the stored list and live events overlap, later copies are skipped. */
  #lastSequence = 0
  /** The start selector accepted a fragment: every later one follows. */
  #started = false
  #stop: StopReason | undefined
  /** Wakes the write loop waiting for a fragment or a stop. */
  #wake: (() => void) | undefined
  readonly #done: Promise<void>
  #resolveDone!: () => void

  /**
   * Takes one of the stream's GetMedia connection slots, or throws `ConnectionLimitExceededException` (before
   * any byte of the response is written).
   */
  constructor(
    context: EmulatorContext,
    stream: StreamRecord,
    position: StartPosition,
    response: ServerResponse,
  ) {
    this.#context = context
    this.#stream = stream
    this.#position = position
    this.#runtime = context.runtime(stream)
    if (this.#runtime.getMediaReaders >= MAX_GET_MEDIA_CONNECTIONS) {
      throw new ServiceError(
        'ConnectionLimitExceededException',
        400,
        `The stream already has ${MAX_GET_MEDIA_CONNECTIONS} GetMedia connections; further connections are rejected.`,
      )
    }
    this.#runtime.getMediaReaders++
    this.#connectionIndex = this.#runtime.getMediaConnections++
    const faults = getMediaFaultsFor(context.options.faults, stream.streamName, this.#connectionIndex)
    this.#media = new MediaResponse(response, faults)
    response.on('close', () => this.#stopWith('client-gone'))
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve))
  }

  /** Writes the response until the client goes, the stream is deleted or the emulator closes. */
  async run(): Promise<void> {
    const { storage, log } = this.#context
    const name = this.#stream.streamName
    this.#context.connections.add(this)
    // Subscribe before listing: a fragment stored in between shows up in both and is written once.
    const unsubscribe = storage.subscribe(name, (event) => {
      if (event.type === 'fragment-stored') this.#queue.push(event.fragment)
      else if (event.type === 'storage-closed') this.#stopWith('storage-closed')
      else if (event.streamARN === this.#stream.streamARN) this.#stopWith('stream-deleted')
      this.#wake?.()
    })
    const stored = storage.listFragments(name)
    const first = this.#position.firstStored(stored)
    if (first < stored.length) {
      this.#started = true
      this.#queue = [...stored.slice(first), ...this.#queue]
    }
    log.info('GetMedia connection opened', {
      streamName: name,
      connectionIndex: this.#connectionIndex,
      startSelectorType: this.#position.type,
    })
    let fragments = 0
    try {
      this.#media.start()
      while (this.#stop === undefined && !this.#media.gone) {
        const info = this.#queue.shift()
        if (info === undefined) {
          if (!(await this.#waitForFragment())) this.#stopWith('caught-up')
          continue
        }
        if (info.sequence <= this.#lastSequence) continue
        if (!this.#started) {
          if (!this.#position.acceptsLive(info)) continue
          this.#started = true
        }
        this.#lastSequence = info.sequence
        if (!(await this.#write(info))) break
        fragments++
      }
    } finally {
      unsubscribe()
      this.#runtime.getMediaReaders--
      this.#context.connections.delete(this)
      this.#media.end()
      log.info('GetMedia connection finished', {
        streamName: name,
        connectionIndex: this.#connectionIndex,
        reason: this.#stop ?? 'client-gone',
        fragments,
        bytes: this.#media.bytesWritten,
      })
      this.#resolveDone()
    }
  }

  shutdown(): Promise<void> {
    this.#stopWith('shutdown')
    // The response ends with its terminating chunk, unless a client that stopped reading holds a write.
    if (this.#media.waiting) this.#media.destroy()
    return this.#done
  }

  /**
   * Writes one fragment's chunk (from memory, or read from its file piece by piece), or the error chunk that ends
   * the response; false when the response is over.
   */
  async #write(info: FragmentInfo): Promise<boolean> {
    const { storage, log, options } = this.#context
    let source: FragmentSource | undefined
    let errorId: keyof typeof GET_MEDIA_ERRORS = 4000
    try {
      source = (await storageInternals.openFragment(storage, this.#stream.streamName, info.fragmentNumber))
        ?.source
    } catch (error) {
      log.error('GetMedia could not read a fragment', {
        streamName: this.#stream.streamName,
        fragmentNumber: info.fragmentNumber,
        error: String(error),
      })
      errorId = 5000
    }
    try {
      if (this.#stop !== undefined) return false
      if (source === undefined) {
        await this.#media.writeChunk([getMediaErrorChunk(info.fragmentNumber, errorId)], { fragment: false })
        this.#stopWith('error-chunk')
        return false
      }
      const millisBehindNow = options.clock() - info.serverTimestampMs
      return await writeFragmentChunk(this.#media, source, chunkHead(info, source.header), [
        getMediaEndTags(info, millisBehindNow),
      ])
    } catch (error) {
      log.error('GetMedia could not read a fragment', {
        streamName: this.#stream.streamName,
        fragmentNumber: info.fragmentNumber,
        error: String(error),
      })
      // Nothing of the fragment's chunk was written unless the response is gone (see writeFragmentChunk).
      if (!this.#media.gone)
        await this.#media.writeChunk([getMediaErrorChunk(info.fragmentNumber, 5000)], { fragment: false })
      this.#stopWith('error-chunk')
      return false
    } finally {
      if (source?.kind === 'file') await source.close().catch(() => {})
    }
  }

  /**
   * Waits, caught up, for a stored fragment or a stop: false when `getMediaIdleTimeoutMs` passed without either.
   * Any fragment stored on the stream restarts the wait, even one the start selector does not take yet.
   */
  #waitForFragment(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined
        resolve(false)
      }, this.#context.options.getMediaIdleTimeoutMs)
      this.#wake = () => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve(true)
      }
    })
  }

  #stopWith(reason: StopReason): void {
    this.#stop ??= reason
    this.#wake?.()
  }
}
