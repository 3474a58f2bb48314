import type { Socket } from 'node:net'

/** Write errors that mean the peer closed or reset the connection: an answer it sent first may still be unread. */
const PEER_GONE = new Set(['EPIPE', 'ECONNRESET'])

/** How long a write failure waits for the read side when no `graceMs` is given. */
export const WRITE_ERROR_GRACE_MS = 1000

/**
 * Makes a write failure on `socket` wait for the read side before it is reported. A service that refuses an
 * upload answers (404, 403, 400…) and closes the connection without reading the rest of the body; a client still
 * writing then gets EPIPE or ECONNRESET, often from the very next write, and node destroys the socket at once,
 * closing it with the answer unread in the kernel's receive buffer. Here such a write's callback is held (no
 * further write is attempted) until the socket's read side ends or fails, so the answer already received is
 * read and parsed first, or until `graceMs` pass; then the write error is reported as before.
 */
export function holdWriteErrors(socket: Socket, graceMs = WRITE_ERROR_GRACE_MS): void {
  const hold =
    (callback: (error?: Error | null) => void) =>
    (error?: Error | null): void => {
      const code = (error as NodeJS.ErrnoException | null | undefined)?.code
      if (error == null || code === undefined || !PEER_GONE.has(code) || socket.destroyed) {
        callback(error)
        return
      }
      const release = (): void => {
        clearTimeout(timer)
        socket.off('end', release)
        socket.off('close', release)
        callback(error)
      }
      const timer = setTimeout(release, graceMs)
      socket.once('end', release)
      socket.once('close', release)
    }
  const write = socket._write
  const writev = socket._writev
  socket._write = function (this: Socket, chunk, encoding, callback) {
    write.call(this, chunk, encoding, hold(callback))
  }
  if (writev !== undefined && writev !== null) {
    socket._writev = function (this: Socket, chunks, callback) {
      writev.call(this, chunks, hold(callback))
    }
  }
}
