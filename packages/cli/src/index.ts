export { ACK_ADVICE, adviseAckError } from './ack-advice.ts'
export { runCli, version } from './cli.ts'
export {
  type AwsSettings,
  type GlobalOptions,
  resolveAwsSettings,
  resolveRegion,
  type Sourced,
} from './config.ts'
export { CliError, type CliErrorCode, type CliErrorOptions } from './errors.ts'
export { ExitCode, type ExitCodeValue } from './exit-codes.ts'
export { type ErrorContext, type ExplainedError, explainError } from './explain-error.ts'
export {
  formatBytes,
  formatClock,
  formatDuration,
  formatInteger,
  formatTable,
  formatTime,
  truncate,
  visibleLength,
} from './format.ts'
export { type CliIo, createStyle, type OutputStream, type Style, useColor } from './io.ts'
export {
  createProgressRenderer,
  formatProgress,
  type ProgressRenderer,
  type ProgressRendererOptions,
  type ProgressSnapshot,
} from './progress.ts'
export { producerEventJson, progressSnapshot, statsJson } from './put-events.ts'
export {
  parseDuration,
  parseStart,
  parseTime,
  parseUntil,
  type StartPosition,
  type UntilCondition,
} from './time.ts'
