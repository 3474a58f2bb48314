export { HangError, within } from './bound.ts'
export { FAULT_BUDGET, MIN_TOTAL_FAULTS } from './budget.ts'
export { clustersOf, sha256 } from './clusters.ts'
export { compareDelivery, type Delivery, inSourceOrder } from './delivery.ts'
export {
  type EmulatorProcess,
  type EmulatorProcessOptions,
  emulatorBin,
  killHard,
  startEmulatorProcess,
} from './emulator-process.ts'
export { exposeGc, type GcPressure, startGcPressure } from './gc-pressure.ts'
export {
  FAULT_KINDS,
  type FaultKind,
  type FaultRoute,
  type FaultWeights,
  HostileProxy,
  type HostileProxyOptions,
  type InjectedFault,
  type PrimaryFaultKind,
  type ProxyCounts,
} from './hostile-proxy.ts'
export { makeSource, type SourceMedia, type SourceOptions } from './media.ts'
export { pickInRange, seededRandom } from './random.ts'
export { type Percentiles, percentiles, recoveryTimes } from './recovery.ts'
export { type DiskWalk, readStoredFragments, type StoredCluster } from './stored-fragments.ts'
export { formatSummary, type ScenarioSummary, totalFaults } from './summary.ts'
