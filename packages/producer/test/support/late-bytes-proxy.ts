import { once } from 'node:events'
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net'

export interface LateBytesProxyOptions {
  targetPort: number
  /**
   * Client→server bytes of the first PutMedia connection forwarded before its path goes dark: later bytes
   * are held, and its response bytes are dropped from then on (the client sees its session go stale).
   */
  holdAfterBytes: number
  /** How long after the client gave that connection up its held bytes reach the server, ms. */
  lateByMs: number
}

/**
 * A scripted hostile network for the late-bytes bug: the first PutMedia connection's path goes dark after
 * `holdAfterBytes` (bytes held, acks lost), the client abandons it, and `lateByMs` later the held bytes are
 * delivered to the server on the old connection after all. The path is FIFO: a newer PutMedia connection's
 * bytes queue behind the late ones, as they would on one congested route. Every other connection
 * (ListFragments, control plane) passes untouched.
 */
export class LateBytesProxy {
  /** Bytes held on the dark path and delivered late. */
  lateBytes = 0
  /** Whether the late delivery happened. */
  delivered = false
  readonly #server: Server
  readonly #options: LateBytesProxyOptions
  readonly #sockets = new Set<Socket>()
  #putMediaConnections = 0
  /** Resolves once the late bytes were written to the server (newer PutMedia connections wait for it). */
  #lateDone: Promise<void> | undefined

  private constructor(server: Server, options: LateBytesProxyOptions) {
    this.#server = server
    this.#options = options
    server.on('connection', (client) => this.#accept(client))
  }

  static async start(options: LateBytesProxyOptions): Promise<LateBytesProxy> {
    const server = createServer()
    const proxy = new LateBytesProxy(server, options)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket): void {
    const upstream = createConnection({ port: this.#options.targetPort, host: '127.0.0.1' })
    this.#sockets.add(client)
    this.#sockets.add(upstream)
    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('close', () => this.#sockets.delete(client))
    upstream.on('close', () => this.#sockets.delete(upstream))
    client.once('data', (first: Buffer) => {
      const putMedia = first.subarray(0, 64).toString('latin1').startsWith('POST /putMedia')
      if (!putMedia) {
        this.#pass(client, upstream, first)
        return
      }
      this.#putMediaConnections++
      if (this.#putMediaConnections === 1) this.#darkPath(client, upstream, first)
      else {
        // FIFO behind the late bytes, if any are still on their way.
        client.pause()
        const go = (): void => {
          client.resume()
          this.#pass(client, upstream, first)
        }
        if (this.#lateDone === undefined) go()
        else void this.#lateDone.then(go)
      }
    })
  }

  #pass(client: Socket, upstream: Socket, first: Buffer): void {
    upstream.write(first)
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  #darkPath(client: Socket, upstream: Socket, first: Buffer): void {
    let budget = this.#options.holdAfterBytes
    const held: Buffer[] = []
    let dark = false
    let resolveLate!: () => void
    this.#lateDone = new Promise((resolve) => (resolveLate = resolve))
    const take = (chunk: Buffer): void => {
      if (dark) {
        held.push(chunk)
        return
      }
      if (chunk.length < budget) {
        budget -= chunk.length
        upstream.write(chunk)
        return
      }
      upstream.write(chunk.subarray(0, budget))
      held.push(chunk.subarray(budget))
      dark = true
    }
    take(first)
    client.on('data', take)
    upstream.on('data', (chunk: Buffer) => {
      if (!dark) client.write(chunk)
    })
    // The client gives the connection up (it resets it): what it sent is still on the dark path, and arrives.
    client.on('close', () => {
      setTimeout(() => {
        for (const chunk of held) {
          this.lateBytes += chunk.length
          upstream.write(chunk)
        }
        this.delivered = true
        // The late bytes are on the server's socket; give it a moment to read them, then let the old
        // connection go and the queued newer ones through.
        setTimeout(() => {
          upstream.end()
          resolveLate()
        }, 100)
      }, this.#options.lateByMs)
    })
  }
}

/**
 * A scripted hostile network for the delayed-head case: the first PutMedia connection's bytes, request head
 * included, are held (the client never hears back and gives the session up); once the next PutMedia session
 * has been answered and has run for `lateByMs`, the held bytes are delivered on a connection of their own, so
 * the old request's head reaches the server after the newer one's. Everything else passes untouched.
 */
export class DelayedHeadProxy {
  /** The status line the server answered the late request with, once it did. */
  lateStatus: string | undefined
  lateBytes = 0
  /** Resolves once the late request was delivered and its connection ended. */
  readonly delivered: Promise<void>
  #resolveDelivered!: () => void
  readonly #server: Server
  readonly #targetPort: number
  readonly #lateByMs: number
  readonly #sockets = new Set<Socket>()
  readonly #held: Buffer[] = []
  #putMediaConnections = 0

  private constructor(server: Server, targetPort: number, lateByMs: number) {
    this.#server = server
    this.#targetPort = targetPort
    this.#lateByMs = lateByMs
    this.delivered = new Promise((resolve) => (this.#resolveDelivered = resolve))
    server.on('connection', (client) => this.#accept(client))
  }

  static async start(options: { targetPort: number; lateByMs: number }): Promise<DelayedHeadProxy> {
    const server = createServer()
    const proxy = new DelayedHeadProxy(server, options.targetPort, options.lateByMs)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => this.#sockets.delete(socket))
  }

  #accept(client: Socket): void {
    this.#track(client)
    client.once('data', (first: Buffer) => {
      const putMedia = first.subarray(0, 64).toString('latin1').startsWith('POST /putMedia')
      if (putMedia && ++this.#putMediaConnections === 1) {
        // The dark path: everything is held, nothing is answered.
        this.#held.push(first)
        client.on('data', (chunk: Buffer) => this.#held.push(chunk))
        return
      }
      const upstream = createConnection({ port: this.#targetPort, host: '127.0.0.1' })
      this.#track(upstream)
      upstream.write(first)
      client.on('data', (chunk: Buffer) => upstream.write(chunk))
      let answered = false
      upstream.on('data', (chunk: Buffer) => {
        client.write(chunk)
        if (putMedia && !answered && this.#putMediaConnections === 2) {
          answered = true
          setTimeout(() => this.#deliverLate(), this.#lateByMs)
        }
      })
      client.on('end', () => upstream.end())
      upstream.on('end', () => client.end())
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
  }

  #deliverLate(): void {
    const late = createConnection({ port: this.#targetPort, host: '127.0.0.1' })
    this.#track(late)
    late.once('data', (chunk: Buffer) => {
      this.lateStatus = chunk.toString('latin1').split('\r\n', 1)[0]
    })
    for (const chunk of this.#held) {
      this.lateBytes += chunk.length
      late.write(chunk)
    }
    late.on('close', () => this.#resolveDelivered())
    setTimeout(() => late.end(), 300)
  }
}
