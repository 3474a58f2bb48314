import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { archivedMediaRoutes } from './archived-media/routes.ts'
import { consoleRoutes } from './console/routes.ts'
import type { EmulatorContext, LiveConnection, StreamRuntime } from './context.ts'
import { EmulatorError, ServiceError } from './errors.ts'
import { writeRawError } from './http/aws-response.ts'
import { Router } from './http/router.ts'
import { toLog } from './logger.ts'
import { type EmulatorCredentials, type EmulatorOptions, resolveOptions } from './options.ts'
import { controlPlaneRoutes } from './routes/control-plane.ts'
import { getMediaRoutes } from './routes/get-media.ts'
import { putMediaRoutes } from './routes/put-media.ts'
import { createDiskBackend } from './storage/disk-backend.ts'
import { createMemoryBackend } from './storage/memory-backend.ts'
import { EmulatorStorage } from './storage/storage.ts'
import type { StreamRecord } from './storage/types.ts'
import { resolveTlsCredentials } from './tls/tls-credentials.ts'

/** A running emulator. */
export interface Emulator {
  /** `http://HOST:PORT` (`https://` with `tls`): the endpoint for the control plane and the data plane (no path). */
  readonly url: string
  /** The `publicUrl` option: what GetDataEndpoint returns instead of the emulator's own address. */
  readonly publicUrl: string | undefined
  /** With a generated certificate (`tls` without `tlsCert`): the PEM of the CA clients must trust. */
  readonly caCertificate: string | undefined
  /** Where that CA certificate is kept (`<tlsDir>/ca.pem`), for `AWS_CA_BUNDLE`; `undefined` when in memory. */
  readonly caPath: string | undefined
  readonly host: string
  readonly port: number
  readonly region: string
  readonly accountId: string
  /** With the `console` option: the console page (`http://HOST:PORT/`); else `undefined`. */
  readonly consoleUrl: string | undefined
  /** The key pairs it accepts. */
  readonly credentials: readonly EmulatorCredentials[]
  /** Streams and fragments, with the read API media readers build on. */
  readonly storage: EmulatorStorage
  /** Stops accepting connections, ends live ones (pending fragments are stored first), closes storage. */
  close(): Promise<void>
}

/**
 * Starts a local Kinesis Video Streams emulator: the control plane (rest-json), SigV4 verification,
 * PutMedia with acknowledgements, GetMedia, ListFragments and GetMediaForFragmentList, over plain HTTP/1.1,
 * storing fragments in memory or durably on disk.
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_PutMedia.html
 * @see https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/API_dataplane_GetMedia.html
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options)
  const log = toLog(resolved.logger)
  const tls = await resolveTlsCredentials(resolved)
  const scheme = tls === undefined ? 'http' : 'https'
  const backend =
    resolved.storage === 'disk' ? createDiskBackend(resolved.dataDir!, log) : createMemoryBackend()
  const storage = await EmulatorStorage.open(backend, log, resolved.clock, {
    maxMemoryBytes: resolved.maxMemoryBytes,
  })

  const runtimes = new Map<string, StreamRuntime>()
  const connections = new Set<LiveConnection>()
  let url = ''
  let wildcard = false
  const context: EmulatorContext = {
    options: resolved,
    log,
    storage,
    connections,
    runtime(stream: StreamRecord): StreamRuntime {
      let runtime = runtimes.get(stream.streamARN)
      if (runtime === undefined)
        runtimes.set(
          stream.streamARN,
          (runtime = {
            writer: undefined,
            newestPutMediaStartMs: undefined,
            pendingStores: new Set(),
            putMediaConnections: 0,
            getMediaConnections: 0,
            getMediaReaders: 0,
            fragmentListReaders: 0,
            recentAcks: [],
          }),
        )
      return runtime
    },
    forgetRuntime(stream: StreamRecord): void {
      runtimes.delete(stream.streamARN)
    },
    status(stream: StreamRecord): 'CREATING' | 'ACTIVE' {
      return resolved.clock() < stream.creationTimeMs + resolved.streamActivationDelayMs
        ? 'CREATING'
        : 'ACTIVE'
    },
    endpointFor(request: IncomingMessage): string {
      const host = request.headers.host
      // Bound to every interface: answer with the address the client used.
      if (resolved.publicUrl !== undefined) return resolved.publicUrl
      if (wildcard && host !== undefined && /^[A-Za-z0-9.\-:[\]]{1,300}$/.test(host))
        return `${scheme}://${host}`
      return url
    },
  }

  const router = new Router(context)
  router.add(controlPlaneRoutes(context))
  router.add(putMediaRoutes(context))
  router.add(getMediaRoutes(context))
  router.add(archivedMediaRoutes(context))
  if (resolved.console) router.add(consoleRoutes(context))

  const serverOptions = {
    // PutMedia and GetMedia bodies are endless streams: no total request deadline. JSON bodies have their own
    // (bodyTimeoutMs, in readBody) and PutMedia a minimum rate (idleTimeoutMs, minBodyBytes).
    requestTimeout: 0,
    headersTimeout: resolved.headersTimeoutMs,
    // Node checks the head deadline on this period only: keep the overshoot a small part of the deadline.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.round(resolved.headersTimeoutMs / 4))),
    keepAliveTimeout: 5000,
  }
  const server: Server =
    tls === undefined
      ? createServer(serverOptions)
      : // An https.Server offers the http.Server API used below (listen, close, closeAllConnections, events).
        (createHttpsServer({ ...serverOptions, cert: tls.cert, key: tls.key }) as unknown as Server)
  const dispatch = (request: IncomingMessage, response: ServerResponse, continueExpected: boolean) => {
    router.dispatch(request, response, continueExpected).catch((error: unknown) => {
      log.error('request handling failed', { error: String(error) })
      response.destroy()
    })
  }
  server.on('request', (request, response) => dispatch(request, response, false))
  server.on('checkContinue', (request, response) => dispatch(request, response, true))
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => refuseMalformed(error, socket))

  try {
    await listen(server, resolved.port, resolved.host)
  } catch (error) {
    await storage.close()
    throw new EmulatorError(
      'ERR_KVS_EMULATOR_LISTEN',
      `cannot listen on ${resolved.host}:${resolved.port}: ${String(error)}`,
      {
        cause: error,
      },
    )
  }
  const address = server.address() as AddressInfo
  wildcard = resolved.host === '0.0.0.0' || resolved.host === '::'
  const urlHost =
    resolved.host === '0.0.0.0'
      ? '127.0.0.1'
      : resolved.host === '::'
        ? '[::1]'
        : resolved.host.includes(':')
          ? `[${resolved.host}]`
          : resolved.host
  url = `${scheme}://${urlHost}:${address.port}`
  log.info('emulator listening', {
    url,
    storage: storage.kind,
    dataDir: resolved.dataDir,
    ...(resolved.console ? { console: `${url}/` } : {}),
    ...(tls?.caPath === undefined ? {} : { caPath: tls.caPath }),
  })

  let closing: Promise<void> | undefined
  return {
    url,
    publicUrl: resolved.publicUrl,
    caCertificate: tls?.caCertificate,
    caPath: tls?.caPath,
    host: resolved.host,
    port: address.port,
    region: resolved.region,
    accountId: resolved.accountId,
    consoleUrl: resolved.console ? `${url}/` : undefined,
    credentials: resolved.credentials,
    storage,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        await Promise.all([...connections].map((connection) => connection.shutdown()))
        server.closeAllConnections()
        await closed
        await storage.close()
        log.info('emulator closed', { url })
      })()
      return closing
    },
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/**
 * Answers requests node's HTTP parser refused (oversized headers, bad syntax) with an AWS-shaped error. A
 * request the network cut short (the peer half-closed or reset the connection before the end of the head or
 * body: `HPE_INVALID_EOF_STATE`, `ECONNRESET`) is not answered: the service never received a request, so the
 * connection is just closed.
 */
function refuseMalformed(error: NodeJS.ErrnoException, socket: Socket): void {
  const busy =
    (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || !socket.writable || busy) {
    socket.destroy()
    return
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const refusal = new ServiceError(
      'RequestHeaderFieldsTooLargeException',
      431,
      'Request header fields are too large.',
    )
    writeRawError(socket, refusal, randomUUID(), 'Request Header Fields Too Large')
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    const refusal = new ServiceError('RequestTimeoutException', 408, 'The request was not received in time.')
    writeRawError(socket, refusal, randomUUID(), 'Request Timeout')
  } else {
    const refusal = new ServiceError(
      'SerializationException',
      400,
      `Malformed HTTP request (${error.code ?? 'parse error'}).`,
    )
    writeRawError(socket, refusal, randomUUID(), 'Bad Request')
  }
}
