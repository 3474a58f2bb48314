/**
 * Exit statuses of `kvs`. 252–255 and 130 follow the AWS CLI v2; 1 is kvs's own.
 * @see https://docs.aws.amazon.com/cli/latest/topic/return-codes.html
 */
export const ExitCode = {
  /** The command did what it was asked (`kvs get` stopped by Ctrl-C or `--until` included). */
  Ok: 0,
  /**
   * The media was rejected: an ERROR acknowledgement, MKV the chunker refused before sending, or `kvs put` input
   * that is not MKV (MP4, TS, raw H.264), is empty or is cut short.
   */
  MediaRejected: 1,
  /**
   * `kvs get` gave up: GetMedia connections kept failing for `--retry-for`. What was written ends on a whole
   * fragment; run again later from the `--start` it printed. 75 is `EX_TEMPFAIL` of sysexits.h (try again later).
   */
  RetriesExhausted: 75,
  /** `kvs put` was interrupted (Ctrl-C, SIGTERM) before its input ended; what was sent is kept. */
  Interrupted: 130,
  /** The command line is wrong: unknown command or option, missing or invalid argument. */
  Usage: 252,
  /** The environment or configuration is wrong: no region, no credentials, unknown profile. */
  Configuration: 253,
  /** The service answered with an error (stream not found, not authorized, bad signature, throttled…). */
  Service: 254,
  /** Anything else: connection refused, timeouts, file errors, unexpected failures. */
  Other: 255,
} as const

/** One of the `ExitCode` values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]
