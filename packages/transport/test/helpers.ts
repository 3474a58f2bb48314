import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createKvsSigner, type KvsSigner } from '@kvs-streams/signer'

export const credentials = { accessKeyId: 'AKIDTRANSPORTTEST', secretAccessKey: 'transport-test-secret' }

export function testSigner(): KvsSigner {
  return createKvsSigner({ region: 'us-west-2', credentials })
}

export interface TestServer {
  url: string
  server: Server
  /** Server-side sockets still open. */
  sockets: Set<Socket>
  close(): Promise<void>
}

/** A node:http server on 127.0.0.1 with an ephemeral port; `close()` destroys every open socket. */
export async function startServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TestServer> {
  const server = createServer(handler)
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    sockets,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Resolves once `predicate()` holds, polling each event-loop turn (bounded by the test timeout). */
export async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** Collects every chunk of a stream (bytes or objects). */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of source) items.push(item)
  return items
}
