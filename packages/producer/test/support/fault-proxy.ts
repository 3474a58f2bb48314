import { once } from 'node:events'
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net'
import { seededRandom } from './media.ts'

export interface FaultProxyOptions {
  /** Where connections go (the emulator). */
  targetPort: number
  targetHost?: string
  seed: number
  /**
   * Each connection gets a fault after a random number of client→server bytes in this range (bytes forwarded
   * before the fault); undefined: no faults.
   */
  faultAfterBytes?: [min: number, max: number]
  /**
   * Or after a random time in this range from the connection's first byte, ms: the fault then lands while
   * acks flow, not only in a burst of resent data. The first of the two limits reached applies.
   */
  faultAfterMs?: [min: number, max: number]
  /** Share of faults that are stalls (forwarding stops both ways) rather than resets. Default 0. */
  stallShare?: number
  /** A stalled connection is reset after this long if the client has not given up first, ms. Default 30,000. */
  maxStallMs?: number
}

/** What the proxy did, for the tests' fault count and assertions. */
export interface FaultCounts {
  connections: number
  resets: number
  stalls: number
}

/**
 * A TCP proxy on 127.0.0.1 that corrupts nothing but breaks connections: after a seeded random number of
 * client→server bytes it either resets both sides (RST, at an arbitrary byte, usually mid-fragment) or stalls
 * (stops forwarding in both directions, so the client sees neither acks nor progress). When the client gives
 * up on a stalled connection, the server side is reset too, so bytes held back never reach the server late.
 */
export class FaultProxy {
  readonly counts: FaultCounts = { connections: 0, resets: 0, stalls: 0 }
  readonly #server: Server
  readonly #options: FaultProxyOptions
  readonly #random: () => number
  readonly #sockets = new Set<Socket>()
  #enabled = true

  private constructor(server: Server, options: FaultProxyOptions) {
    this.#server = server
    this.#options = options
    this.#random = seededRandom(options.seed)
    server.on('connection', (client) => this.#accept(client))
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer()
    const proxy = new FaultProxy(server, options)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Turns fault injection on or off for connections opened from now on. */
  set enabled(value: boolean) {
    this.#enabled = value
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket): void {
    this.counts.connections++
    const upstream = createConnection({
      port: this.#options.targetPort,
      host: this.#options.targetHost ?? '127.0.0.1',
    })
    this.#sockets.add(client)
    this.#sockets.add(upstream)
    const byteRange = this.#enabled ? this.#options.faultAfterBytes : undefined
    const timeRange = this.#enabled ? this.#options.faultAfterMs : undefined
    const pick = (range: [number, number]): number =>
      range[0] + Math.floor(this.#random() * (range[1] - range[0]))
    let budget = byteRange === undefined ? Number.POSITIVE_INFINITY : pick(byteRange)
    const deadlineMs = timeRange === undefined ? undefined : pick(timeRange)
    const stall = (byteRange ?? timeRange) !== undefined && this.#random() < (this.#options.stallShare ?? 0)
    let faultTimer: NodeJS.Timeout | undefined
    /** A stalled connection is a black hole: both directions are read and dropped, nothing is forwarded. */
    let stalled = false
    let stallTimer: NodeJS.Timeout | undefined
    const reset = (): void => {
      clearTimeout(stallTimer)
      clearTimeout(faultTimer)
      if (!client.destroyed) client.resetAndDestroy()
      if (!upstream.destroyed) upstream.resetAndDestroy()
    }
    let faulted = false
    const fault = (): void => {
      if (faulted || client.destroyed) return
      faulted = true
      // Nothing more is forwarded upstream either way (until the RST, or ever for a stall): bytes the client
      // writes after the cut must be lost with the connection, never passed on after a gap (that is not a
      // fault TCP can make: it corrupts the body, which the emulator rightly refuses with ERROR 4006).
      budget = 0
      if (stall) {
        this.counts.stalls++
        stalled = true
        stallTimer = setTimeout(reset, this.#options.maxStallMs ?? 30_000)
      } else {
        this.counts.resets++
        // Let the bytes just written leave before the RST, so the cut lands at the budget.
        setImmediate(reset)
      }
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled) return
      if (deadlineMs !== undefined && faultTimer === undefined && !faulted) {
        faultTimer = setTimeout(fault, deadlineMs)
      }
      if (faulted) return
      if (chunk.length < budget) {
        budget -= chunk.length
        upstream.write(chunk)
        return
      }
      upstream.write(chunk.subarray(0, budget))
      fault()
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!stalled) client.write(chunk)
    })
    // Clean ends are passed on (flushing what is in flight); abrupt ones, and any end of a stalled connection
    // on the client's side, reset the other side so that nothing held back arrives late.
    client.on('end', () => {
      if (stalled) reset()
      else upstream.end()
    })
    upstream.on('end', () => {
      if (!stalled) client.end()
    })
    client.on('close', (hadError) => {
      this.#sockets.delete(client)
      if (hadError || stalled) reset()
    })
    upstream.on('close', (hadError) => {
      this.#sockets.delete(upstream)
      if (hadError && !stalled) reset()
    })
    client.on('error', () => {})
    upstream.on('error', () => {})
  }
}
