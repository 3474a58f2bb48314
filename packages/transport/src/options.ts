import { invalidOption } from '@kvs-streams/core'
import type { KvsSigner } from '@kvs-streams/signer'
import type { Dispatcher } from 'undici'
import { defaultDispatcher } from './default-dispatcher.ts'
import {
  milliseconds,
  nonNegative,
  operationUrl,
  resolveEndpoint,
  resolveStreamTarget,
} from './request-options.ts'

export { milliseconds, nonNegative, operationUrl, resolveStreamTarget }

/** Default time allowed to connect, ms (producer-c's `CURL_API_DEFAULT_CONNECTION_TIMEOUT`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000

/** Identifies a stream by exactly one of its name or ARN. */
export type StreamTarget =
  | { streamName: string; streamArn?: undefined }
  | { streamArn: string; streamName?: undefined }

/** Options every data-plane call takes. */
export interface DataPlaneOptions {
  /** The data endpoint from GetDataEndpoint, e.g. `https://s-1234abcd.kinesisvideo.us-west-2.amazonaws.com`. */
  endpoint: string | URL
  /** Signs the request (`createKvsSigner` from `@kvs-streams/signer`). */
  signer: KvsSigner
  /** The undici dispatcher to send through (an `Agent`, `Pool`, `Client`, `MockAgent`, composed interceptors…). Default: a shared `Agent`. */
  dispatcher?: Dispatcher
  /** Aborts the request; the stream or promise fails with `KvsAbortError` (`ERR_KVS_ABORTED`). */
  signal?: AbortSignal
  /** Time from sending until the request is on a connected socket, ms; 0 disables. Default 5,000. */
  connectTimeoutMs?: number
}

/** Validated options shared by all data-plane calls. */
export interface ResolvedDataPlaneOptions {
  endpoint: URL
  signer: KvsSigner
  dispatcher: Dispatcher
  signal: AbortSignal | undefined
  connectTimeoutMs: number
}

export function resolveDataPlaneOptions(options: DataPlaneOptions): ResolvedDataPlaneOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const { signer, signal, dispatcher } = options
  const endpoint = resolveEndpoint(options.endpoint)
  if (
    typeof signer !== 'object' ||
    signer === null ||
    typeof signer.signPutMedia !== 'function' ||
    typeof signer.signJson !== 'function'
  ) {
    throw invalidOption('signer', 'a signer from createKvsSigner()', signer)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('signal', 'an AbortSignal', signal)
  }
  if (
    dispatcher !== undefined &&
    (typeof dispatcher !== 'object' || typeof dispatcher?.dispatch !== 'function')
  ) {
    throw invalidOption('dispatcher', 'an undici Dispatcher', dispatcher)
  }
  const connectTimeoutMs = milliseconds(
    'connectTimeoutMs',
    options.connectTimeoutMs,
    DEFAULT_CONNECT_TIMEOUT_MS,
  )
  return {
    endpoint,
    signer,
    dispatcher: dispatcher ?? defaultDispatcher(connectTimeoutMs),
    signal,
    connectTimeoutMs,
  }
}

/** The stream as a JSON request member: `{ StreamName }` or `{ StreamARN }`. */
export function streamMember(options: { streamName?: unknown; streamArn?: unknown }): Record<string, string> {
  const target = resolveStreamTarget(options)
  return 'arn' in target ? { StreamARN: target.arn } : { StreamName: target.name }
}
