import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * What the proxy does with one TCP connection:
 * - `pass`: relays both ways to the target;
 * - `{ cutAfterBytes }`: relays, then destroys both sides once that many response bytes went through;
 * - `drop`: destroys the socket as soon as it is accepted (the client sees a reset or "other side closed");
 * - `reset`: reads the request, then sends a TCP RST;
 * - `half-close`: reads the request, then ends its side (FIN) and answers nothing;
 * - `status-only`: answers `400` with a `Content-Length` whose body never comes, then closes;
 * - `empty-400`: answers `400` with no body, delimited by closing the connection;
 * - `invalid-argument`: answers a complete `400 InvalidArgumentException`, as the service does for a bad request;
 * - `expired-token`: answers a complete `403 ExpiredTokenException`, as the service does for expired credentials;
 * - `silent`: reads the request and never answers.
 */
export type ProxyFault =
  | 'pass'
  | { cutAfterBytes: number }
  | 'drop'
  | 'reset'
  | 'half-close'
  | 'status-only'
  | 'empty-400'
  | 'invalid-argument'
  | 'expired-token'
  | 'silent'

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string
  /** The fault chosen for each connection accepted so far, in order. */
  readonly faults: ProxyFault[]
  close(): Promise<void>
}

const INVALID_ARGUMENT_BODY = JSON.stringify({ message: 'StartSelector is not valid' })
const EXPIRED_TOKEN_BODY = JSON.stringify({
  message: 'The security token included in the request is expired',
})

/** A TCP proxy in front of `target` (an `http://host:port` URL) that injects `choose(connectionIndex)`. */
export async function startFaultProxy(
  target: string,
  choose: (connectionIndex: number) => ProxyFault,
): Promise<FaultProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const faults: ProxyFault[] = []
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }
  const server: Server = createServer((client) => {
    track(client)
    const fault = choose(faults.length)
    faults.push(fault)
    if (fault === 'drop') {
      client.destroy()
      return
    }
    if (fault === 'pass' || typeof fault === 'object') {
      const upstream = connect(Number(port), hostname)
      track(upstream)
      let budget = typeof fault === 'object' ? fault.cutAfterBytes : Number.POSITIVE_INFINITY
      client.pipe(upstream)
      upstream.on('data', (chunk: Buffer) => {
        if (chunk.length < budget) {
          budget -= chunk.length
          client.write(chunk)
          return
        }
        client.write(chunk.subarray(0, budget), () => {
          client.destroy()
          upstream.destroy()
        })
        budget = 0
        upstream.pause()
      })
      upstream.on('end', () => client.end())
      upstream.on('close', () => client.destroy())
      client.on('close', () => upstream.destroy())
      return
    }
    client.once('data', () => {
      switch (fault) {
        case 'reset':
          client.resetAndDestroy()
          return
        case 'half-close':
          client.end()
          return
        case 'status-only':
          client.end(
            'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n',
          )
          return
        case 'empty-400':
          client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
          return
        case 'invalid-argument':
          client.end(
            'HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: InvalidArgumentException\r\n' +
              `Content-Type: application/json\r\nContent-Length: ${INVALID_ARGUMENT_BODY.length}\r\n\r\n` +
              INVALID_ARGUMENT_BODY,
          )
          return
        case 'expired-token':
          client.end(
            'HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: ExpiredTokenException\r\n' +
              `Content-Type: application/json\r\nContent-Length: ${EXPIRED_TOKEN_BODY.length}\r\n\r\n` +
              EXPIRED_TOKEN_BODY,
          )
          return
        case 'silent':
          return
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
