export { RepackagerError, type RepackagerErrorCode, type RepackagerErrorOptions } from './errors.ts'
export type {
  FragmentChanges,
  FrameRef,
  RepackagedFragmentEvent,
  RepackagerEvent,
  RepackagerViolation,
  RepackagerViolationEvent,
} from './events.ts'
export type { RepackagerOptions } from './options.ts'
export { createRepackager, type Repackager } from './repackager.ts'
export { describeChanges, type RepackagerStats } from './stats.ts'
export { RepackagerStream, repackage } from './stream.ts'
