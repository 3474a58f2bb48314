import { invalidOption, numberOption } from '@kvs-streams/core'

/** Options of `createRepackager` and its adapters. */
export interface RepackagerOptions {
  /**
   * What to do when a fragment breaks a KVS rule that repackaging cannot repair (a frame that can only be
   * sent before the previous fragment's end, a GOP longer than `maxFragmentDurationMs`, …): throw a
   * `RepackagerError`, or emit a `violation` event (the chunker's shape) and go on. Default `'throw'`.
   */
  onViolation?: 'throw' | 'emit'
  /**
   * Target fragment duration, ms: a fragment ends at the first video key frame at least this long after its
   * start. Default 2,000, the KVS producer SDKs' default fragment duration.
   */
  fragmentDurationMs?: number
  /**
   * Whether an input Cluster whose first video frame is a key frame starts a fragment there even before
   * `fragmentDurationMs` is reached, so an input whose Clusters already suit KVS keeps its clustering (and
   * its bytes). False: fragments are cut by `fragmentDurationMs` alone. Default true.
   */
  keepSourceClusters?: boolean
  /** Longest fragment KVS accepts, ms (ErrorId 4002): a longer one is a violation. Default 10,000. */
  maxFragmentDurationMs?: number
  /** Largest fragment KVS accepts, bytes (ErrorId 4001): a larger one is a violation. Default 50,000,000. */
  maxFragmentBytes?: number
  /** Most tracks KVS accepts (ErrorId 4012). Default 3. */
  maxTracks?: number
  /**
   * Shift timecodes so that a source that starts again (a second EBML document or Segment, or video
   * timecodes that go back, as a restarted encoder writes them) continues right after the last frame
   * already sent, instead of being refused with ErrorId 4004. A second document with the same tracks then
   * continues the same header. Default false: times are never changed.
   */
  rebaseTimecodes?: boolean
  /**
   * Leave out level-1 Tags elements whose tags are all the service's (`AWS_KINESISVIDEO_*`), as GetMedia
   * writes them: PutMedia refuses them (ErrorId 4009), so output of GetMedia can be put again. Default false.
   */
  stripServiceTags?: boolean
  /**
   * Close the fragment at a gap in the media: when a frame comes more than this many ms after every frame
   * before it, the next video key frame starts a new fragment whatever its duration so far. Default: off.
   */
  gapMs?: number
  /**
   * Hard memory bound, bytes: the input held for fragments not yet emitted (the open fragment, and the
   * previous one while frames that belong to it may still come). More fails with
   * `ERR_KVS_REPACKAGER_FRAGMENT_TOO_LARGE`. Default 128 MiB.
   */
  maxBufferedBytes?: number
  /** Largest header (EBML header through Tracks) accepted. Default 8 MiB. */
  maxHeaderBytes?: number
}

/** `RepackagerOptions` with every default applied. */
export interface ResolvedRepackagerOptions {
  onViolation: 'throw' | 'emit'
  fragmentDurationMs: number
  keepSourceClusters: boolean
  maxFragmentDurationMs: number
  maxFragmentBytes: number
  maxTracks: number
  rebaseTimecodes: boolean
  stripServiceTags: boolean
  gapMs: number
  maxBufferedBytes: number
  maxHeaderBytes: number
}

/** Checks `options` and applies the defaults. @throws {TypeError} on a bad option */
export function resolveRepackagerOptions(options: RepackagerOptions): ResolvedRepackagerOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const onViolation = options.onViolation ?? 'throw'
  if (onViolation !== 'throw' && onViolation !== 'emit') {
    throw invalidOption('onViolation', "'throw' or 'emit'", onViolation)
  }
  const maxFragmentDurationMs = positive('maxFragmentDurationMs', options.maxFragmentDurationMs, 10_000)
  const fragmentDurationMs = positive('fragmentDurationMs', options.fragmentDurationMs, 2_000)
  if (fragmentDurationMs > maxFragmentDurationMs) {
    throw invalidOption(
      'fragmentDurationMs',
      `at most maxFragmentDurationMs (${maxFragmentDurationMs})`,
      fragmentDurationMs,
    )
  }
  return {
    onViolation,
    fragmentDurationMs,
    keepSourceClusters: boolean('keepSourceClusters', options.keepSourceClusters, true),
    maxFragmentDurationMs,
    maxFragmentBytes: positive('maxFragmentBytes', options.maxFragmentBytes, 50_000_000),
    maxTracks: positive('maxTracks', options.maxTracks, 3),
    rebaseTimecodes: boolean('rebaseTimecodes', options.rebaseTimecodes, false),
    stripServiceTags: boolean('stripServiceTags', options.stripServiceTags, false),
    gapMs: positive('gapMs', options.gapMs, Number.POSITIVE_INFINITY),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes, 128 * 1024 * 1024),
    maxHeaderBytes: positive('maxHeaderBytes', options.maxHeaderBytes, 8 * 1024 * 1024),
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  return value === undefined
    ? fallback
    : numberOption(name, value, 'a positive number', { above: 0, infinity: true })
}

function boolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value)
  return value
}
