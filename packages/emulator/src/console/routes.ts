import { readFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { hlsSessionUrl } from '../archived-media/routes.ts'
import type { EmulatorContext } from '../context.ts'
import { invalidArgument, streamNotFound } from '../errors.ts'
import { sendJson } from '../http/aws-response.ts'
import type { Route } from '../http/router.ts'
import type { StreamRecord } from '../storage/types.ts'

/** The page's own files, next to `src/` and `dist/` in the package (`web/`). */
const WEB_DIR = new URL('../../web/', import.meta.url)

/** The files the console serves: path → file and content type. hls.js comes from the installed `hls.js`. */
const STATIC_FILES: ReadonlyArray<{ path: string; file: () => string; type: string }> = [
  { path: '/', file: () => fileURLToPath(new URL('index.html', WEB_DIR)), type: 'text/html; charset=utf-8' },
  {
    path: '/console/console.js',
    file: () => fileURLToPath(new URL('console.js', WEB_DIR)),
    type: 'text/javascript; charset=utf-8',
  },
  {
    path: '/console/console.css',
    file: () => fileURLToPath(new URL('console.css', WEB_DIR)),
    type: 'text/css; charset=utf-8',
  },
  {
    path: '/console/hls.js',
    file: () => fileURLToPath(import.meta.resolve('hls.js/dist/hls.min.js')),
    type: 'text/javascript; charset=utf-8',
  },
]

/** The operation name of every console route: not a KVS operation (no service model describes them). */
export const CONSOLE_OPERATION_PREFIX = 'Console'

/** Longest time range the console lists fragments for or replays: the service's 24 hours. */
const MAX_RANGE_MS = 24 * 3600 * 1000

function queryOf(request: IncomingMessage): URLSearchParams {
  const url = request.url ?? ''
  const at = url.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1))
}

/** The `stream` query parameter's stream, or 404 ResourceNotFoundException / 400 when it is missing. */
function streamOf(context: EmulatorContext, query: URLSearchParams): StreamRecord {
  const name = query.get('stream')
  if (name === null || name === '') throw invalidArgument('The stream query parameter is required.')
  if (name.length > 256) throw invalidArgument('The stream query parameter is longer than 256 characters.')
  const stream = context.storage.getStream(name)
  if (stream === undefined) throw streamNotFound()
  return stream
}

/** An epoch-ms query parameter: digits only, within a sane range. */
function epochMsOf(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name)
  if (text === null || text === '') return undefined
  if (!/^\d{1,15}$/.test(text))
    throw invalidArgument(`${name} must be epoch milliseconds, got ${JSON.stringify(text.slice(0, 40))}.`)
  return Number(text)
}

/** The optional `start`/`end` range of a query (epoch ms), checked: start before end, at most 24 hours. */
function rangeOf(query: URLSearchParams): { startMs: number | undefined; endMs: number | undefined } {
  const startMs = epochMsOf(query, 'start')
  const endMs = epochMsOf(query, 'end')
  if (startMs !== undefined && endMs !== undefined) {
    if (endMs <= startMs) throw invalidArgument('end must be later than start.')
    if (endMs - startMs > MAX_RANGE_MS) throw invalidArgument('end must be within 24 hours of start.')
  }
  return { startMs, endMs }
}

/**
 * The local console (the `console` option): the page at `/`, its script, style and hls.js, and a small JSON
 * API under `/console/api/` that the page calls without signing (it answers what the signed API would, for
 * this emulator only): streams, a stream's fragments, its recent PutMedia acks, and HLS session URLs.
 * Errors are AWS-shaped (`x-amzn-ErrorType`, `{"Message"}`): 404 ResourceNotFoundException for an unknown
 * stream, 400 InvalidArgumentException for bad parameters.
 */
export function consoleRoutes(context: EmulatorContext): Route[] {
  const files: Route[] = STATIC_FILES.map(({ path, file, type }) => ({
    operation: `${CONSOLE_OPERATION_PREFIX}File`,
    method: 'GET',
    path,
    body: 'none',
    async handle({ response }) {
      const bytes = await readFile(file())
      response.writeHead(200, {
        'content-type': type,
        'content-length': bytes.byteLength,
        'cache-control': 'no-cache',
      })
      response.end(bytes)
    },
  }))
  const api = (
    name: string,
    path: string,
    answer: (query: URLSearchParams, request: IncomingMessage) => unknown,
  ): Route => ({
    operation: `${CONSOLE_OPERATION_PREFIX}${name}`,
    method: 'GET',
    path: `/console/api/${path}`,
    body: 'none',
    async handle({ request, response }) {
      sendJson(response, await answer(queryOf(request), request))
    },
  })
  return [
    ...files,
    api('Streams', 'streams', () => ({
      streams: context.storage.listStreams().map((stream) => {
        const fragments = context.storage.listFragments(stream.streamName)
        const last = fragments.at(-1)
        return {
          name: stream.streamName,
          arn: stream.streamARN,
          status: context.status(stream),
          mediaType: stream.mediaType,
          retentionHours: stream.dataRetentionInHours,
          fragments: fragments.length,
          lastServerTimestampMs: last?.serverTimestampMs ?? null,
          putting: context.runtime(stream).writer !== undefined,
        }
      }),
    })),
    api('Fragments', 'fragments', (query) => {
      const stream = streamOf(context, query)
      const { startMs, endMs } = rangeOf(query)
      const fragments = context.storage
        .listFragments(stream.streamName)
        .filter(
          (fragment) =>
            (startMs === undefined || fragment.serverTimestampMs >= startMs) &&
            (endMs === undefined || fragment.serverTimestampMs <= endMs),
        )
      // The newest 1000: a long-running stream's page stays small.
      return {
        stream: stream.streamName,
        total: fragments.length,
        fragments: fragments.slice(-1000).map((fragment) => ({
          fragmentNumber: fragment.fragmentNumber,
          producerTimestampMs: fragment.producerTimestampMs,
          serverTimestampMs: fragment.serverTimestampMs,
          durationMs: fragment.durationMs,
          sizeBytes: fragment.sizeBytes,
          tracks: fragment.tracks,
          keyframe: fragment.keyframe,
          persisted: fragment.persisted,
        })),
      }
    }),
    api('Acks', 'acks', (query) => {
      const stream = streamOf(context, query)
      return { stream: stream.streamName, acks: context.runtime(stream).recentAcks }
    }),
    api('HLS', 'hls', async (query, request) => {
      const stream = streamOf(context, query)
      const mode = query.get('mode') ?? 'LIVE'
      if (mode === 'LIVE') {
        if (query.has('start') || query.has('end'))
          throw invalidArgument('start and end must not be set when mode is LIVE.')
        const url = await hlsSessionUrl(
          context,
          { StreamName: stream.streamName, PlaybackMode: 'LIVE', MaxMediaPlaylistFragmentResults: 3 },
          request,
        )
        return { url }
      }
      if (mode !== 'ON_DEMAND') throw invalidArgument('mode must be LIVE or ON_DEMAND.')
      const { startMs, endMs } = rangeOf(query)
      if (startMs === undefined || endMs === undefined)
        throw invalidArgument('start and end are required when mode is ON_DEMAND.')
      const url = await hlsSessionUrl(
        context,
        {
          StreamName: stream.streamName,
          PlaybackMode: 'ON_DEMAND',
          HLSFragmentSelector: {
            FragmentSelectorType: 'SERVER_TIMESTAMP',
            TimestampRange: { StartTimestamp: startMs / 1000, EndTimestamp: endMs / 1000 },
          },
        },
        request,
      )
      return { url }
    }),
  ]
}
