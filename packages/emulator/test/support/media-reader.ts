import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { createEbmlReader, ElementId, readString } from '@kvs-streams/ebml'
import {
  createGetMediaParser,
  type GetMediaEvent,
  type GetMediaServiceErrorEvent,
  type MediaFragmentEvent,
} from '@kvs-streams/get-media'
import type { KvsSigner } from '@kvs-streams/signer'
import { readFixture } from '@kvs-streams/test-utils'
import { type Endpoint, putMedia, signerFor } from './client.ts'

/** A media response (GetMedia, GetMediaForFragmentList) read by the get-media parser in raw mode. */
export interface MediaReader {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** The error body of a non-200 answer, parsed. */
  readonly error: Record<string, unknown> | undefined
  /** Whole fragments read so far, in order. */
  readonly fragments: MediaFragmentEvent[]
  /** Error chunks read so far. */
  readonly errors: GetMediaServiceErrorEvent[]
  /** Every body byte received. */
  body(): Buffer
  /** Resolves once `count` fragments have arrived (rejects after `timeoutMs`). */
  waitForFragments(count: number, timeoutMs?: number): Promise<MediaFragmentEvent[]>
  /** Resolves when the response is over: `complete` when it ended with its terminating chunk. */
  readonly ended: Promise<{ complete: boolean }>
  /** Destroys the connection. */
  close(): void
}

/** Signs a media request like the AWS SDKs (body hash) and reads the response as it streams. */
export async function openMedia(
  emulator: Endpoint,
  path: '/getMedia' | '/getMediaForFragmentList',
  body: unknown,
  options: { signer?: KvsSigner } = {},
): Promise<MediaReader> {
  const text = JSON.stringify(body)
  const signed = await (options.signer ?? signerFor(emulator)).signJson({
    url: `${emulator.url}${path}`,
    body: text,
  })
  const agent = new Agent({ keepAlive: false })
  const parser = createGetMediaParser({ mode: 'raw' })
  const fragments: MediaFragmentEvent[] = []
  const errors: GetMediaServiceErrorEvent[] = []
  const chunks: Buffer[] = []
  const waiters = new Set<() => void>()
  let resolveEnded!: (value: { complete: boolean }) => void
  const ended = new Promise<{ complete: boolean }>((resolve) => (resolveEnded = resolve))
  const deliver = (events: GetMediaEvent[]) => {
    for (const event of events) {
      if (event.type === 'fragment') fragments.push(event)
      else if (event.type === 'service-error') errors.push(event)
    }
    for (const waiter of waiters) waiter()
  }
  const request = httpRequest(new URL(path, emulator.url), { method: 'POST', headers: signed.headers, agent })
  return new Promise((resolve, reject) => {
    request.on('error', (error) => {
      reject(error)
      resolveEnded({ complete: false })
      for (const waiter of waiters) waiter()
    })
    request.on('response', (response) => {
      const status = response.statusCode ?? 0
      let error: Record<string, unknown> | undefined
      const reader: MediaReader = {
        status,
        headers: response.headers,
        get error() {
          return error
        },
        fragments,
        errors,
        body: () => Buffer.concat(chunks),
        waitForFragments(count, timeoutMs = 10_000) {
          return new Promise((resolveWait, rejectWait) => {
            const check = () => {
              if (fragments.length >= count) {
                finish()
                resolveWait(fragments.slice(0, count))
              } else if (response.destroyed || response.complete) {
                finish()
                rejectWait(new Error(`the response ended after ${fragments.length} of ${count} fragments`))
              }
            }
            const timer = setTimeout(() => {
              finish()
              rejectWait(new Error(`${fragments.length} of ${count} fragments within ${timeoutMs} ms`))
            }, timeoutMs)
            const finish = () => {
              clearTimeout(timer)
              waiters.delete(check)
            }
            waiters.add(check)
            check()
          })
        },
        ended,
        close() {
          request.destroy()
          agent.destroy()
        },
      }
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        if (status === 200) deliver(parser.push(chunk))
      })
      response.on('close', () => {
        if (status !== 200) {
          try {
            error = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            error = undefined
          }
        }
        resolveEnded({ complete: response.complete })
        for (const waiter of waiters) waiter()
        agent.destroy()
      })
      resolve(reader)
    })
    request.end(text)
  })
}

/** Opens GetMedia on a stream with a start selector. */
export function openGetMedia(
  emulator: Endpoint,
  streamName: string,
  startSelector: Record<string, unknown>,
  options: { signer?: KvsSigner } = {},
): Promise<MediaReader> {
  return openMedia(emulator, '/getMedia', { StreamName: streamName, StartSelector: startSelector }, options)
}

/** `clusters.mkv`: the PutMedia input whose real GetMedia output is the renderer capture (8 fragments). */
export const CLUSTERS = readFixture('kvs-getmedia', 'clusters.mkv')

/** Puts `clusters.mkv` into a stream and returns the fragment numbers of its 8 fragments. */
export async function putClusters(emulator: Endpoint, streamName: string): Promise<string[]> {
  const result = await putMedia(emulator, CLUSTERS, { streamName, chunkSize: 64 * 1024 })
  const numbers = result.acks.filter((ack) => ack.eventType === 'RECEIVED').map((ack) => ack.fragmentNumber!)
  if (result.status !== 200 || numbers.length !== 8) {
    throw new Error(`PutMedia of clusters.mkv failed: ${result.status} ${JSON.stringify(result.acks)}`)
  }
  return numbers
}

/** A level-1 element of an MKV document (or the EBML header / Segment start), with its SimpleTags when a Tags. */
export interface DocumentElement {
  id: number
  start: number
  end: number
  tags?: Record<string, string>
}

/**
 * The top-level layout of one EBML document: the EBML header, the Segment start (its `end` is the start of its
 * payload) and each level-1 element of the Segment, with the SimpleTags of Tags elements.
 */
export function documentLayout(document: Uint8Array): DocumentElement[] {
  const reader = createEbmlReader({
    dataMode: (id) => (id === ElementId.TagName || id === ElementId.TagString ? 'data' : 'skip'),
  })
  const layout: DocumentElement[] = []
  let open: DocumentElement | undefined
  let name = ''
  let inSegment = false
  for (const event of [...reader.push(document), ...reader.end()]) {
    if (event.depth === 0) {
      if (event.type === 'element-start' && event.id === ElementId.Segment) {
        inSegment = true
        layout.push({ id: event.id, start: event.offset, end: event.offset + event.headerSize })
      } else if (event.type === 'element-end' && event.id === ElementId.EBML) {
        layout.push({ id: event.id, start: event.offset, end: event.end })
      }
      continue
    }
    if (!inSegment) continue
    if (event.depth === 1) {
      if (event.type === 'element') {
        layout.push({ id: event.id, start: event.offset, end: event.offset + event.headerSize + event.size })
      } else if (event.type === 'element-start') {
        open = {
          id: event.id,
          start: event.offset,
          end: -1,
          ...(event.id === ElementId.Tags ? { tags: {} } : {}),
        }
      } else if (open !== undefined) {
        open.end = event.end
        layout.push(open)
        open = undefined
      }
    } else if (event.type === 'element' && open?.tags !== undefined) {
      if (event.id === ElementId.TagName) name = readString(event.data)
      else if (event.id === ElementId.TagString) open.tags[name] = readString(event.data)
    }
  }
  return layout
}

/** The Cluster elements of an MKV file, byte for byte. */
export function clustersOf(bytes: Uint8Array): Uint8Array[] {
  return documentLayout(bytes)
    .filter((element) => element.id === ElementId.Cluster)
    .map((element) => bytes.subarray(element.start, element.end))
}
