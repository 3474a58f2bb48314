import { once } from 'node:events'
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { pickInRange, seededRandom } from './random.ts'

/**
 * The faults the proxy injects, one per connection at most:
 * - `reset`: both sides get a TCP RST after a drawn number of client→server bytes.
 * - `stall`: nothing is forwarded either way from that byte on; the connection is reset after `maxStallMs`
 *   (or as soon as the client gives up), so nothing held arrives late.
 * - `drip`: from that byte on, both directions are forwarded a few bytes at a time with delays, for a while.
 * - `half-close-request`: the server gets a FIN mid-request (client→server bytes after it are dropped).
 * - `half-close-response`: the client gets a FIN mid-response after a drawn number of server→client bytes.
 * - `lost-response`: server→client bytes are dropped after a drawn number while the request side keeps
 *   flowing; the client is reset after `maxStallMs` if it has not given up.
 * - `late-bytes`: client→server bytes are held from that byte on; after a while the client side is reset
 *   (or the client gives up), and the held bytes are delivered to the server later, once the client has
 *   moved on: an abandoned session that still completes fragments.
 * - `delayed-head`: a new connection's first bytes are held back, so a newer connection's head arrives first.
 */
export type FaultKind =
  | 'reset'
  | 'stall'
  | 'drip'
  | 'half-close-request'
  | 'half-close-response'
  | 'lost-response'
  | 'late-bytes'
  | 'delayed-head'

export const FAULT_KINDS: readonly FaultKind[] = [
  'reset',
  'stall',
  'drip',
  'half-close-request',
  'half-close-response',
  'lost-response',
  'late-bytes',
  'delayed-head',
]

/** The faults that end a connection's normal life; `drip` and `delayed-head` come on top, by share. */
export type PrimaryFaultKind = Exclude<FaultKind, 'drip' | 'delayed-head'>

/**
 * Relative weights of the primary fault kinds; `none` is the weight of a connection left alone (a PutMedia
 * connection left alone lives until the stream ends, so give `none` to short requests only).
 */
export type FaultWeights = Partial<Record<PrimaryFaultKind | 'none', number>>

/** Fault settings for connections whose first request line matches `match` (e.g. `/^POST \/listFragments/`). */
export interface FaultRoute {
  match: RegExp
  weights: FaultWeights
  /** Overrides the proxy's `requestBytes` for these connections. */
  requestBytes?: readonly [min: number, max: number]
  /** Overrides the proxy's `responseBytes` for these connections. */
  responseBytes?: readonly [min: number, max: number]
  /** Overrides the proxy's `triggerOn` for these connections. */
  triggerOn?: 'request' | 'response'
  /** Overrides the proxy's `dripShare` for these connections. */
  dripShare?: number
  /** Overrides the proxy's `delayedHeadShare` for these connections. */
  delayedHeadShare?: number
}

export interface HostileProxyOptions {
  /** Where connections go (the emulator). */
  targetPort: number
  targetHost?: string
  /** Seeds the fault plans: the n-th connection gets the same plan on every run. */
  seed: number
  /** Fault weights of connections no route matches. */
  weights: FaultWeights
  /**
   * What the byte budget of `reset`, `stall`, `half-close-request`, `late-bytes` and the drip counts:
   * client→server bytes (`requestBytes`, default: uploads such as PutMedia) or server→client bytes
   * (`responseBytes`: downloads such as GetMedia, cut mid-response).
   */
  triggerOn?: 'request' | 'response'
  /** Share of connections (0 to 1) that drip for a while after a drawn number of client→server bytes. Default 0. */
  dripShare?: number
  /** Share of connections (0 to 1) whose first bytes are held back (`headDelayMs`). Default 0. */
  delayedHeadShare?: number
  /** Per-request-kind weights, tried in order on the connection's first request line. */
  routes?: readonly FaultRoute[]
  /** Client→server bytes forwarded before a request-side fault. Default [2,000, 200,000]. */
  requestBytes?: readonly [min: number, max: number]
  /** Server→client bytes forwarded before a response-side fault. Default [1, 2,000]. */
  responseBytes?: readonly [min: number, max: number]
  /** Bound on a stall, a lost response and a half-closed connection: then both sides are reset. Default 2,000. */
  maxStallMs?: number
  /** How long `late-bytes` keeps taking the client's bytes before resetting it, ms. Default [20, 300]. */
  holdMs?: readonly [min: number, max: number]
  /** How long held bytes wait after the client side is gone, ms. Default [50, 1,500]. */
  lateDelayMs?: readonly [min: number, max: number]
  /** How long `delayed-head` holds a connection's first bytes, ms. Default [50, 800]. */
  headDelayMs?: readonly [min: number, max: number]
  /** `drip`: bytes per write, delay between writes (ms), how long the drip lasts (ms). */
  drip?: {
    bytes?: readonly [min: number, max: number]
    delayMs?: readonly [min: number, max: number]
    durationMs?: readonly [min: number, max: number]
  }
  /** Bytes a connection may hold (late bytes, drip queues); beyond, late bytes are dropped and drips pause the sender. Default 4 MiB. */
  maxHeldBytes?: number
}

/** One injected fault: its kind and when, in `performance.now()` ms. */
export interface InjectedFault {
  kind: FaultKind
  atMs: number
  connection: number
  /** The connection's first request line (method and path), when it was seen. */
  request: string
}

/** What the proxy did. */
export interface ProxyCounts {
  connections: number
  byKind: Record<FaultKind, number>
  /** Bytes delivered to the server after their client was gone (`late-bytes`). */
  lateBytesDelivered: number
}

const NO_FAULT = 'none'

/** The plan of one connection, drawn at accept time so that the n-th connection always gets the same draws. */
interface Plan {
  /** A draw in [0, 1) that picks the kind once the first request line is known. */
  kindRoll: number
  dripRoll: number
  headRoll: number
  dripBytesRoll: number
  requestRoll: number
  responseRoll: number
  holdMs: number
  lateDelayMs: number
  headDelayMs: number
  dripDurationMs: number
  /** The connection's own PRNG for drip sizes and delays. */
  random: () => number
}

function pickWeighted(weights: FaultWeights, roll: number): PrimaryFaultKind | typeof NO_FAULT {
  const entries = Object.entries(weights).filter(([, weight]) => (weight ?? 0) > 0) as [
    PrimaryFaultKind | typeof NO_FAULT,
    number,
  ][]
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
  if (total === 0) return NO_FAULT
  let at = roll * total
  for (const [kind, weight] of entries) {
    if (at < weight) return kind
    at -= weight
  }
  return entries[entries.length - 1]![0]
}

function inRange(roll: number, range: readonly [number, number]): number {
  return range[0] + Math.floor(roll * (range[1] - range[0] + 1))
}

/**
 * A seeded hostile TCP proxy on 127.0.0.1: each connection gets at most one fault, drawn from a seeded PRNG
 * by its rank (see `FaultKind`). Every fault is counted by kind when it is injected, with its time, for
 * recovery-time figures. Bounded: every held buffer is delivered or dropped within `maxStallMs` plus the
 * largest `holdMs`/`lateDelayMs`/`headDelayMs`/drip duration, and each connection holds at most
 * `maxHeldBytes`.
 */
export class HostileProxy {
  readonly counts: ProxyCounts = {
    connections: 0,
    byKind: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    lateBytesDelivered: 0,
  }
  /** Every fault injected, in order. */
  readonly faults: InjectedFault[] = []
  readonly #server: Server
  readonly #options: HostileProxyOptions
  readonly #random: () => number
  readonly #sockets = new Set<Socket>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #enabled = true
  #closed = false
  /** Late bytes and orphaned heads not yet delivered. */
  #pendingLate = 0

  private constructor(server: Server, options: HostileProxyOptions) {
    this.#server = server
    this.#options = options
    this.#random = seededRandom(options.seed)
    server.on('connection', (client) => this.#accept(client))
  }

  static async start(options: HostileProxyOptions): Promise<HostileProxy> {
    const server = createServer({ noDelay: true })
    const proxy = new HostileProxy(server, options)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Faults injected so far, all kinds. */
  get total(): number {
    return this.faults.length
  }

  /** Turns fault injection on or off for connections opened from now on (plans are still drawn). */
  set enabled(value: boolean) {
    this.#enabled = value
  }

  /**
   * Waits until every held late byte and orphaned head has been delivered to the server (at most
   * `boundMs`), then `settleMs` more for the server to act on them: read the stream after this, or a
   * fragment completed late is missed.
   */
  async drain(boundMs = 10_000, settleMs = 300): Promise<void> {
    const until = performance.now() + boundMs
    while (this.#pendingLate > 0 && performance.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 20))
    await new Promise((resolve) => setTimeout(resolve, settleMs))
  }

  /** Closes the listener and destroys every connection and pending timer (held bytes are dropped). */
  async close(): Promise<void> {
    this.#closed = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** "reset 12, stall 3, …" for the kinds injected. */
  describe(): string {
    return FAULT_KINDS.filter((kind) => this.counts.byKind[kind] > 0)
      .map((kind) => `${kind} ${this.counts.byKind[kind]}`)
      .join(', ')
  }

  #later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      action()
    }, ms)
    this.#timers.add(timer)
    return timer
  }

  #accept(client: Socket): void {
    const connection = ++this.counts.connections
    const random = this.#random
    const options = this.#options
    // A fixed number of draws per connection, whatever happens to it: plans depend on the rank only.
    const plan: Plan = {
      kindRoll: random(),
      dripRoll: random(),
      headRoll: random(),
      dripBytesRoll: random(),
      requestRoll: random(),
      responseRoll: random(),
      holdMs: pickInRange(random, options.holdMs ?? [20, 300]),
      lateDelayMs: pickInRange(random, options.lateDelayMs ?? [50, 1_500]),
      headDelayMs: pickInRange(random, options.headDelayMs ?? [50, 800]),
      dripDurationMs: pickInRange(random, options.drip?.durationMs ?? [200, 1_500]),
      random: seededRandom((random() * 4_294_967_296) >>> 0),
    }
    const enabled = this.#enabled
    const maxStallMs = options.maxStallMs ?? 2_000
    const maxHeldBytes = options.maxHeldBytes ?? 4 * 1024 * 1024
    const upstream = createConnection({
      port: options.targetPort,
      host: options.targetHost ?? '127.0.0.1',
      noDelay: true,
    })
    this.#sockets.add(client)
    this.#sockets.add(upstream)
    client.setNoDelay(true)

    /** Decided at the first client bytes (the request line picks the route). */
    let kind: PrimaryFaultKind | typeof NO_FAULT | undefined
    /** Client→server bytes still to forward before the drip starts (infinite: no drip). */
    let dripBudget = Number.POSITIVE_INFINITY
    /** Budgets count server→client bytes (`triggerOn: 'response'`). */
    let dripOnResponse = false
    let request = ''
    /** Client→server bytes still to forward before a request-side fault (infinite: none pending). */
    let requestBudget = Number.POSITIVE_INFINITY
    /** Server→client bytes still to forward before a response-side fault. */
    let responseBudget = Number.POSITIVE_INFINITY
    /** Client→server bytes are dropped (stall, half-closed request). */
    let dropUp = false
    /** Server→client bytes are dropped (stall, half-closed or lost response, client gone). */
    let dropDown = false
    /** `late-bytes`: client bytes held for later delivery, and their size. */
    let held: Buffer[] | undefined
    let heldBytes = 0
    /** `late-bytes`: the client side is gone, the held bytes are on their way. */
    let clientGone = false
    /** `delayed-head`: first bytes held until the delay has passed. */
    let head: Buffer[] | undefined
    /** `delayed-head`: the client left while its head was held; the head is still delivered. */
    let headOrphaned = false
    let headBytes = 0
    /** `drip`: forwarding goes through the drip lanes until this time. */
    let dripUntil = 0
    const timers: NodeJS.Timeout[] = []

    const record = (faultKind: FaultKind): void => {
      this.counts.byKind[faultKind]++
      this.faults.push({ kind: faultKind, atMs: performance.now(), connection, request })
    }
    const resetBoth = (): void => {
      for (const timer of timers) clearTimeout(timer)
      // A held head goes nowhere now: it no longer counts as pending.
      if (head !== undefined && headOrphaned) this.#pendingLate--
      head = undefined
      if (!client.destroyed) client.resetAndDestroy()
      if (!upstream.destroyed) upstream.resetAndDestroy()
    }
    const bound = (): void => {
      timers.push(this.#later(maxStallMs, resetBoth))
    }

    // Drip lanes: a queue per direction, written a few bytes at a time; the sender is paused while the queue
    // is over `maxHeldBytes`, so memory stays bounded.
    const dripBytes = options.drip?.bytes ?? [1, 64]
    const dripDelay = options.drip?.delayMs ?? [1, 20]
    const lane = (source: Socket, target: Socket) => {
      const queue: (Buffer | 'end')[] = []
      let queued = 0
      let pumping = false
      const pump = (): void => {
        if (target.destroyed) {
          queue.length = 0
          queued = 0
          pumping = false
          return
        }
        const item = queue[0]
        if (item === undefined) {
          pumping = false
          return
        }
        if (item === 'end') {
          queue.shift()
          target.end()
          pumping = false
          return
        }
        const dripping = performance.now() < dripUntil
        const size = dripping ? Math.min(item.length, pickInRange(plan.random, dripBytes)) : item.length
        target.write(item.subarray(0, size))
        queued -= size
        if (size === item.length) queue.shift()
        else queue[0] = item.subarray(size)
        if (queued <= maxHeldBytes && source.isPaused()) source.resume()
        if (dripping) this.#later(pickInRange(plan.random, dripDelay), pump)
        else setImmediate(pump)
      }
      return {
        get busy(): boolean {
          return pumping || queue.length > 0
        },
        push(item: Buffer | 'end'): void {
          queue.push(item)
          if (item !== 'end') {
            queued += item.length
            if (queued > maxHeldBytes) source.pause()
          }
          if (!pumping) {
            pumping = true
            pump()
          }
        },
      }
    }
    const upLane = lane(client, upstream)
    const downLane = lane(upstream, client)

    const sendUp = (chunk: Buffer): void => {
      if (upLane.busy || performance.now() < dripUntil) upLane.push(chunk)
      else upstream.write(chunk)
    }
    const sendDown = (chunk: Buffer): void => {
      if (downLane.busy || performance.now() < dripUntil) downLane.push(chunk)
      else client.write(chunk)
    }

    const decide = (first: Buffer): void => {
      request = /^[A-Z]+ \S+/.exec(first.subarray(0, 200).toString('latin1'))?.[0] ?? ''
      const route = options.routes?.find((candidate) => candidate.match.test(request))
      kind = enabled ? pickWeighted(route?.weights ?? options.weights, plan.kindRoll) : NO_FAULT
      const requestRange = route?.requestBytes ?? options.requestBytes ?? [2_000, 200_000]
      const responseRange = route?.responseBytes ?? options.responseBytes ?? [1, 2_000]
      dripOnResponse = (route?.triggerOn ?? options.triggerOn) === 'response'
      const onRequest =
        kind === 'reset' || kind === 'stall' || kind === 'half-close-request' || kind === 'late-bytes'
      if (onRequest && !dripOnResponse) requestBudget = inRange(plan.requestRoll, requestRange)
      if (!onRequest || dripOnResponse) {
        if (kind !== NO_FAULT) responseBudget = inRange(plan.responseRoll, responseRange)
      }
      if (enabled && plan.dripRoll < (route?.dripShare ?? options.dripShare ?? 0)) {
        const range = dripOnResponse ? responseRange : requestRange
        const budget = dripOnResponse ? responseBudget : requestBudget
        dripBudget = inRange(plan.dripBytesRoll, [0, Math.min(budget, range[1])])
      }
      if (enabled && plan.headRoll < (route?.delayedHeadShare ?? options.delayedHeadShare ?? 0)) {
        head = []
        timers.push(
          this.#later(plan.headDelayMs, () => {
            const pending = head ?? []
            head = undefined
            if (headOrphaned) this.#pendingLate--
            if (upstream.destroyed) return
            record('delayed-head')
            for (const chunk of pending) forwardUp(chunk)
            if (client.isPaused()) client.resume()
            if (clientEnded || headOrphaned) {
              // The client is gone or done: its head (and what followed) still reaches the server, late.
              upstream.end()
              this.#later(maxStallMs, () => {
                if (!upstream.destroyed) upstream.resetAndDestroy()
              })
            }
          }),
        )
      }
    }

    /** The request-side fault, once its byte budget is reached. */
    const requestFault = (): void => {
      requestBudget = Number.POSITIVE_INFINITY
      switch (kind) {
        case 'reset':
          record('reset')
          // Nothing more either way: the cut lands at the budget. The RST waits a turn so that the bytes
          // just written leave first.
          dropUp = true
          dropDown = true
          setImmediate(resetBoth)
          break
        case 'stall':
          record('stall')
          dropUp = true
          dropDown = true
          bound()
          break
        case 'half-close-request':
          record('half-close-request')
          dropUp = true
          upstream.end()
          bound()
          break
        case 'late-bytes':
          record('late-bytes')
          held = []
          // The client is cut off after the hold; its held bytes go to the server later.
          timers.push(this.#later(plan.holdMs, () => clientLeft(true)))
          break
      }
    }

    /** `late-bytes`: the client side is gone (reset by us after the hold, or given up): deliver later. */
    const clientLeft = (resetClient: boolean): void => {
      if (clientGone || held === undefined) return
      clientGone = true
      dropDown = true
      if (resetClient && !client.destroyed) client.resetAndDestroy()
      this.#pendingLate++
      this.#later(plan.lateDelayMs, () => {
        this.#pendingLate--
        const pending = held ?? []
        held = undefined
        if (upstream.destroyed) return
        for (const chunk of pending) upstream.write(chunk)
        this.counts.lateBytesDelivered += heldBytes
        // A FIN after the late bytes, then a reset if the server keeps the connection open.
        upstream.end()
        this.#later(maxStallMs, () => {
          if (!upstream.destroyed) upstream.resetAndDestroy()
        })
      })
    }

    let clientEnded = false
    const countDrip = (length: number): void => {
      if (length >= dripBudget) {
        dripBudget = Number.POSITIVE_INFINITY
        record('drip')
        dripUntil = performance.now() + plan.dripDurationMs
      } else dripBudget -= length
    }
    /** Client→server bytes past the head: the drip and the request-side fault are counted on them. */
    const forwardUp = (chunk: Buffer): void => {
      if (dropUp) return
      if (held !== undefined) {
        if (heldBytes + chunk.length <= maxHeldBytes) {
          held.push(chunk)
          heldBytes += chunk.length
        } else if (!clientGone) clientLeft(true)
        return
      }
      if (!dripOnResponse) countDrip(chunk.length)
      if (chunk.length < requestBudget) {
        requestBudget -= chunk.length
        sendUp(chunk)
        return
      }
      const budget = requestBudget
      sendUp(chunk.subarray(0, budget))
      requestFault()
      const rest = chunk.subarray(budget)
      if (rest.length === 0) return
      // requestFault() may have started holding (late bytes) or dropping (stall, half-close).
      const holding = held as Buffer[] | undefined
      if (holding !== undefined) {
        holding.push(rest)
        heldBytes += rest.length
      } else if (!dropUp && kind !== 'reset') sendUp(rest)
    }
    client.on('data', (chunk: Buffer) => {
      if (kind === undefined) decide(chunk)
      if (head !== undefined) {
        head.push(chunk)
        headBytes += chunk.length
        if (headBytes > maxHeldBytes) client.pause()
        return
      }
      forwardUp(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (dropDown || client.destroyed) return
      if (dripOnResponse) countDrip(chunk.length)
      if (chunk.length < responseBudget) {
        responseBudget -= chunk.length
        sendDown(chunk)
        return
      }
      const budget = responseBudget
      sendDown(chunk.subarray(0, budget))
      responseBudget = Number.POSITIVE_INFINITY
      if (kind === 'half-close-response') {
        record('half-close-response')
        dropDown = true
        if (downLane.busy) downLane.push('end')
        else client.end()
        bound()
      } else if (kind === 'lost-response') {
        record('lost-response')
        dropDown = true
        bound()
      } else {
        // A request-side kind counted on the response (`triggerOn: 'response'`).
        requestFault()
        if (!dropDown && kind !== 'reset' && budget < chunk.length) sendDown(chunk.subarray(budget))
      }
    })

    // Clean ends are passed on after what is queued; abrupt ones reset the other side, except while late
    // bytes are held (the server must not learn that the client is gone).
    client.on('end', () => {
      clientEnded = true
      if (held !== undefined) return clientLeft(false)
      if (dropUp && kind === 'stall') return resetBoth()
      if (head !== undefined) return
      if (upLane.busy) upLane.push('end')
      else if (!dropUp) upstream.end()
    })
    upstream.on('end', () => {
      if (dropDown) return
      if (downLane.busy) downLane.push('end')
      else client.end()
    })
    client.on('close', (hadError) => {
      this.#sockets.delete(client)
      if (held !== undefined) return clientLeft(false)
      if (head !== undefined) {
        headOrphaned = true
        dropDown = true
        this.#pendingLate++
        return
      }
      if (hadError || dropUp || dropDown) resetBoth()
    })
    upstream.on('close', (hadError) => {
      this.#sockets.delete(upstream)
      // A stalled or lost response loses the server's FIN or RST too: only the bound (or the client) ends it.
      if (clientGone || headOrphaned || dropDown) return
      if (hadError) resetBoth()
      else if (!client.destroyed && !client.writableEnded && !downLane.busy) client.end()
    })
    client.on('error', () => {})
    upstream.on('error', () => {})
    if (this.#closed) resetBoth()
  }
}
