import type { Delivery } from './delivery.ts'
import { FAULT_KINDS, type FaultKind } from './hostile-proxy.ts'
import type { Percentiles } from './recovery.ts'

/** The figures of one scenario run, printed as one line. */
export interface ScenarioSummary {
  scenario: string
  seed: number
  /** Faults by kind: the proxy's kinds plus `kill-9` and `gc` (forced collections are not counted as faults). */
  faults: Partial<Record<FaultKind | 'kill-9', number>>
  forcedGcs?: number
  /** Bytes the proxy delivered to the server after their client was gone. */
  lateBytes?: number
  fragments: number
  delivery: Delivery
  recoveryMs: Percentiles
  wallMs: number
  /** Why the run failed, when it did (no hang, client error…). */
  failure?: string
}

export function totalFaults(faults: ScenarioSummary['faults']): number {
  return Object.values(faults).reduce((sum, count) => sum + (count ?? 0), 0)
}

/** `[fault-suite] <scenario> seed S: faults N (reset 3, …) fragments F lost L duplicated D …`. */
export function formatSummary(summary: ScenarioSummary): string {
  const kinds = [...FAULT_KINDS, 'kill-9' as const]
    .filter((kind) => (summary.faults[kind] ?? 0) > 0)
    .map((kind) => `${kind} ${summary.faults[kind]}`)
    .join(', ')
  const { p50, p99 } = summary.recoveryMs
  return (
    `[fault-suite] ${summary.scenario} seed ${summary.seed}: faults ${totalFaults(summary.faults)} (${kinds})` +
    `${summary.lateBytes === undefined ? '' : `, late bytes delivered ${summary.lateBytes}`}` +
    `${summary.forcedGcs === undefined ? '' : `, forced GCs ${summary.forcedGcs}`}; fragments ${summary.fragments}, ` +
    `lost ${summary.delivery.missing.length}, duplicated ${summary.delivery.duplicated.length}, ` +
    `unknown ${summary.delivery.unknown}; recovery p50 ${p50 ?? '-'} ms, p99 ${p99 ?? '-'} ms ` +
    `(${summary.recoveryMs.count} faults); wall ${(summary.wallMs / 1000).toFixed(1)} s` +
    `${summary.failure === undefined ? '' : `; FAILED: ${summary.failure}`}`
  )
}
