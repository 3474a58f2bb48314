import { close, constants, createReadStream, open as openCallback } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { detectFormat } from '@kvs-streams/muxer'
import { CliError, usageError } from './errors.ts'
import { ExitCode } from './exit-codes.ts'
import { detectForeignFormat, type ForeignFormat } from './input-format.ts'
import type { InputFormat } from './input-stage.ts'

const openFd = promisify(openCallback)

/** What `kvs put` reads one stream's media from. */
export interface PutSource {
  /** The path given, or undefined for stdin. */
  path: string | undefined
  /**
   * `file`: a regular file, read as fast as it goes and dated so that it ends now. `live`: stdin, a FIFO
   * (`mkfifo`, fed by an encoder) or a device: it starts now and ends when its writer closes it.
   */
  kind: 'file' | 'live'
  /** A FIFO: opened without blocking (see `openSource`). */
  fifo: boolean
  /** Size of a file, for the progress percentage. */
  size: number | undefined
  /** The format: the `--format` given, or told from a file's first bytes (a live source's when they come). */
  format: InputFormat | undefined
}

/** The error for MP4, MOV or TS given to `kvs put`: what it is, and the ffmpeg command that remuxes it. */
export function foreignFormatError(
  format: ForeignFormat,
  file: string | undefined,
  streamName: string,
): CliError {
  const input = file ?? `in.${format.extension}`
  return new CliError(
    'ERR_KVS_CLI_INPUT',
    `The input is ${format.description}, not Matroska (MKV): kvs put sends Matroska, nothing was sent.`,
    {
      exitCode: ExitCode.MediaRejected,
      hints: [
        'Remux it into Matroska without re-encoding and pipe that in:',
        `  ffmpeg ${format.inputOptions}-i ${input} -c copy -f matroska - | kvs put ${streamName} -`,
      ],
    },
  )
}

/**
 * Looks at `path` before anything goes over the network: a missing file or a directory fails here, and a
 * regular file's format is told from its first bytes (MP4, MOV and TS are named, with the ffmpeg command that
 * remuxes them). A FIFO or a device is a live source and is not read yet: its first bytes are its media.
 */
export async function inspectSource(
  path: string | undefined,
  streamName: string,
  format: InputFormat | undefined,
): Promise<PutSource> {
  if (path === undefined) return { path, kind: 'live', fifo: false, size: undefined, format }
  const info = await stat(path)
  if (info.isDirectory()) {
    throw usageError(`${path} is a directory: kvs put sends one MKV file`, [
      `Give one file (kvs put ${streamName} ${path.replace(/\/+$/, '')}/video.mkv), or - to read stdin.`,
    ])
  }
  if (!info.isFile()) return { path, kind: 'live', fifo: info.isFIFO(), size: undefined, format }
  let told = format
  if (told === undefined) {
    const handle = await open(path)
    try {
      const { buffer, bytesRead } = await handle.read(new Uint8Array(256), 0, 256, 0)
      const head = buffer.subarray(0, bytesRead)
      const foreign = detectForeignFormat(head)
      if (foreign !== undefined) throw foreignFormatError(foreign, path, streamName)
      told = detectFormat(head) ?? 'mkv'
    } finally {
      await handle.close()
    }
  }
  return { path, kind: 'file', fifo: false, size: info.size, format: told }
}

/**
 * Opens `source` for reading. A FIFO is opened without blocking and read through the event loop (a `Socket`
 * on its descriptor), not with `fs` reads: those take a libuv thread pool thread each while they wait for
 * data, and four waiting FIFOs would stall every file read and DNS lookup of the process. Until its writer
 * (an encoder) has written its first bytes, a descriptor of our own keeps the FIFO open for writing, so a
 * FIFO with no writer yet is waited for instead of read as empty; after that, the source ends when the
 * writer closes it.
 */
export async function openSource(source: PutSource, stdin: Readable): Promise<Readable> {
  if (source.path === undefined) return stdin
  if (!source.fifo) return createReadStream(source.path)
  const fd = await openFd(source.path, constants.O_RDONLY | constants.O_NONBLOCK)
  let keepOpen: number | undefined
  try {
    keepOpen = await openFd(source.path, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (error) {
    close(fd, () => {})
    throw error
  }
  const release = () => {
    if (keepOpen === undefined) return
    close(keepOpen, () => {})
    keepOpen = undefined
  }
  const socket = new Socket({ fd, readable: true, writable: false })
  // `readable` comes with the writer's first bytes (it cannot come at the end before: we hold a writer).
  socket.once('readable', release)
  socket.once('close', release)
  return socket
}
