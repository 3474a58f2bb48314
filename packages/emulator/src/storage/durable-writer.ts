import { randomUUID } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { DiskIo } from './disk-io.ts'
import { partsLength } from './parts.ts'

/** Name suffix of a file being written: one a crash leaves behind is removed at the next load. */
export const TEMP_SUFFIX = '.tmp'

/** Files a batch holds at most (see `DurableWriter`'s constructor). */
export const DEFAULT_MAX_BATCH = 64

/** One file of a batch. */
interface Job {
  path: string
  parts: readonly Uint8Array[]
  temporary: string
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Writes files atomically and durably, in batches. The files asked for in the same tick (the fragments that
 * PutMedia connections of any streams completed in one turn of the event loop; a turn that completes more than
 * `maxBatch` is cut into several batches) are each written to a temporary
 * name with `writev` (the parts as given, not joined) and fsync'd, all concurrently; once every one of them is,
 * they are renamed into place, and each directory that got one is fsync'd once. Only then does any of their
 * promises settle: each resolves when its bytes and its directory entry are on disk, or rejects with what
 * failed for it (its own write, fsync or rename, or the fsync of its directory), so a failure fails exactly
 * the files it concerns. A crash at any point leaves at `path` either nothing or the complete file (and
 * temporary files, which the next load removes): the rename comes only after the file's fsync.
 */
export class DurableWriter {
  readonly #io: DiskIo
  readonly #maxBatch: number
  /** The batch collecting this tick's files, committed by a `setImmediate` or once it is full. */
  #batch: Job[] | undefined

  /**
   * `maxBatch`: a batch that reaches this many files is committed at once, without waiting for the end of the
   * tick. An event-loop turn that reads hundreds of busy connections (an emulator behind on its input) would
   * otherwise hold every fragment it completes until the turn ends, and start none of their writes meanwhile.
   */
  constructor(io: DiskIo, options: { maxBatch?: number } = {}) {
    this.#io = io
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH
  }

  /** Writes `parts` as the file `path`; resolves once it is durable (see the class). */
  write(path: string, parts: readonly Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let batch = this.#batch
      if (batch === undefined) {
        const next: Job[] = []
        batch = this.#batch = next
        setImmediate(() => this.#commitIfCurrent(next))
      }
      const temporary = join(dirname(path), `.${randomUUID()}${TEMP_SUFFIX}`)
      batch.push({ path, parts, temporary, resolve, reject })
      if (batch.length >= this.#maxBatch) this.#commitIfCurrent(batch)
    })
  }

  /** Commits `batch` unless it was already (full before the end of its tick). */
  #commitIfCurrent(batch: Job[]): void {
    if (this.#batch !== batch) return
    this.#batch = undefined
    void this.#commit(batch)
  }

  async #commit(batch: readonly Job[]): Promise<void> {
    const io = this.#io
    const failures = new Map<Job, unknown>()
    const each = (jobs: readonly Job[], step: (job: Job) => Promise<void>) =>
      Promise.all(
        jobs.map(async (job) => {
          try {
            await step(job)
          } catch (error) {
            failures.set(job, error)
          }
        }),
      )
    const healthy = () => batch.filter((job) => !failures.has(job))

    await each(batch, (job) => this.#writeTemporary(job))
    await each(healthy(), async (job) => {
      try {
        await io.rename(job.temporary, job.path)
      } catch (error) {
        await io.unlink(job.temporary).catch(() => {})
        throw error
      }
    })
    const directories = new Map<string, Job[]>()
    for (const job of healthy()) {
      const directory = dirname(job.path)
      const jobs = directories.get(directory)
      if (jobs === undefined) directories.set(directory, [job])
      else jobs.push(job)
    }
    await Promise.all(
      [...directories].map(async ([directory, jobs]) => {
        try {
          await syncDirectory(io, directory)
        } catch (error) {
          for (const job of jobs) failures.set(job, error)
        }
      }),
    )
    for (const job of batch) {
      if (failures.has(job)) job.reject(failures.get(job))
      else job.resolve()
    }
  }

  /** The file under its temporary name, written whole and fsync'd; removed again when that fails. */
  async #writeTemporary(job: Job): Promise<void> {
    const io = this.#io
    const fd = await io.open(job.temporary, 'w')
    try {
      await writeAll(io, fd, job.parts)
      await io.fsync(fd)
    } catch (error) {
      await io.close(fd).catch(() => {})
      await io.unlink(job.temporary).catch(() => {})
      throw error
    }
    try {
      await io.close(fd)
    } catch (error) {
      await io.unlink(job.temporary).catch(() => {})
      throw error
    }
  }
}

/** Writes every byte of `parts` from the start of the file: one `writev`, more only after a short write. */
async function writeAll(io: DiskIo, fd: number, parts: readonly Uint8Array[]): Promise<void> {
  let pending = parts.filter((part) => part.length > 0)
  let position = 0
  let remaining = partsLength(pending)
  while (remaining > 0) {
    const written = await io.writev(fd, pending, position)
    if (!(written > 0)) throw new Error(`writev wrote ${written} of ${remaining} bytes`)
    position += written
    remaining -= written
    if (remaining > 0) pending = skipBytes(pending, written)
  }
}

/** `parts` without their first `count` bytes (views). */
function skipBytes(parts: readonly Uint8Array[], count: number): Uint8Array[] {
  const rest: Uint8Array[] = []
  let skip = count
  for (const part of parts) {
    if (skip >= part.length) skip -= part.length
    else {
      rest.push(skip === 0 ? part : part.subarray(skip))
      skip = 0
    }
  }
  return rest
}

/** Makes the entries of a directory (a file created or renamed in it) durable. */
export async function syncDirectory(io: DiskIo, directory: string): Promise<void> {
  const fd = await io.open(directory, 'r')
  try {
    await io.fsync(fd)
  } finally {
    await io.close(fd)
  }
}
