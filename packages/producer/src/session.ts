import type { Duplex } from 'node:stream'
import { type Ack, type AckDecoder, createAckDecoder } from '@kvs-streams/acks'
import { type PutMediaOptions, putMedia } from '@kvs-streams/transport'

/** What a session's connection reports to the producer's driver. */
export interface SessionHandlers {
  /** The service answered 200. */
  response(): void
  /**
   * The acknowledgements of one read, in arrival order: called for every read, with none when its bytes
   * completed no ack (the core counts any response byte as the service answering).
   */
  acks(acks: readonly Ack[]): void
  /**
   * The connection is over: `cause` is its error (socket, acks not decodable, a service error in the
   * response), undefined when the response ended. Called at most once, never after `destroy()`.
   */
  ended(cause: unknown): void
}

/**
 * One PutMedia connection, with no logic of its own: the request (a `putMedia` Duplex) with the MKV header
 * written at once, writes of whole fragments, and the response decoded into acks. What the acks and the
 * connection's end mean is the producer core's business (`core.ts`).
 */
export class SessionConnection {
  readonly #duplex: Duplex
  readonly #decoder: AckDecoder = createAckDecoder()
  readonly #handlers: SessionHandlers
  #over = false

  /** @throws what `putMedia` throws for options it refuses */
  constructor(options: PutMediaOptions, header: Uint8Array, handlers: SessionHandlers) {
    this.#handlers = handlers
    this.#duplex = putMedia(options)
    this.#duplex.on('response', () => {
      if (!this.#over) this.#handlers.response()
    })
    this.#duplex.on('data', (chunk: Uint8Array) => this.#onData(chunk))
    this.#duplex.on('end', () => {
      if (this.#over) return
      try {
        this.#decoder.end()
      } catch {
        // A truncated trailing ack changes nothing: the fragments it would have named stay unacknowledged.
      }
      this.#end(undefined)
    })
    this.#duplex.on('error', (error: Error) => this.#end(error))
    // The request head goes with the first body bytes, so the service answers (and supersedes any older
    // connection of the stream) before a fragment is written.
    this.#duplex.write(header)
  }

  /**
   * Writes one fragment (its views in order, as one write: the transport's queue then holds the whole fragment
   * and the socket does not wait between parts). `taken` runs once the transport has taken it; not on failure,
   * which ends the connection instead.
   */
  write(parts: readonly Uint8Array[], taken: () => void): void {
    this.#duplex.write(parts, (error) => {
      if (!error && !this.#over) taken()
    })
  }

  /** Ends the request body; the response's end is reported through `ended`. */
  end(): void {
    if (!this.#over) this.#duplex.end()
  }

  /** Destroys the connection; nothing is reported after this. */
  destroy(): void {
    this.#over = true
    if (!this.#duplex.destroyed) this.#duplex.destroy()
  }

  #onData(chunk: Uint8Array): void {
    if (this.#over) return
    let failure: unknown
    const acks: Ack[] = []
    try {
      for (const event of this.#decoder.push(chunk)) {
        if (event.type === 'service-error') {
          failure = event.error
          break
        }
        acks.push(event.ack)
      }
    } catch (error) {
      failure = error
    }
    this.#handlers.acks(acks)
    if (failure !== undefined) this.#end(failure)
  }

  #end(cause: unknown): void {
    if (this.#over) return
    this.#over = true
    this.#handlers.ended(cause)
  }
}
