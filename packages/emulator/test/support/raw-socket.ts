import { connect, type Socket } from 'node:net'

/** A raw TCP connection to the emulator, for requests no HTTP client would send (cut, trickled). */
export interface RawConnection {
  readonly socket: Socket
  /** Everything received so far, as latin1 text. */
  received(): string
  /** Writes bytes; resolves once they are handed to the kernel. */
  write(bytes: string | Uint8Array): Promise<void>
  /** Resolves once what was received satisfies `predicate`; rejects if the connection closes first. */
  waitFor(predicate: (received: string) => boolean): Promise<void>
  /** Resolves with everything received once the socket is closed (by either side). */
  readonly closed: Promise<string>
}

/** Opens a raw connection to `port` on 127.0.0.1. */
export function openRaw(port: number): RawConnection {
  const socket = connect(port, '127.0.0.1')
  const parts: Buffer[] = []
  const waiters = new Set<{
    predicate: (text: string) => boolean
    resolve: () => void
    reject: (error: Error) => void
  }>()
  const received = () => Buffer.concat(parts).toString('latin1')
  let resolveClosed!: (text: string) => void
  const closed = new Promise<string>((resolve) => (resolveClosed = resolve))
  socket.on('data', (chunk: Buffer) => {
    parts.push(chunk)
    const text = received()
    for (const waiter of waiters) {
      if (waiter.predicate(text)) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
  })
  // A reset from either side is part of what these tests provoke; the close tells the story.
  socket.on('error', () => {})
  socket.on('close', () => {
    for (const waiter of waiters)
      waiter.reject(new Error(`closed before the expected bytes; got ${JSON.stringify(received())}`))
    waiters.clear()
    resolveClosed(received())
  })
  return {
    socket,
    received,
    write(bytes) {
      return new Promise((resolve, reject) =>
        socket.write(bytes, (error) => (error ? reject(error) : resolve())),
      )
    },
    waitFor(predicate) {
      if (predicate(received())) return Promise.resolve()
      if (socket.closed) return Promise.reject(new Error(`closed; got ${JSON.stringify(received())}`))
      return new Promise((resolve, reject) => waiters.add({ predicate, resolve, reject }))
    },
    closed,
  }
}

/** One HTTP/1.1 chunk of a chunked body. */
export function httpChunk(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
}

/** A request head: request line, headers, blank line. */
export function httpHead(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  return `POST ${path} HTTP/1.1\r\n${lines.join('')}\r\n`
}

/** The JSON objects in a raw PutMedia response (acks), in order. */
export function rawAcks(response: string): Record<string, unknown>[] {
  return [...response.matchAll(/\{[^{}]*\}/g)].map((match) => JSON.parse(match[0]) as Record<string, unknown>)
}
