/** What the repackager changed so far, counted over the whole input (`Repackager.stats`). */
export interface RepackagerStats {
  /** Clusters read from the input. */
  sourceClusters: number
  /** Fragments emitted. */
  fragments: number
  /** Fragments written anew; the others are the input's Cluster bytes as they were. */
  rewrittenFragments: number
  /** Frames sent in another fragment than the input's Clusters placed them in (see `FragmentChanges`). */
  framesMoved: number
  /** Fragments that start at a key frame inside an input Cluster. */
  clustersSplit: number
  /** Input Clusters merged into the fragment before them. */
  clustersMerged: number
  /** Times timecodes were shifted by `rebaseTimecodes` (each restart of the source's clock once). */
  rebases: number
  /** Milliseconds the latest rebase added to frame times (0 when none). */
  rebasedMs: number
  /**
   * Frames left out: video frames before the first key frame (nothing can decode them), and frames of
   * other tracks that came more than `maxFragmentDurationMs` before it.
   */
  framesDropped: number
  /** Input Clusters without a frame, left out. */
  emptyClusters: number
  /**
   * Later EBML documents (or Segments) whose header was left out because they declare the same tracks as
   * the header sent (with `rebaseTimecodes`): their fragments continue the same PutMedia session.
   */
  documentsJoined: number
  /** Violation events emitted (`onViolation: 'emit'`). */
  violations: number
  /**
   * Whether the output differs from the input's own fragments in any way: a fragment rewritten, a frame
   * moved or dropped, an empty Cluster or a later document's header left out. False while every fragment is the input's Cluster as it
   * was: the input needed no repackaging (so far).
   */
  changed: boolean
}

/** Fresh, all-zero stats. */
export function emptyStats(): RepackagerStats {
  return {
    sourceClusters: 0,
    fragments: 0,
    rewrittenFragments: 0,
    framesMoved: 0,
    clustersSplit: 0,
    clustersMerged: 0,
    rebases: 0,
    rebasedMs: 0,
    framesDropped: 0,
    emptyClusters: 0,
    documentsJoined: 0,
    violations: 0,
    changed: false,
  }
}

const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`

/**
 * One sentence saying what repackaging changed, for a message shown once (`kvs put` says it before its
 * summary), or `undefined` when nothing was changed.
 *
 * @example
 * describeChanges(repackager.stats)
 * // → 'repackaged 24 of 24 fragments: moved 23 frames to the fragment they belong to'
 */
export function describeChanges(stats: RepackagerStats): string | undefined {
  if (!stats.changed) return undefined
  const what: string[] = []
  if (stats.framesMoved > 0)
    what.push(`moved ${plural(stats.framesMoved, 'frame')} to the fragment they belong to`)
  if (stats.clustersSplit > 0) what.push(`split ${plural(stats.clustersSplit, 'cluster')} at key frames`)
  if (stats.clustersMerged > 0)
    what.push(`merged ${plural(stats.clustersMerged, 'cluster')} into the one before`)
  if (stats.rebases > 0) {
    what.push(
      `shifted timecodes ${stats.rebases === 1 ? 'once' : `${stats.rebases} times`} so a restarted source continues (latest by ${stats.rebasedMs} ms)`,
    )
  }
  if (stats.framesDropped > 0)
    what.push(`dropped ${plural(stats.framesDropped, 'frame')} before the first key frame`)
  if (stats.emptyClusters > 0) what.push(`left out ${plural(stats.emptyClusters, 'empty cluster')}`)
  if (stats.documentsJoined > 0) {
    what.push(`joined ${plural(stats.documentsJoined, 'restarted document')} to the first one's header`)
  }
  if (what.length === 0) what.push('wrote new clusters (key frame first, new cluster timecodes)')
  return `repackaged ${stats.rewrittenFragments} of ${plural(stats.fragments, 'fragment')}: ${what.join(', ')}`
}
