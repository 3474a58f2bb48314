import type { ChunkerEvent, ChunkerFragmentEvent, HeaderEvent } from '@kvs-streams/chunker'
import { type IncrementalCore, settledEnd } from '@kvs-streams/core'
import {
  type AudioConfigEvent,
  createAdtsParser,
  createAnnexBMuxer,
  createMuxer,
  type FrameEvent,
  type Muxer,
  type StreamFormat,
} from '@kvs-streams/muxer'
import {
  createRepackager,
  describeChanges,
  type RepackagedFragmentEvent,
  type RepackagerStats,
} from '@kvs-streams/repackager'

/** What `kvs put` reads: Matroska, or a raw elementary stream it muxes into Matroska (`detectFormat` tells them apart). */
export type InputFormat = StreamFormat

/** The formats `--format` takes. */
export const INPUT_FORMATS: readonly InputFormat[] = ['mkv', 'h264', 'h265', 'aac']

/** How many bytes `detectFormat` is given (fewer are fine at the end of a short input). */
export const DETECT_BYTES = 16

/** What the input stage changed, for `kvs put`'s messages. */
export interface InputStageReport {
  /** One sentence on the first change made (said once, as it happens), or undefined. */
  firstChange?: string | undefined
  /** What repackaging changed over the whole input (`describeChanges`), or undefined when nothing. */
  summary: string | undefined
  /** The repackager's counts (MKV input only). */
  stats?: RepackagerStats | undefined
}

/**
 * Turns what `kvs put` reads into KVS-ready fragments for the producer (`producer.fragments`): raw
 * H.264/H.265/AAC muxed into Matroska, MKV repackaged (clusters cut at key frames, frames moved to the
 * fragment they belong to). `push` and `end` return the chunker's `header`, `fragment` and `violation`
 * events (fragment bytes are views of the input where possible). Errors follow the contract of the
 * kvs-streams cores: a call that fails after completing fragments returns them and the error is thrown by
 * the next call (`end()` again after an `end()` that returned events); every later call throws it too.
 */
export interface InputStage {
  push(chunk: Uint8Array): ChunkerEvent[]
  end(): ChunkerEvent[]
  /** What was changed so far. */
  report(): InputStageReport
}

/** Options of `createInputStage`. */
export interface InputStageOptions {
  /** Frames per second of raw video (default: the stream's timing information, else 25). */
  fps?: number | undefined
  /** Called once, when the repackager first changes a fragment. */
  onFirstChange?: ((text: string) => void) | undefined
  /** Shift timecodes so a source restarting at zero continues (MKV input). */
  rebaseTimecodes?: boolean | undefined
  /** Leave out the service's `AWS_KINESISVIDEO_*` Tags (MKV input: GetMedia output put again). */
  stripServiceTags?: boolean | undefined
}

type StageEvent = ChunkerEvent | { type: string }

/** The MKV bytes of header and fragment events, in order; other events carry none. */
export function bytesOf(events: readonly { type: string }[], out: Uint8Array[] = []): Uint8Array[] {
  for (const event of events) {
    if (event.type === 'header') out.push((event as HeaderEvent).bytes)
    else if (event.type === 'fragment') out.push(...(event as ChunkerFragmentEvent).parts)
  }
  return out
}

/** The chunker-shaped events among `events` (the muxer's parsers also emit `config` and `frame` events). */
function chunkerEvents(events: readonly StageEvent[]): ChunkerEvent[] {
  return events.filter(
    (event): event is ChunkerEvent =>
      event.type === 'header' || event.type === 'fragment' || event.type === 'violation',
  )
}

/**
 * Runs a stage's steps under the error contract of the cores: a step writes its events to `out`; when it
 * fails after some, they are returned and the error is thrown by the next step (at once when none of them
 * is a chunker event). Every step after a failure throws the same error.
 */
function guard(onEvents: (events: readonly StageEvent[]) => void) {
  let failure: { error: unknown } | undefined
  return (step: (out: StageEvent[]) => void): ChunkerEvent[] => {
    if (failure !== undefined) throw failure.error
    const out: StageEvent[] = []
    try {
      step(out)
    } catch (error) {
      failure = { error }
    }
    onEvents(out)
    const events = chunkerEvents(out)
    if (failure !== undefined && events.length === 0) throw failure.error
    return events
  }
}

/** Pushes the events of ending `core` to `out`, then throws the error it failed with, if any. */
function endInto(core: IncrementalCore<never, StageEvent>, out: StageEvent[]): void {
  const { events, failed, error } = settledEnd(core)
  out.push(...events)
  if (failed) throw error
}

/** An input stage for `format`, or undefined when the bytes go to the producer as they are. */
export function createInputStage(
  format: InputFormat,
  repackage: boolean,
  options: InputStageOptions = {},
): InputStage | undefined {
  switch (format) {
    case 'mkv':
      return repackage ? repackagingStage(options) : undefined
    case 'h264':
    case 'h265':
      return annexBStage(format, options)
    case 'aac':
      return adtsStage()
  }
}

function repackagingStage(options: InputStageOptions): InputStage {
  // Violations the repackager cannot repair go on as they are: the producer's chunker reports them.
  const repackager = createRepackager({
    onViolation: 'emit',
    rebaseTimecodes: options.rebaseTimecodes === true,
    stripServiceTags: options.stripServiceTags === true,
  })
  let firstChange: string | undefined
  const watch = (events: readonly StageEvent[]) => {
    if (firstChange !== undefined) return
    for (const event of events) {
      if (event.type !== 'fragment') continue
      const fragment = event as RepackagedFragmentEvent
      const text = describeFragment(fragment)
      if (text === undefined) continue
      firstChange = text
      options.onFirstChange?.(text)
      return
    }
  }
  const guarded = guard(watch)
  return {
    push: (chunk) => guarded((out) => out.push(...repackager.push(chunk))),
    end: () => guarded((out) => endInto(repackager, out)),
    report: () => ({ firstChange, summary: describeChanges(repackager.stats), stats: repackager.stats }),
  }
}

/** What the repackager changed in one fragment, or undefined when it is the input's Cluster as it was. */
function describeFragment(fragment: RepackagedFragmentEvent): string | undefined {
  const { changes } = fragment
  if (!changes.rewritten && changes.framesMoved === 0) return undefined
  const what: string[] = []
  if (changes.framesMoved > 0)
    what.push(
      `${changes.framesMoved} frame${changes.framesMoved === 1 ? '' : 's'} moved to the fragment they belong to`,
    )
  if (changes.split) what.push('a cluster split at a key frame')
  if (changes.mergedClusters > 0)
    what.push(`${changes.mergedClusters} cluster${changes.mergedClusters === 1 ? '' : 's'} merged into it`)
  if (changes.rebasedMs > 0) what.push(`timecodes shifted by ${changes.rebasedMs} ms`)
  if (what.length === 0) what.push('a new cluster written, key frame first')
  return `fragment ${fragment.index}: ${what.join(', ')}`
}

function annexBStage(codec: 'h264' | 'h265', options: InputStageOptions): InputStage {
  const muxer = createAnnexBMuxer({ codec, ...(options.fps === undefined ? {} : { fps: options.fps }) })
  const guarded = guard(() => {})
  return {
    push: (chunk) => guarded((out) => out.push(...muxer.push(chunk))),
    end: () => guarded((out) => endInto(muxer, out)),
    report: () => ({ summary: undefined }),
  }
}

function adtsStage(): InputStage {
  const parser = createAdtsParser()
  let muxer: Muxer | undefined
  const take = (events: readonly (AudioConfigEvent | FrameEvent)[], out: StageEvent[]): void => {
    for (const event of events) {
      if (event.type === 'config') {
        if (muxer !== undefined) continue
        muxer = createMuxer({
          tracks: [
            {
              codec: 'aac',
              codecPrivate: event.codecPrivate,
              sampleRate: event.sampleRate,
              channels: event.channels,
              frameDurationMs: event.frameDurationMs,
              name: 'kvs_audio_track',
            },
          ],
        })
      } else if (muxer !== undefined) out.push(...muxer.push({ ...event, track: 1 }))
    }
  }
  const guarded = guard(() => {})
  return {
    push: (chunk) => guarded((out) => take(parser.push(chunk), out)),
    end: () =>
      guarded((out) => {
        const { events, failed, error } = settledEnd(parser)
        take(events, out)
        if (failed) throw error
        if (muxer !== undefined) endInto(muxer, out)
      }),
    report: () => ({ summary: undefined }),
  }
}
