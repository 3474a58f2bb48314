import type { FragmentRef } from './events.ts'

/** The MKV header a fragment must be sent after (one per input Segment; shared by its fragments). */
export interface SessionHeader {
  bytes: Uint8Array
  /** Nanoseconds per timecode unit. */
  timecodeScale: number
}

/** Where a fragment stands with the service, as far as the acks of its latest session tell. */
export type FragmentProgress = 'pending' | 'sent' | 'buffering' | 'received' | 'persisted'

/** A fragment held until the service acknowledges it. */
export interface BufferedFragment {
  readonly ref: FragmentRef
  readonly header: SessionHeader
  /** The fragment's bytes (Cluster and the Tags after it), in order. Emptied once the fragment is settled. */
  bytes: readonly Uint8Array[]
  /** Media time covered, ms: what the buffer's duration is measured on. */
  readonly startMs: number
  readonly endMs: number
  /** Clock reading when the writable accepted it: the start of its ack latencies. */
  readonly acceptedAt: number
  /** The session it was last written to (0: never written). */
  sessionId: number
  /** Times written to a session. */
  sends: number
  progress: FragmentProgress
  /** The service's fragment number, from the latest ack that carried one. */
  fragmentNumber: string | undefined
  /** Whether a RECEIVED / PERSISTED ack was ever seen for it (each counted and timed once). */
  receivedSeen: boolean
  persistedSeen: boolean
  /** Acknowledged or skipped: no longer in the buffer. */
  settled: boolean
}

/** What a fragment is accepted with; the rest of a `BufferedFragment` is its state, which starts the same for all. */
export type AcceptedFragment = Pick<
  BufferedFragment,
  'ref' | 'header' | 'bytes' | 'startMs' | 'endMs' | 'acceptedAt'
>

/** A fragment just accepted: never sent, no ack seen, not settled. */
export function newBufferedFragment(accepted: AcceptedFragment): BufferedFragment {
  return {
    ref: accepted.ref,
    header: accepted.header,
    bytes: accepted.bytes,
    startMs: accepted.startMs,
    endMs: accepted.endMs,
    acceptedAt: accepted.acceptedAt,
    sessionId: 0,
    sends: 0,
    progress: 'pending',
    fragmentNumber: undefined,
    receivedSeen: false,
    persistedSeen: false,
    settled: false,
  }
}

export interface ReplayBufferLimits {
  maxBytes: number
  maxDurationMs: number
}

/**
 * The fragments not yet acknowledged, oldest first, with a send cursor: a pure data structure (no I/O, no
 * timers). Fragments leave when settled (acknowledged or skipped) — usually from the front, since acks come
 * in order — and their bytes are released at once. `rewind()` puts the cursor back on the oldest unsettled
 * fragment, which is what a new session resends from.
 */
export class ReplayBuffer {
  readonly limits: ReplayBufferLimits
  /** Fragments in acceptance order; slots before `#head` are cleared (settled) and only wait for compaction. */
  #entries: (BufferedFragment | undefined)[] = []
  #head = 0
  /** Position in `#entries` of the next fragment to send (settled entries are skipped over). */
  #cursor = 0
  /** Bytes and count of the unsettled fragments. */
  #bytes = 0
  #count = 0

  constructor(limits: ReplayBufferLimits) {
    this.limits = limits
  }

  /** Bytes of the unsettled fragments. */
  get bytes(): number {
    return this.#bytes
  }

  /** Unsettled fragments. */
  get size(): number {
    return this.#count
  }

  /** Media time from the start of the oldest unsettled fragment to the end of the newest, ms. */
  get durationMs(): number {
    const first = this.oldest()
    if (first === undefined) return 0
    let last: BufferedFragment | undefined
    for (let i = this.#entries.length - 1; i >= this.#head; i--) {
      const entry = this.#entries[i]!
      if (!entry.settled) {
        last = entry
        break
      }
    }
    return Math.max(0, (last ?? first).endMs - first.startMs)
  }

  /** Whether the buffer is at or over one of its limits. */
  get full(): boolean {
    return this.#bytes >= this.limits.maxBytes || this.durationMs >= this.limits.maxDurationMs
  }

  add(fragment: BufferedFragment): void {
    this.#entries.push(fragment)
    this.#bytes += fragment.ref.byteLength
    this.#count++
  }

  /** The oldest unsettled fragment. */
  oldest(): BufferedFragment | undefined {
    this.#advanceHead()
    return this.#entries[this.#head]
  }

  /** Unsettled fragments, oldest first. */
  *unsettled(): IterableIterator<BufferedFragment> {
    for (let i = this.#head; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!
      if (!entry.settled) yield entry
    }
  }

  /** The next fragment to send, without moving the cursor. */
  peek(): BufferedFragment | undefined {
    if (this.#cursor < this.#head) this.#cursor = this.#head
    while (this.#cursor < this.#entries.length && this.#entries[this.#cursor]!.settled) this.#cursor++
    return this.#entries[this.#cursor]
  }

  /** Moves the cursor past the fragment `peek()` returned. */
  advance(): void {
    if (this.peek() !== undefined) this.#cursor++
  }

  /** Puts the cursor back on the oldest unsettled fragment: the next session resends from there. */
  rewind(): void {
    this.#advanceHead()
    this.#cursor = this.#head
  }

  /** Removes a fragment (acknowledged, skipped or dropped) and releases its bytes. Idempotent. */
  settle(fragment: BufferedFragment): void {
    if (fragment.settled) return
    fragment.settled = true
    fragment.bytes = []
    this.#bytes -= fragment.ref.byteLength
    this.#count--
    this.#advanceHead()
  }

  /** Skips settled entries at the front and compacts the array now and then (amortised O(1)). */
  #advanceHead(): void {
    const entries = this.#entries
    // A skipped slot is cleared: a settled fragment is held by nothing here (entries before `#head` are never read).
    while (this.#head < entries.length && entries[this.#head]!.settled) entries[this.#head++] = undefined
    if (this.#head === entries.length) {
      this.#cursor -= this.#head
      this.#entries = []
      this.#head = 0
      if (this.#cursor < 0) this.#cursor = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= entries.length) {
      this.#entries = entries.slice(this.#head)
      this.#cursor = Math.max(0, this.#cursor - this.#head)
      this.#head = 0
    }
  }
}
