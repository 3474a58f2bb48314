import type { ChunkerFragmentEvent, HeaderEvent, Violation, ViolationEvent } from '@kvs-streams/chunker'

/** A frame the repackager could not place where KVS accepts it, as named in a violation. */
export interface FrameRef {
  /** Track number. */
  track: number
  /** The frame's time as sent (after any rebasing), in TimecodeScale units. */
  timecode: number
  /** The same time in milliseconds. */
  timeMs: number
  /** Absolute offset in the input of its SimpleBlock or BlockGroup. */
  offset: number
}

/**
 * A KVS rule a fragment still breaks after repackaging, in the chunker's shape (so the producer and the
 * transport take it unchanged), with the frame concerned when one frame is the cause.
 */
export interface RepackagerViolation extends Violation {
  /**
   * The earliest frame that breaks the rule, for `timecode-not-increasing`: a frame that can only be sent at
   * or before the previous fragment's last frame (an open-GOP leading frame, a frame that came too late,
   * timecodes that went back without `rebaseTimecodes`).
   */
  frame: FrameRef | undefined
}

/** A fragment breaks a KVS rule that repackaging cannot repair (with `onViolation: 'emit'`). */
export interface RepackagerViolationEvent extends ViolationEvent {
  /** The rule broken, the ErrorId it would cause, and the frame concerned when there is one. */
  violation: RepackagerViolation
}

/** What the repackager did to one fragment, compared with the input's own Cluster. */
export interface FragmentChanges {
  /**
   * Whether the fragment's bytes were written anew (a new Cluster header and rewritten block timecodes
   * around views of the frame payloads). False: they are the input's Cluster (and the Tags after it) as
   * they were, because that Cluster already was a KVS-ready fragment.
   */
  rewritten: boolean
  /** Frames of this fragment that the input had on the other side of the fragment's boundaries. */
  framesMoved: number
  /** Whether the fragment starts at a key frame inside an input Cluster (a Cluster split in two). */
  split: boolean
  /** Input Clusters that started inside this fragment (merged into it): they did not start with a key frame, or were shorter than kept. */
  mergedClusters: number
  /** Milliseconds added to every frame time of the fragment by `rebaseTimecodes` (0 when none). */
  rebasedMs: number
}

/** One KVS fragment, as the chunker emits it, with what repackaging changed. */
export interface RepackagedFragmentEvent extends ChunkerFragmentEvent {
  /** What repackaging did to this fragment. */
  changes: FragmentChanges
}

/**
 * An event of the repackager, discriminated by `type`: a subset of the chunker's events (`header`,
 * `fragment`, `violation`), so whatever takes the chunker's output (the producer, `putMedia`,
 * `PutFragmentStream`) takes the repackager's unchanged.
 */
export type RepackagerEvent = HeaderEvent | RepackagedFragmentEvent | RepackagerViolationEvent
