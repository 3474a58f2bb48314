import { close, fstat, fsync, open, read, rename, unlink, writev } from 'node:fs'

/**
 * The file-system calls the disk backend makes on its hot paths (fragment writes and reads), by file descriptor.
 * Node's callback API, without the `FileHandle` objects of `fs/promises`; each call is one job of libuv's
 * threadpool. A seam for tests, which wrap it to watch or fail calls.
 */
export interface DiskIo {
  /** `'w'`: create or truncate, write only; `'r'`: read only (files and directories). */
  open(path: string, flags: 'r' | 'w'): Promise<number>
  /** One `pwritev`: resolves the bytes written, which may be fewer than given. */
  writev(fd: number, buffers: readonly Uint8Array[], position: number): Promise<number>
  /** One `pread` into `buffer[offset, offset + length)`: resolves the bytes read (0 at the end of the file). */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /** The file's size in bytes. */
  size(fd: number): Promise<number>
  fsync(fd: number): Promise<void>
  close(fd: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
}

/** `DiskIo` on `node:fs`. */
export const nodeDiskIo: DiskIo = {
  open: (path, flags) =>
    new Promise((resolve, reject) => open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd)))),
  writev: (fd, buffers, position) =>
    new Promise((resolve, reject) =>
      writev(fd, buffers as Uint8Array[], position, (error, written) =>
        error ? reject(error) : resolve(written),
      ),
    ),
  read: (fd, buffer, offset, length, position) =>
    new Promise((resolve, reject) =>
      read(fd, buffer, offset, length, position, (error, bytesRead) =>
        error ? reject(error) : resolve(bytesRead),
      ),
    ),
  size: (fd) =>
    new Promise((resolve, reject) =>
      fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size))),
    ),
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve()))),
  close: (fd) => new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve()))),
  rename: (from, to) =>
    new Promise((resolve, reject) => rename(from, to, (error) => (error ? reject(error) : resolve()))),
  unlink: (path) =>
    new Promise((resolve, reject) => unlink(path, (error) => (error ? reject(error) : resolve()))),
}
