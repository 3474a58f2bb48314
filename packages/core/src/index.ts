export {
  type CoreOutcome,
  CoreStream,
  type CoreStreamStrategies,
  coreStreamPair,
  type IncrementalCore,
  type IterateCoreOptions,
  iterateCore,
  settledEnd,
  settledPush,
} from './adapters.ts'
export { ChunkStore, concatBytes } from './chunk-store.ts'
export { defineErrorFamily, type ErrorFamily, type FamilyErrorOptions } from './errors.ts'
export {
  describeValue,
  invalidOption,
  isNumberWithin,
  type NumberRule,
  numberOption,
  positiveIntegerOption,
  renamedOption,
} from './options.ts'
