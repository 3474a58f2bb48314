import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, Socket } from 'node:net'
import { Agent } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { putMedia } from '../src/index.ts'
import { testSigner, until } from './helpers.ts'

/**
 * A raw TCP server that reads a PutMedia request without ever answering, and can stop reading so the client's
 * bytes pile up in the kernel buffers: what it sees when the client abandons the session tells a reset (RST,
 * `ECONNRESET`, queued bytes discarded) from a graceful close (FIN after every queued byte).
 */
interface RawServer {
  url: string
  server: Server
  sockets: Socket[]
  received: () => number
  ending: Promise<{ code: string | undefined; received: number }>
}

const servers: RawServer[] = []
afterEach(() => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy()
    server.close()
  }
})

async function rawServer(): Promise<RawServer> {
  let received = 0
  const sockets: Socket[] = []
  let resolveEnding!: (value: { code: string | undefined; received: number }) => void
  const ending = new Promise<{ code: string | undefined; received: number }>((resolve) => {
    resolveEnding = resolve
  })
  const server = createServer((socket) => {
    sockets.push(socket)
    let code: string | undefined
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      code = error.code
    })
    socket.on('close', () => resolveEnding({ code, received }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const raw = { url: `http://127.0.0.1:${port}`, server, sockets, received: () => received, ending }
  servers.push(raw)
  return raw
}

/** Starts a session, writes 16 MiB while the server has stopped reading, then destroys the session. */
async function abandonMidBody(server: RawServer, dispatcher: Agent | undefined) {
  const duplex = putMedia({
    endpoint: server.url,
    streamName: 'reset',
    signer: testSigner(),
    ackStalenessMs: 0,
    ...(dispatcher === undefined ? {} : { dispatcher }),
  })
  duplex.on('error', () => {})
  const piece = new Uint8Array(64 * 1024).fill(7)
  duplex.write(piece)
  await until(() => server.sockets.length === 1 && server.received() > 0)
  server.sockets[0]!.pause()
  let written = 0
  for (let i = 0; i < 256; i++) {
    duplex.write(piece)
    written += piece.length
  }
  // Let the socket fill what it can: the kernel buffers on both sides.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const before = server.received()
  duplex.destroy()
  await new Promise((resolve) => setTimeout(resolve, 50))
  server.sockets[0]!.resume()
  const end = await server.ending
  return { ...end, before, written }
}

describe('abandoning a PutMedia session', () => {
  it('resets its own connection (RST: unsent bytes are discarded, not flushed late)', async () => {
    const resets = vi.spyOn(Socket.prototype, 'resetAndDestroy')
    try {
      const server = await rawServer()
      const result = await abandonMidBody(server, undefined)
      expect(resets).toHaveBeenCalledTimes(1)
      expect(result.received).toBeLessThan(result.written)
    } finally {
      resets.mockRestore()
    }
  })

  it('with a caller-supplied dispatcher, the dispatcher closes its socket (documented): no reset', async () => {
    const resets = vi.spyOn(Socket.prototype, 'resetAndDestroy')
    const agent = new Agent()
    try {
      const server = await rawServer()
      await abandonMidBody(server, agent)
      expect(resets).not.toHaveBeenCalled()
    } finally {
      resets.mockRestore()
      await agent.close()
    }
  })
})
