import { invalidOption } from '@kvs-streams/core'
import {
  createFragmentPutter,
  type FragmentPutterOptions,
  type PutFragmentOutcome,
} from './fragment-putter.ts'
import type { PutFragmentInput, PutHeaderInput } from './put-fragment.ts'

/** A fragment the service acknowledged (its `waitFor` ack, `PERSISTED` by default). */
export interface FragmentAcknowledgedEvent extends PutFragmentOutcome {
  type: 'fragment-acknowledged'
}

/**
 * A violation `PutFragmentStream` passes through as it came (the chunker's `ViolationEvent`, with its
 * `onViolation: 'emit'`, is one). Declared by shape; the stream reads nothing of it but its `type`.
 */
export interface ViolationLikeEvent {
  /** What makes it a violation: the stream passes it through. */
  readonly type: 'violation'
  /** The rule broken (the chunker's `Violation`, or anything with a `kind` and a `message`). */
  readonly violation: {
    /** Which rule (the chunker's `ViolationKind`). */
    readonly kind: string
    /** What happened, for people. */
    readonly message: string
  }
}

/**
 * What `PutFragmentStream` takes, by shape: the chunker's events (`ClusterChunkerStream`'s, or the
 * repackager's). A `header` is kept for the requests that follow, each `fragment` is put, `fragment-start` is
 * ignored and violations pass through.
 */
export type PutFragmentStreamInput =
  | ({ readonly type: 'header' } & PutHeaderInput)
  | ({ readonly type: 'fragment' } & PutFragmentInput)
  | { readonly type: 'fragment-start' }
  | ViolationLikeEvent

/**
 * What `PutFragmentStream` emits: each fragment once acknowledged, and the violations as they came, typed as
 * `V` (default `ViolationLikeEvent`; the chunker's `ViolationEvent` when it is the source).
 */
export type PutFragmentStreamEvent<V extends ViolationLikeEvent = ViolationLikeEvent> =
  | FragmentAcknowledgedEvent
  | V

/**
 * A WHATWG `TransformStream` over `createFragmentPutter`: chunker events in (from `ClusterChunkerStream`, or
 * anything of their shape: `PutFragmentStreamInput`), one fetch PutMedia request per fragment,
 * `fragment-acknowledged` events out in order. Violations (with the chunker's `onViolation: 'emit'`) pass
 * through unchanged: `V` names their type (`new PutFragmentStream<ViolationEvent>(options)` to read the
 * chunker's own; the stream does not check it). A fragment that cannot be stored errors the stream with the
 * putter's error. Each write waits for its fragment's ack, so a slow service holds back the chunker.
 *
 * ```ts
 * await recording.pipeThrough(new ClusterChunkerStream()).pipeThrough(new PutFragmentStream(options))
 *   .pipeTo(sink)
 * ```
 *
 * @throws {TypeError} on a bad option
 */
export class PutFragmentStream<V extends ViolationLikeEvent = ViolationLikeEvent> extends TransformStream<
  PutFragmentStreamInput,
  PutFragmentStreamEvent<V>
> {
  constructor(options: FragmentPutterOptions) {
    const putter = createFragmentPutter(options)
    /** The header every request starts with: the latest one from the chunker. */
    let header: PutHeaderInput | undefined
    super({
      async transform(event, controller) {
        switch (event?.type) {
          case 'header':
            header = event
            return
          case 'fragment-start':
            return
          case 'violation':
            // Passed through as it came: `V` is what the caller says its violations are.
            controller.enqueue(event as V)
            return
          case 'fragment': {
            if (header === undefined)
              throw invalidOption('chunk', 'a header event before the first fragment', event)
            const outcome = await putter.put(header, event)
            controller.enqueue({ type: 'fragment-acknowledged', ...outcome })
            return
          }
          default:
            throw invalidOption('chunk', 'a header, fragment, fragment-start or violation event', event)
        }
      },
    })
  }
}
