import { Transform, type TransformCallback, type TransformOptions } from 'node:stream'
import { endCore, type IncrementalCore } from './adapters.ts'

/** Buffer sizes of a `coreNodeTransform`, and whether its writable side takes objects. */
export type CoreTransformOptions = Pick<
  TransformOptions,
  'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark'
> & {
  writableObjectMode?: boolean
}

/**
 * A Node `Transform` around a core. The events a call returns are pushed; when a later call fails, the error
 * is passed on only once every pushed event has been read, since destroying a stream discards its buffered
 * chunks.
 */
class CoreTransform<I, O> extends Transform {
  readonly #core: IncrementalCore<I, O>
  /** The core's error, once it has failed: every later write fails with it. */
  #failure: Error | undefined
  /** Releases a held-back error once the readable buffer is empty. */
  #onDrained: (() => void) | undefined

  constructor(core: IncrementalCore<I, O>, options: CoreTransformOptions) {
    super({ ...options, readableObjectMode: true })
    this.#core = core
  }

  override _transform(chunk: I, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#run(() => {
      for (const event of this.#core.push(chunk)) this.push(event)
    }, callback)
  }

  override _flush(callback: TransformCallback): void {
    this.#run(
      () =>
        endCore(this.#core, (events) => {
          for (const event of events) this.push(event)
        }),
      callback,
    )
  }

  override read(size?: number): unknown {
    const chunk = super.read(size)
    const onDrained = this.#onDrained
    if (onDrained !== undefined && this.readableLength === 0) {
      this.#onDrained = undefined
      process.nextTick(onDrained)
    }
    return chunk
  }

  /** Runs a step that pushes the core's events; on failure, fails the callback once the buffer is read. */
  #run(step: () => void, callback: TransformCallback): void {
    if (this.#failure) {
      callback(this.#failure)
      return
    }
    try {
      step()
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error), { cause: error })
      this.#failure = failure
      if (this.readableLength === 0) callback(failure)
      else this.#onDrained = () => callback(failure)
      return
    }
    callback()
  }
}

/**
 * Hosts a core in a Node `Transform`: bytes in, events out (readable side in object mode). Used by every
 * kvs-streams package for its `./node` adapter; it holds no parsing logic of its own.
 */
export function coreNodeTransform<I, O>(
  core: IncrementalCore<I, O>,
  options: CoreTransformOptions = {},
): Transform {
  return new CoreTransform(core, options)
}
