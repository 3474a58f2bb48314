import type { ChunkerEvent, HeaderEvent, ViolationEvent } from '@kvs-streams/chunker'
import { invalidOption } from '@kvs-streams/core'
import {
  createFragmentPutter,
  type FragmentPutterOptions,
  type PutFragmentOutcome,
} from './fragment-putter.ts'

/** A fragment the service acknowledged (its `waitFor` ack, `PERSISTED` by default). */
export interface FragmentAcknowledgedEvent extends PutFragmentOutcome {
  type: 'fragment-acknowledged'
}

/** What `PutFragmentStream` emits: each fragment once acknowledged, and the chunker's violations as they came. */
export type PutFragmentStreamEvent = FragmentAcknowledgedEvent | ViolationEvent

/**
 * A WHATWG `TransformStream` over `createFragmentPutter`: chunker events in (from `ClusterChunkerStream`),
 * one fetch PutMedia request per fragment, `fragment-acknowledged` events out in order. Violations (with the
 * chunker's `onViolation: 'emit'`) pass through. A fragment that cannot be stored errors the stream with the
 * putter's error. Each write waits for its fragment's ack, so a slow service holds back the chunker.
 *
 * ```ts
 * await recording.pipeThrough(new ClusterChunkerStream()).pipeThrough(new PutFragmentStream(options))
 *   .pipeTo(sink)
 * ```
 *
 * @throws {TypeError} on a bad option
 */
export class PutFragmentStream extends TransformStream<ChunkerEvent, PutFragmentStreamEvent> {
  constructor(options: FragmentPutterOptions) {
    const putter = createFragmentPutter(options)
    /** The header every request starts with: the latest one from the chunker. */
    let header: HeaderEvent | undefined
    super({
      async transform(event, controller) {
        switch (event?.type) {
          case 'header':
            header = event
            return
          case 'fragment-start':
            return
          case 'violation':
            controller.enqueue(event)
            return
          case 'fragment': {
            if (header === undefined)
              throw invalidOption('chunk', 'a header event before the first fragment', event)
            const outcome = await putter.put(header, event)
            controller.enqueue({ type: 'fragment-acknowledged', ...outcome })
            return
          }
          default:
            throw invalidOption('chunk', 'a chunker event', event)
        }
      },
    })
  }
}
