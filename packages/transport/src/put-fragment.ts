import { type Ack, createAckDecoder, describeAckError } from '@kvs-streams/acks'
import { invalidOption, numberOption } from '@kvs-streams/core'
import { formatProducerStartTimestamp, type KvsSigner } from '@kvs-streams/signer'
import {
  KvsAbortError,
  KvsConnectionError,
  KvsErrorAckError,
  KvsProtocolError,
  KvsTimeoutError,
} from './errors.ts'
import { createHttpError } from './http-error.ts'
import { milliseconds, operationUrl, resolveEndpoint, resolveStreamTarget } from './request-options.ts'

/** Default `ackTimeoutMs`: as the undici PutMedia's `ackStalenessMs`, the C++ SDK's connection staleness. */
export const DEFAULT_ACK_TIMEOUT_MS = 30_000

/**
 * What `putFragment` needs of a signer: `createKvsSigner()` from `@kvs-streams/signer` with credentials the
 * caller obtained (Cognito, STS, a token endpoint of its own server), or an object whose `signPutMedia`
 * asks a server to sign; a page never holds long-term keys.
 */
export type PutMediaSigner = Pick<KvsSigner, 'signPutMedia'>

/** The ack a fragment's request waits for: `PERSISTED` (default; streams with retention) or `RECEIVED`. */
export type FragmentAckType = 'PERSISTED' | 'RECEIVED'

interface PutFragmentOwnOptions {
  /** The data endpoint from GetDataEndpoint (`PUT_MEDIA`). */
  endpoint: string | URL
  /** Signs each request (`x-amz-date` is per request, so a resend is signed again). */
  signer: PutMediaSigner
  /**
   * Producer start time, epoch ms (`x-amzn-producer-start-timestamp`). With `RELATIVE` timecodes every
   * fragment is dated from it, so all requests of one recording must share it. Default: now.
   */
  producerStartTimestamp?: number
  /** How the service reads Cluster timecodes (`x-amzn-fragment-timecode-type`). Default `RELATIVE`. */
  fragmentTimecodeType?: 'RELATIVE' | 'ABSOLUTE'
  /** The ack that completes the request. Default `PERSISTED`. */
  waitFor?: FragmentAckType
  /**
   * Fail with `KvsTimeoutError` `ERR_KVS_ACK_STALE` when neither the response head nor a body byte arrived
   * for this long, ms; 0 disables. Default 30,000.
   */
  ackTimeoutMs?: number
  /** The `fetch` to send with. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Aborts the request: it fails with `KvsAbortError` (`ERR_KVS_ABORTED`). */
  signal?: AbortSignal
}

/**
 * The MKV header every fragment's request starts with (EBML header, unknown-size Segment start, Info, Tracks,
 * …). Declared by shape: the chunker's `HeaderEvent` is one, as is any object with the header's `bytes`.
 */
export interface PutHeaderInput {
  /** The header's bytes, sent before the fragment's. */
  readonly bytes: Uint8Array
}

/**
 * One fragment (one Cluster, with the Tags after it) to put in a request of its own. Declared by shape: the
 * chunker's `ChunkerFragmentEvent` is one, as is any object with these fields.
 */
export interface PutFragmentInput {
  /** The fragment's position in the stream, reported back (`PutFragmentOutcome.index`, `FragmentRetry.index`). */
  readonly index: number
  /** The Cluster Timecode as written (TimecodeScale units): the request waits for the ack of this timecode. */
  readonly timecode: number
  /** The fragment's bytes, in order (views, sent as they are). */
  readonly parts: readonly Uint8Array[]
}

/** Options of `putFragment`: the data endpoint, the stream (by name or ARN), a signer. */
export type PutFragmentOptions = PutFragmentOwnOptions & ({ streamName: string } | { streamArn: string })

/** What a fragment's request got back. */
export interface PutFragmentResult {
  /** The fragment's Cluster Timecode, as acknowledged. */
  fragmentTimecode: number
  /** The number the service gave the fragment (from the `waitFor` ack). */
  fragmentNumber: string | undefined
  /** Every ack of the response up to the `waitFor` one, in order. */
  acks: Ack[]
  /** `x-amzn-RequestId` of the response (readable in a browser when the endpoint exposes it by CORS). */
  requestId: string | undefined
}

/** `putFragment`'s options, checked once (the putter reuses them for every request). */
export interface ResolvedPutFragmentOptions {
  url: URL
  headers: Record<string, string>
  signer: PutMediaSigner
  waitFor: FragmentAckType
  ackTimeoutMs: number
  fetch: typeof fetch
  signal: AbortSignal | undefined
}

/** Checks `putFragment`'s options; throws the option `TypeError` on a bad one. */
export function resolvePutFragmentOptions(options: PutFragmentOptions): ResolvedPutFragmentOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options)
  const endpoint = resolveEndpoint(options.endpoint)
  const target = resolveStreamTarget(options)
  const { signer, signal, fragmentTimecodeType = 'RELATIVE', waitFor = 'PERSISTED' } = options
  const producerStartTimestamp = options.producerStartTimestamp ?? Date.now()
  if (typeof signer !== 'object' || signer === null || typeof signer.signPutMedia !== 'function') {
    throw invalidOption('signer', 'a signer from createKvsSigner() or an object with signPutMedia()', signer)
  }
  if (fragmentTimecodeType !== 'RELATIVE' && fragmentTimecodeType !== 'ABSOLUTE') {
    throw invalidOption('fragmentTimecodeType', '"RELATIVE" or "ABSOLUTE"', fragmentTimecodeType)
  }
  numberOption('producerStartTimestamp', producerStartTimestamp, 'epoch milliseconds >= 0', { min: 0 })
  if (waitFor !== 'PERSISTED' && waitFor !== 'RECEIVED') {
    throw invalidOption('waitFor', '"PERSISTED" or "RECEIVED"', waitFor)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('signal', 'an AbortSignal', signal)
  }
  const fetchFunction = options.fetch ?? globalThis.fetch
  if (typeof fetchFunction !== 'function') throw invalidOption('fetch', 'a fetch function', options.fetch)
  return {
    url: operationUrl(endpoint, 'putMedia'),
    headers: {
      ...('arn' in target ? { 'x-amzn-stream-arn': target.arn } : { 'x-amzn-stream-name': target.name }),
      'x-amzn-fragment-timecode-type': fragmentTimecodeType,
      'x-amzn-producer-start-timestamp': formatProducerStartTimestamp(producerStartTimestamp),
      'x-amzn-fragment-acknowledgment-required': '1',
    },
    signer,
    waitFor,
    ackTimeoutMs: milliseconds('ackTimeoutMs', options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS),
    // Called unbound: browsers throw "Illegal invocation" for a fetch called as a method of another object.
    fetch: (input, init) => fetchFunction(input, init),
    signal,
  }
}

/**
 * One PutMedia request carrying the MKV header and one fragment, sent with `fetch` (no streaming upload, no
 * Node API: it runs in browsers, Web Workers, Deno, Bun and Node). Reads the acknowledgements from the
 * response with the acks decoder and resolves once the fragment's `waitFor` ack (`PERSISTED` by default)
 * arrived. Each request is signed anew with `signPutMedia`.
 *
 * ```ts
 * const result = await putFragment({ endpoint, streamName, signer, producerStartTimestamp }, header, fragment)
 * ```
 *
 * Rejects with `KvsHttpError` (a status other than 2xx), `KvsErrorAckError` (an `ERROR` ack: `errorId`,
 * `retriable`), `KvsConnectionError` (the network failed, or the response ended before the awaited ack),
 * `KvsProtocolError` (the body held a service error object), `KvsTimeoutError` `ERR_KVS_ACK_STALE` (nothing
 * arrived for `ackTimeoutMs`), `KvsAbortError` (through `signal`). `createFragmentPutter` adds pacing and
 * resends.
 *
 * @throws {TypeError} on a bad option
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 */
export function putFragment(
  options: PutFragmentOptions,
  header: PutHeaderInput,
  fragment: PutFragmentInput,
): Promise<PutFragmentResult> {
  return sendFragment(resolvePutFragmentOptions(options), header, fragment)
}

/**
 * `putFragment` with options already checked by `resolvePutFragmentOptions` (the putter's path).
 * @throws {TypeError} when `header` has no `bytes` or `fragment` no `parts` and `timecode`
 */
export function sendFragment(
  resolved: ResolvedPutFragmentOptions,
  header: PutHeaderInput,
  fragment: PutFragmentInput,
): Promise<PutFragmentResult> {
  if (typeof header !== 'object' || header === null || !(header.bytes instanceof Uint8Array)) {
    throw invalidOption('header', "an object with the header's bytes (as the chunker's header event)", header)
  }
  if (
    typeof fragment !== 'object' ||
    fragment === null ||
    !Array.isArray(fragment.parts) ||
    typeof fragment.timecode !== 'number'
  ) {
    throw invalidOption(
      'fragment',
      "an object with the fragment's parts and timecode (as the chunker's fragment event)",
      fragment,
    )
  }
  return exchange(resolved, header, fragment)
}

async function exchange(
  resolved: ResolvedPutFragmentOptions,
  header: PutHeaderInput,
  fragment: PutFragmentInput,
): Promise<PutFragmentResult> {
  const { signal, ackTimeoutMs } = resolved
  if (signal?.aborted) throw new KvsAbortError(undefined, { cause: signal.reason })
  const signed = await resolved.signer.signPutMedia({ url: resolved.url, headers: resolved.headers })
  // `host` is signed, but fetch sets it from the URL (browsers refuse to set it).
  const { host: _host, ...headers } = signed.headers

  const controller = new AbortController()
  /** Set when the ack timer ran out: the abort it caused is reported as this timeout. */
  let stale: KvsTimeoutError | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const restartTimer = (): void => {
    if (ackTimeoutMs === 0) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      stale = new KvsTimeoutError(
        'ERR_KVS_ACK_STALE',
        `No response byte for ${ackTimeoutMs} ms after sending fragment ${fragment.timecode}`,
        ackTimeoutMs,
      )
      controller.abort(stale)
    }, ackTimeoutMs)
  }
  const onAbort = (): void => controller.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  restartTimer()
  let requestId: string | undefined
  try {
    const response = await resolved.fetch(resolved.url, {
      method: 'POST',
      headers,
      body: new Blob([header.bytes, ...fragment.parts] as BlobPart[]),
      signal: controller.signal,
      cache: 'no-store',
      credentials: 'omit',
    })
    restartTimer()
    requestId = response.headers.get('x-amzn-requestid') ?? undefined
    if (!response.ok) {
      const body = new Uint8Array(await response.arrayBuffer())
      const record: Record<string, string> = {}
      response.headers.forEach((value, name) => {
        record[name] = value
      })
      throw createHttpError(response.status, record, body)
    }
    if (response.body === null) {
      throw new KvsConnectionError(`The PutMedia response (HTTP ${response.status}) has no body`)
    }
    const reader = response.body.getReader()
    const decoder = createAckDecoder()
    const acks: Ack[] = []
    for (;;) {
      const { done, value } = await reader.read()
      restartTimer()
      if (done) break
      let events: ReturnType<typeof decoder.push>
      try {
        events = decoder.push(value)
      } catch (error) {
        throw new KvsProtocolError('The PutMedia response is not a sequence of acknowledgements', {
          cause: error,
        })
      }
      for (const event of events) {
        if (event.type === 'service-error') {
          throw new KvsProtocolError(`The PutMedia response carried an error: ${event.error.message}`, {
            cause: event.error,
          })
        }
        const { ack } = event
        acks.push(ack)
        if (ack.eventType === 'ERROR') {
          const info = describeAckError(ack.errorId ?? -1)
          throw new KvsErrorAckError(
            `PutMedia answered fragment ${fragment.timecode} with ERROR ${info.errorId} ${ack.errorCode ?? info.errorCode}`,
            {
              errorId: info.errorId,
              errorCode: ack.errorCode ?? info.errorCode,
              fragmentTimecode: ack.fragmentTimecode,
              retriable: info.retriable,
              requestId,
            },
          )
        }
        if (ack.eventType === resolved.waitFor && ack.fragmentTimecode === fragment.timecode) {
          // The awaited ack: the service ends the response after it; do not wait for that.
          reader.cancel().catch(() => {})
          return { fragmentTimecode: fragment.timecode, fragmentNumber: ack.fragmentNumber, acks, requestId }
        }
      }
    }
    try {
      decoder.end()
    } catch (error) {
      throw new KvsConnectionError('The PutMedia response was cut inside an acknowledgement', {
        cause: error,
      })
    }
    throw new KvsConnectionError(
      `The PutMedia response ended before the ${resolved.waitFor} ack of fragment ${fragment.timecode}`,
    )
  } catch (error) {
    if (stale !== undefined) throw stale
    if (signal?.aborted) throw new KvsAbortError(undefined, { cause: signal.reason })
    // fetch rejects a failed network exchange with a TypeError (whatever the runtime's wording).
    if (error instanceof TypeError) {
      throw new KvsConnectionError(`PutMedia request failed: ${error.message}`, { cause: error })
    }
    throw error
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}
