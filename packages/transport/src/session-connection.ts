import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { buildConnector, Client } from 'undici'
import { holdWriteErrors } from './write-error-grace.ts'

/**
 * A connection of its own for one PutMedia session: an undici `Client` for the endpoint's origin that opens
 * one socket and remembers it, so that abandoning the session can reset the connection.
 *
 * Why: destroying an undici request closes its socket gracefully, and the kernel then still delivers every
 * byte the session had queued (up to its send buffer, often megabytes) before the FIN. Those late bytes can
 * complete a fragment on the service after the producer has looked it up and resent it. `reset()` sends an
 * RST instead (SO_LINGER 0): bytes not yet sent are discarded, and the service's side of the connection fails
 * at once rather than after a flush.
 *
 * Its socket also holds a write failure (EPIPE, ECONNRESET) until the answer the service sent before closing
 * has been read (see `holdWriteErrors`), so a refused upload reports the service's error, not the write's.
 */
export class SessionConnection {
  readonly dispatcher: Client
  #socket: Socket | TLSSocket | undefined
  #closed = false

  constructor(origin: URL, connectTimeoutMs: number) {
    const connect = buildConnector(connectTimeoutMs > 0 ? { timeout: connectTimeoutMs } : {})
    this.dispatcher = new Client(origin.origin, {
      pipelining: 1,
      connect: (options, callback) => {
        connect(options, (error, socket) => {
          if (socket !== null) this.#socket = socket
          if (error === null && socket) holdWriteErrors(socket)
          if (error !== null) callback(error, null)
          else callback(null, socket!)
        })
      },
    })
  }

  /**
   * Resets the connection (RST; unsent bytes are discarded) and closes the client. A TLS socket, which cannot
   * be reset from JavaScript, is destroyed.
   */
  reset(): void {
    if (this.#closed) return
    this.#closed = true
    const socket = this.#socket
    if (socket !== undefined && !socket.destroyed) {
      try {
        socket.resetAndDestroy()
      } catch {
        socket.destroy()
      }
    }
    this.dispatcher.destroy().catch(() => {})
  }

  /** Closes the client once its request is done (the session ended cleanly). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.dispatcher.destroy().catch(() => {})
  }
}
