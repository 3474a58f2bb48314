import type { IncomingMessage } from 'node:http'
import type { Log } from './logger.ts'
import type { ResolvedOptions } from './options.ts'
import type { EmulatorStorage } from './storage/storage.ts'
import type { StreamRecord } from './storage/types.ts'

/** A live connection the emulator may have to end: a PutMedia upload or a GetMedia reader. */
export interface LiveConnection {
  /** Ends the connection because the emulator is closing; resolves once it is over. */
  shutdown(): Promise<void>
}

/** A PutMedia connection, as its stream sees it. */
export interface PutMediaWriter extends LiveConnection {
  /**
   * A newer PutMedia for the same stream was accepted: end this one (newest wins). Its unfinished fragment is
   * discarded and nothing it sends afterwards is read; the fragments it completed are still stored.
   */
  supersede(): void
  /** The stream was deleted: end this one with ERROR 4008. */
  streamDeleted(): void
}

/** Per-stream state that lives only while the emulator runs. */
export interface StreamRuntime {
  /** The PutMedia connection currently writing to the stream. */
  writer: PutMediaWriter | undefined
  /**
   * The start (SigV4 signing time, else arrival time) of the newest PutMedia accepted for the stream: an older
   * request arriving later is refused rather than taking over (see `admitPutMediaStart`).
   */
  newestPutMediaStartMs: number | undefined
  /**
   * Stores in flight of fragments PutMedia connections acknowledged RECEIVED: a new connection's 200 waits for
   * them, so a producer that lists fragments after that 200 sees every one an earlier connection completed.
   */
  readonly pendingStores: Set<Promise<void>>
  /** PutMedia connections accepted for the stream since start-up (the `connectionIndex` of faults). */
  putMediaConnections: number
  /** GetMedia connections accepted for the stream since start-up (the `connectionIndex` of GetMedia faults). */
  getMediaConnections: number
  /** Open GetMedia responses (at most 3, as the service allows). */
  getMediaReaders: number
  /** Open GetMediaForFragmentList responses (at most 5). */
  fragmentListReaders: number
  /** The last PutMedia acks of the stream other than IDLE, oldest first (at most {@link RECENT_ACKS}), for the console. */
  readonly recentAcks: RecordedAck[]
}

/** How many acks {@link StreamRuntime.recentAcks} keeps. */
export const RECENT_ACKS = 50

/** A PutMedia ack as the console shows it: when it was written, and to which connection of the stream. */
export interface RecordedAck {
  /** Epoch ms (the emulator's clock) when the ack was given to the response. */
  timeMs: number
  /** The stream's PutMedia connection, from 0 since start-up. */
  connection: number
  eventType: string
  fragmentTimecode?: number
  fragmentNumber?: string
  errorId?: number
  errorCode?: string
}

/** What route handlers share: options, storage, per-stream runtime state and live connections. */
export interface EmulatorContext {
  readonly options: ResolvedOptions
  readonly log: Log
  readonly storage: EmulatorStorage
  /** Runtime state of a stream (by ARN, so a re-created stream starts afresh). */
  runtime(stream: StreamRecord): StreamRuntime
  /** Forgets the runtime state of a deleted stream. */
  forgetRuntime(stream: StreamRecord): void
  /** `CREATING` until `streamActivationDelayMs` after creation, then `ACTIVE`. */
  status(stream: StreamRecord): 'CREATING' | 'ACTIVE'
  /** The endpoint URL (no path) to give clients that reached the server with this request. */
  endpointFor(request: IncomingMessage): string
  /** Connections to end on close(). */
  readonly connections: Set<LiveConnection>
}

/** Finds a stream by name or ARN (exactly one given), or `undefined`. */
export function findStream(
  context: EmulatorContext,
  reference: { streamName?: string | undefined; streamARN?: string | undefined },
): StreamRecord | undefined {
  if (reference.streamName !== undefined) return context.storage.getStream(reference.streamName)
  if (reference.streamARN === undefined) return undefined
  const name = streamNameOfArn(reference.streamARN)
  const stream = name === undefined ? undefined : context.storage.getStream(name)
  return stream?.streamARN === reference.streamARN ? stream : undefined
}

/** The stream name inside a KVS stream ARN. */
export function streamNameOfArn(arn: string): string | undefined {
  return /^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:stream\/([a-zA-Z0-9_.-]+)\/[0-9]+$/.exec(arn)?.[1]
}
