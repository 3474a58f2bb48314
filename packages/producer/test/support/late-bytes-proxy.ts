import { once } from 'node:events'
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net'

/**
 * The plumbing of a scripted proxy on 127.0.0.1: listens, tracks sockets, classifies each connection by its
 * first bytes (PutMedia or not) and leaves what to do with it to `route`.
 */
abstract class ScriptedProxy {
  readonly #server = createServer()
  readonly #sockets = new Set<Socket>()
  protected readonly targetPort: number
  /** PutMedia connections seen so far. */
  protected putMediaConnections = 0

  protected constructor(targetPort: number) {
    this.targetPort = targetPort
    this.#server.on('connection', (client) => {
      this.track(client)
      client.once('data', (first: Buffer) => {
        const putMedia = first.subarray(0, 64).toString('latin1').startsWith('POST /putMedia')
        if (putMedia) this.putMediaConnections++
        this.route(client, first, putMedia)
      })
    })
  }

  protected async listen(): Promise<this> {
    this.#server.listen(0, '127.0.0.1')
    await once(this.#server, 'listening')
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** Handles a connection whose first bytes are `first`. */
  protected abstract route(client: Socket, first: Buffer, putMedia: boolean): void

  protected track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => this.#sockets.delete(socket))
  }

  protected connectUpstream(): Socket {
    const upstream = createConnection({ port: this.targetPort, host: '127.0.0.1' })
    this.track(upstream)
    return upstream
  }

  /** Forwards both ways untouched; `onAnswer` sees each server→client chunk. */
  protected pass(client: Socket, first: Buffer, onAnswer?: () => void): void {
    const upstream = this.connectUpstream()
    upstream.write(first)
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk)
      onAnswer?.()
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }
}

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
export class LateBytesProxy extends ScriptedProxy {
  /** Bytes held on the dark path and delivered late. */
  lateBytes = 0
  /** Whether the late delivery happened. */
  delivered = false
  readonly #options: LateBytesProxyOptions
  /** Resolves once the late bytes were written to the server (newer PutMedia connections wait for it). */
  #lateDone: Promise<void> | undefined

  private constructor(options: LateBytesProxyOptions) {
    super(options.targetPort)
    this.#options = options
  }

  static start(options: LateBytesProxyOptions): Promise<LateBytesProxy> {
    return new LateBytesProxy(options).listen()
  }

  protected route(client: Socket, first: Buffer, putMedia: boolean): void {
    if (!putMedia) this.pass(client, first)
    else if (this.putMediaConnections === 1) this.#darkPath(client, first)
    else if (this.#lateDone === undefined) this.pass(client, first)
    else {
      // FIFO behind the late bytes.
      client.pause()
      void this.#lateDone.then(() => {
        client.resume()
        this.pass(client, first)
      })
    }
  }

  #darkPath(client: Socket, first: Buffer): void {
    const upstream = this.connectUpstream()
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
export class DelayedHeadProxy extends ScriptedProxy {
  /** The status line the server answered the late request with, once it did. */
  lateStatus: string | undefined
  lateBytes = 0
  /** Resolves once the late request was delivered and its connection ended. */
  readonly delivered: Promise<void>
  #resolveDelivered!: () => void
  readonly #lateByMs: number
  readonly #held: Buffer[] = []
  #scheduled = false

  private constructor(options: { targetPort: number; lateByMs: number }) {
    super(options.targetPort)
    this.#lateByMs = options.lateByMs
    this.delivered = new Promise((resolve) => (this.#resolveDelivered = resolve))
  }

  static start(options: { targetPort: number; lateByMs: number }): Promise<DelayedHeadProxy> {
    return new DelayedHeadProxy(options).listen()
  }

  protected route(client: Socket, first: Buffer, putMedia: boolean): void {
    if (putMedia && this.putMediaConnections === 1) {
      // The dark path: everything is held, nothing is answered.
      this.#held.push(first)
      client.on('data', (chunk: Buffer) => this.#held.push(chunk))
      return
    }
    const second = putMedia && this.putMediaConnections === 2
    this.pass(client, first, () => {
      if (!second || this.#scheduled) return
      this.#scheduled = true
      setTimeout(() => this.#deliverLate(), this.#lateByMs)
    })
  }

  #deliverLate(): void {
    const late = this.connectUpstream()
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

/**
 * A scripted hostile network for acks lost once the upload is done: on the first PutMedia connection, the
 * response path goes dark just before the first PERSISTED ack that follows the `afterReceived`-th RECEIVED
 * ack (requests still flow, nothing is answered, the connection stays open until the client gives it up).
 * When `afterReceived` is the number of fragments sent, the client has every RECEIVED, waits for the last
 * PERSISTED, and has nothing more to send. Every other connection passes untouched.
 */
export class LostPersistedProxy extends ScriptedProxy {
  /** Response bytes of the first PutMedia connection dropped after it went dark. */
  droppedBytes = 0
  /** Whether the first PutMedia connection's response path went dark. */
  dark = false
  readonly #afterReceived: number

  private constructor(options: { targetPort: number; afterReceived: number }) {
    super(options.targetPort)
    this.#afterReceived = options.afterReceived
  }

  static start(options: { targetPort: number; afterReceived: number }): Promise<LostPersistedProxy> {
    return new LostPersistedProxy(options).listen()
  }

  protected route(client: Socket, first: Buffer, putMedia: boolean): void {
    if (!putMedia || this.putMediaConnections !== 1) {
      this.pass(client, first)
      return
    }
    const upstream = this.connectUpstream()
    upstream.write(first)
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    let received = 0
    upstream.on('data', (chunk: Buffer) => {
      if (this.dark) {
        this.droppedBytes += chunk.length
        return
      }
      // Acks arrive one JSON object per HTTP chunk; a read may hold several, or split one (counted when whole).
      const text = chunk.toString('latin1')
      let cut = -1
      for (const match of text.matchAll(/"EventType":"(RECEIVED|PERSISTED)"/g)) {
        if (match[1] === 'RECEIVED') received++
        else if (received >= this.#afterReceived) {
          // Cut at the start of this ack's chunk-size line, so the client holds only whole chunks.
          const sizeLineEnd = text.lastIndexOf('\r\n', text.lastIndexOf('{', match.index))
          const previousEnd = sizeLineEnd > 0 ? text.lastIndexOf('\r\n', sizeLineEnd - 1) : -1
          cut = previousEnd === -1 ? 0 : previousEnd + 2
          break
        }
      }
      if (cut === -1) {
        client.write(chunk)
        return
      }
      client.write(chunk.subarray(0, cut))
      this.dark = true
      this.droppedBytes += chunk.length - cut
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }
}
