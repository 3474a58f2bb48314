import type { ServerResponse } from 'node:http'
import type { EmulatorContext, LiveConnection, StreamRuntime } from '../context.ts'
import { ServiceError } from '../errors.ts'
import { storageInternals } from '../storage/storage.ts'
import type { FragmentInfo, FragmentSource, StreamRecord } from '../storage/types.ts'
import { BrokenChunkError, writeFragmentChunk } from './fragment-output.ts'
import { chunkHead, fragmentListErrorChunk } from './media-chunk.ts'
import { MediaResponse } from './media-response.ts'

/** Concurrent GetMediaForFragmentList connections per stream (the service's limit). */
export const MAX_FRAGMENT_LIST_CONNECTIONS = 5

/**
 * One GetMediaForFragmentList response: a chunk per requested fragment, in the order asked, each with the
 * fragment number and timestamps before the cluster and the producer's metadata after it (no
 * MILLIS_BEHIND_NOW or CONTINUATION_TOKEN), then the end of the body. A fragment that cannot be read gets an
 * error chunk (`AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE` / `…_EXCEPTION_MESSAGE`) and the list goes on.
 */
export class FragmentListConnection implements LiveConnection {
  readonly #context: EmulatorContext
  readonly #stream: StreamRecord
  readonly #fragments: readonly string[]
  readonly #runtime: StreamRuntime
  readonly #media: MediaResponse
  #stopped = false
  readonly #done: Promise<void>
  #resolveDone!: () => void

  /**
   * Takes one of the stream's connection slots, or throws `ClientLimitExceededException`: the model declares
   * no ConnectionLimitExceededException for GetMediaForFragmentList.
   */
  constructor(
    context: EmulatorContext,
    stream: StreamRecord,
    fragments: readonly string[],
    response: ServerResponse,
  ) {
    this.#context = context
    this.#stream = stream
    this.#fragments = fragments
    this.#runtime = context.runtime(stream)
    if (this.#runtime.fragmentListReaders >= MAX_FRAGMENT_LIST_CONNECTIONS) {
      throw new ServiceError(
        'ClientLimitExceededException',
        400,
        `The stream already has ${MAX_FRAGMENT_LIST_CONNECTIONS} GetMediaForFragmentList connections.`,
      )
    }
    this.#runtime.fragmentListReaders++
    this.#media = new MediaResponse(response)
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve))
  }

  async run(): Promise<void> {
    this.#context.connections.add(this)
    try {
      this.#media.start()
      for (const fragmentNumber of this.#fragments) {
        if (this.#stopped || this.#media.gone) break
        if (!(await this.#write(fragmentNumber))) break
      }
    } finally {
      this.#runtime.fragmentListReaders--
      this.#context.connections.delete(this)
      this.#media.end()
      this.#resolveDone()
    }
  }

  /**
   * Writes one requested fragment's chunk (from memory, or read from its file piece by piece), or an error chunk
   * when it cannot be read; false when the response is over.
   */
  async #write(fragmentNumber: string): Promise<boolean> {
    const { storage, log } = this.#context
    let opened: { info: FragmentInfo; source: FragmentSource } | undefined
    try {
      opened = await storageInternals.openFragment(storage, this.#stream.streamName, fragmentNumber)
      if (opened !== undefined) {
        const { info, source } = opened
        return await writeFragmentChunk(this.#media, source, chunkHead(info, source.header), [])
      }
    } catch (error) {
      log.error('GetMediaForFragmentList could not read a fragment', {
        streamName: this.#stream.streamName,
        fragmentNumber,
        error: String(error),
      })
      if (error instanceof BrokenChunkError) return false
    } finally {
      if (opened?.source.kind === 'file') await opened.source.close().catch(() => {})
    }
    return this.#media.writeChunk([
      fragmentListErrorChunk(
        fragmentNumber,
        'ResourceNotFoundException',
        `Fragment ${fragmentNumber} is not found or not available.`,
      ),
    ])
  }

  shutdown(): Promise<void> {
    this.#stopped = true
    if (this.#media.waiting) this.#media.destroy()
    return this.#done
  }
}
