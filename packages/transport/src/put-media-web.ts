import { finished } from 'node:stream/promises'
import { KvsAbortError } from './errors.ts'
import { type PutMediaInput, type PutMediaOptions, putMedia } from './put-media.ts'

/** A PutMedia session as a WHATWG stream pair. */
export interface PutMediaWebStreams {
  /**
   * MKV bytes: a `Uint8Array`, or an array of views written in order as one write (the chunker's events are
   * still taken, deprecated); a write resolves once the socket has taken the bytes (see `highWaterMark`).
   */
  writable: WritableStream<PutMediaInput>
  /** The raw acknowledgement body; pipe it through `AckDecoderStream` from `@kvs-streams/acks`. */
  readable: ReadableStream<Uint8Array>
}

/**
 * `putMedia` as a WHATWG `{ writable, readable }` pair (usable with `pipeThrough`). A thin adapter over the
 * same Node core: the same options, errors and backpressure. Aborting the writable or cancelling the readable
 * aborts the request.
 *
 * ```ts
 * await mkvBytes.pipeThrough(putMediaWeb(options)).pipeThrough(new AckDecoderStream()).pipeTo(sink)
 * ```
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function putMediaWeb(options: PutMediaOptions): PutMediaWebStreams {
  const duplex = putMedia(options)
  let readableController: ReadableStreamDefaultController<Uint8Array> | undefined
  let writableController: WritableStreamDefaultController | undefined
  let readableClosed = false
  duplex.on('error', (error) => {
    if (!readableClosed) readableController?.error(error)
    readableClosed = true
    writableController?.error(error)
  })

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readableController = controller
        duplex.on('data', (chunk: Buffer) => {
          if (readableClosed) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) duplex.pause()
        })
        duplex.once('end', () => {
          if (readableClosed) return
          readableClosed = true
          controller.close()
        })
      },
      pull() {
        duplex.resume()
      },
      cancel(reason) {
        readableClosed = true
        duplex.destroy(new KvsAbortError('The PutMedia readable was cancelled', { cause: reason }))
      },
    },
    { highWaterMark: 16 },
  )

  const writable = new WritableStream<PutMediaInput>({
    start(controller) {
      writableController = controller
    },
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        duplex.write(chunk, (error) => (error ? reject(error) : resolve()))
      })
    },
    close() {
      const done = finished(duplex, { readable: false })
      duplex.end()
      return done
    },
    abort(reason) {
      duplex.destroy(new KvsAbortError('The PutMedia writable was aborted', { cause: reason }))
    },
  })

  return { writable, readable }
}
