import { invalidOption, positiveIntegerOption, renamedOption } from '@kvs-streams/core'
import { EbmlError } from './errors.ts'
import type { EbmlEvent } from './events.ts'
import { isMasterId, levelOf } from './schema.ts'

/** How a leaf element's payload is delivered. */
export type DataMode = 'data' | 'head' | 'skip'

/** Options of `createEbmlReader` and its adapters. */
export interface EbmlReaderOptions {
  /** Largest leaf element delivered whole (`dataMode` `'data'`), bytes; larger ones fail. Default 32 MiB. */
  maxElementBytes?: number
  /**
   * The former name of `maxElementBytes`. Giving both with different values throws a `TypeError`.
   * @deprecated Use `maxElementBytes`.
   */
  maxElementSize?: number
  /** Deepest master nesting accepted. Default 32. */
  maxDepth?: number
  /** Widest element id accepted, in bytes (EBMLMaxIDLength), 1–8. Default 4. */
  maxIdLength?: number
  /**
   * Chooses per leaf id how its payload is delivered: `'data'` (whole payload, the default), `'head'`
   * (at least the first `headBytes` bytes, e.g. a SimpleBlock header without copying its frame) or `'skip'`.
   * It must depend on the id alone: the reader asks once per distinct leaf id and remembers the answer
   * (for up to 1024 ids).
   */
  dataMode?: (id: number) => DataMode
  /** Bytes kept of a `'head'` element that spans chunks. Default 16. */
  headBytes?: number
}

/** An incremental EBML reader: push bytes, get the element events they complete. */
export interface EbmlReader {
  /**
   * Consumes a chunk and returns the events it completed. On corrupt or oversized input it fails with an
   * `EbmlError`: when the chunk completed events before the problem, they are returned and the error is
   * thrown by the next call (`push()` or `end()`); otherwise it is thrown at once. After an error every call
   * throws it again.
   */
  push(chunk: Uint8Array): EbmlEvent[]
  /**
   * Marks the end of input: closes open unknown-size masters and returns their end events, or throws
   * `ERR_KVS_EBML_TRUNCATED` when the input stops inside an element.
   */
  end(): EbmlEvent[]
  /**
   * Absolute offset up to which the input is fully read: the start of the next element, or the next payload
   * byte. Bytes of an element header split across chunks count only once the header is complete, so every
   * byte from `offset` on may still be part of a later event.
   */
  readonly offset: number
  /** Number of open master elements. */
  readonly depth: number
}

const UNKNOWN = -1
const EMPTY = new Uint8Array(0)
const defaultDataMode = (): DataMode => 'data'

// What the reader needs to know about an id, packed in one small integer so that an element whose id
// repeats the previous one (block after block in a Cluster) costs no lookup at all.
const MASTER = 1
const MODE_HEAD = 2
const MODE_SKIP = 4
/** `levelOf(id) + 1` (0 for ids that cannot close an unknown-size master) is stored from this bit up. */
const LEVEL_SHIFT = 3
/** Ids whose traits are remembered at most (real files use a few dozen). */
const MAX_REMEMBERED_IDS = 1024

/**
 * Creates an incremental, zero-copy EBML reader (RFC 8794) that knows the Matroska schema (RFC 9559)
 * well enough to close unknown-size masters: a Cluster of unknown size ends at the next Cluster, Tags,
 * Cues, or any other element of its level or above, or an EBML header; a Segment of unknown size ends at
 * the next EBML header, so concatenated documents (GetMedia output) read as a sequence.
 * @see https://www.rfc-editor.org/rfc/rfc8794#section-6.2
 */
export function createEbmlReader(options: EbmlReaderOptions = {}): EbmlReader {
  return new Reader(options)
}

class Reader implements EbmlReader {
  readonly #maxElementBytes: number
  readonly #maxDepth: number
  readonly #maxIdLength: number
  readonly #dataMode: (id: number) => DataMode
  readonly #headBytes: number

  /** Absolute offset of the next byte to consume; element offsets are computed from it. */
  #offset = 0
  /** Open masters, innermost last: ids. */
  #stackId: number[] = []
  /** Absolute start offsets of the open masters. */
  #stackStart: number[] = []
  /** Absolute end offsets of the open masters, or UNKNOWN for the reserved unknown size. */
  #stackEnd: number[] = []
  /** Nearest known end among each master and its ancestors (Infinity when none): children must fit in it. */
  #stackBound: number[] = []
  /** Bytes of an element header that straddles two chunks (at most 8 id bytes and 8 size bytes). */
  #headerBuffer = new Uint8Array(16)
  /** How many bytes of `#headerBuffer` hold a partial header. */
  #headerLength = 0
  /** Id, size (UNKNOWN for unknown) and length of the header parsed last. */
  #id = 0
  #size = 0
  #length = 0
  /** A leaf element whose payload spans chunks, being copied or skipped. */
  #leafActive = false
  #leafId = 0
  #leafOffset = 0
  #leafHeaderSize = 0
  #leafSize = 0
  #leafDepth = 0
  /** Payload bytes of the current leaf still to consume. */
  #leafRemaining = 0
  /** Where its payload (or head) is copied, or null when skipped. */
  #leafBuffer: Uint8Array | null = null
  #leafFill = 0
  /** The first error: every later call throws it again. */
  #failed: Error | undefined
  /** Set by end(): later pushes are a usage error. */
  #ended = false
  /** Id → its packed traits (MASTER, MODE_*, level), filled on first sight; the last one is also cached. */
  readonly #traits = new Map<number, number>()
  #lastId = -1
  #lastTraits = 0

  constructor(options: EbmlReaderOptions) {
    const maxElementBytes = renamedOption(
      'maxElementBytes',
      options.maxElementBytes,
      'maxElementSize',
      options.maxElementSize,
    )
    this.#maxElementBytes = positiveIntegerOption(
      options.maxElementBytes === undefined && options.maxElementSize !== undefined
        ? 'maxElementSize'
        : 'maxElementBytes',
      maxElementBytes,
      32 * 1024 * 1024,
    )
    this.#maxDepth = positiveIntegerOption('maxDepth', options.maxDepth, 32)
    this.#maxIdLength = positiveIntegerOption('maxIdLength', options.maxIdLength, 4)
    if (this.#maxIdLength > 8)
      throw invalidOption('maxIdLength', 'an integer from 1 to 8', options.maxIdLength)
    this.#headBytes = positiveIntegerOption('headBytes', options.headBytes, 16)
    if (options.dataMode !== undefined && typeof options.dataMode !== 'function') {
      throw invalidOption('dataMode', 'a function', options.dataMode)
    }
    this.#dataMode = options.dataMode ?? defaultDataMode
  }

  get offset(): number {
    return this.#offset
  }

  get depth(): number {
    return this.#stackId.length
  }

  push(chunk: Uint8Array): EbmlEvent[] {
    if (this.#failed) throw this.#failed
    if (this.#ended) throw new Error('push() after end()')
    const events: EbmlEvent[] = []
    try {
      this.#run(chunk, events)
    } catch (error) {
      // Whatever stopped the read (corrupt input, or a dataMode callback that threw or answered nonsense)
      // left it mid-element: every later call throws the same error. The events completed before it are
      // returned, the error then comes from the next call.
      this.#failed = error instanceof Error ? error : new Error(String(error), { cause: error })
      if (events.length === 0) throw this.#failed
    }
    return events
  }

  end(): EbmlEvent[] {
    if (this.#failed) throw this.#failed
    if (this.#ended) return []
    this.#ended = true
    const events: EbmlEvent[] = []
    if (this.#headerLength > 0) {
      throw this.#fail(
        'ERR_KVS_EBML_TRUNCATED',
        `input ended inside the header of the element at byte ${this.#offset}`,
        this.#offset + this.#headerLength,
        undefined,
      )
    }
    if (this.#leafActive) {
      throw this.#fail(
        'ERR_KVS_EBML_TRUNCATED',
        `input ended ${this.#leafRemaining} bytes before the end of element 0x${this.#leafId.toString(16)}`,
        this.#offset,
        this.#leafId,
      )
    }
    for (let i = this.#stackId.length - 1; i >= 0; i--) {
      if (this.#stackEnd[i] !== UNKNOWN) {
        const id = this.#stackId[i]!
        throw this.#fail(
          'ERR_KVS_EBML_TRUNCATED',
          `input ended ${this.#stackEnd[i]! - this.#offset} bytes before the end of element 0x${id.toString(16)}`,
          this.#offset,
          id,
        )
      }
    }
    while (this.#stackId.length > 0) this.#pop(events, this.#offset)
    return events
  }

  #fail(
    code: ConstructorParameters<typeof EbmlError>[0],
    message: string,
    offset: number,
    id: number | undefined,
  ) {
    const error = new EbmlError(code, message, { offset, elementId: id })
    this.#failed = error
    return error
  }

  #run(chunk: Uint8Array, events: EbmlEvent[]): void {
    const length = chunk.length
    let position = 0
    while (position < length) {
      if (this.#leafActive) {
        position = this.#continueLeaf(chunk, position, events)
        continue
      }
      if (this.#headerLength === 0) {
        const headerLength = this.#parseHeader(chunk, position, length)
        if (headerLength === 0) {
          // Header straddles the chunk boundary: keep its first bytes (fewer than 16) for the next chunk.
          this.#headerBuffer.set(chunk.subarray(position, length), 0)
          this.#headerLength = length - position
          return
        }
        position += headerLength
      } else {
        const previous = this.#headerLength
        const take = Math.min(16 - previous, length - position)
        this.#headerBuffer.set(chunk.subarray(position, position + take), previous)
        const headerLength = this.#parseHeader(this.#headerBuffer, 0, previous + take)
        if (headerLength === 0) {
          this.#headerLength = previous + take
          return
        }
        this.#headerLength = 0
        position += headerLength - previous
      }
      position = this.#startElement(chunk, position, events)
    }
  }

  /**
   * Parses an element header at `buffer[start]`. Returns its length, or 0 when more bytes are needed.
   * Sets #id, #size and #length.
   */
  #parseHeader(buffer: Uint8Array, start: number, end: number): number {
    const first = buffer[start]!
    if (first === 0) {
      throw this.#fail('ERR_KVS_EBML_INVALID_VINT', 'element id wider than 8 bytes', this.#offset, undefined)
    }
    const idLength = Math.clz32(first) - 23
    if (idLength > this.#maxIdLength) {
      throw this.#fail(
        'ERR_KVS_EBML_INVALID_VINT',
        `element id of ${idLength} bytes exceeds maxIdLength ${this.#maxIdLength}`,
        this.#offset,
        undefined,
      )
    }
    if (start + idLength >= end) return 0
    let id = first
    // All-ones and all-zeros id values are reserved (RFC 8794 §5): only corrupt input has them.
    let allOnes = (first | (0xff << (8 - idLength))) & 0xff
    let anyBit = first & (0xff >> idLength)
    for (let i = 1; i < idLength; i++) {
      const byte = buffer[start + i]!
      id = id * 256 + byte
      allOnes &= byte
      anyBit |= byte
    }
    if (allOnes === 0xff || anyBit === 0) {
      throw this.#fail('ERR_KVS_EBML_INVALID_VINT', 'reserved element id', this.#offset, undefined)
    }
    const sizeStart = start + idLength
    const sizeFirst = buffer[sizeStart]!
    if (sizeFirst === 0) {
      throw this.#fail('ERR_KVS_EBML_INVALID_VINT', 'element size wider than 8 bytes', this.#offset, id)
    }
    const sizeLength = Math.clz32(sizeFirst) - 23
    if (sizeStart + sizeLength > end) return 0
    const mask = 0xff >> sizeLength
    let size = sizeFirst & mask
    let unknown = size === mask
    for (let i = 1; i < sizeLength; i++) {
      const byte = buffer[sizeStart + i]!
      size = size * 256 + byte
      if (byte !== 0xff) unknown = false
    }
    if (unknown) {
      size = UNKNOWN
    } else if (size > Number.MAX_SAFE_INTEGER) {
      throw this.#fail('ERR_KVS_EBML_ELEMENT_TOO_LARGE', 'element size above 2^53', this.#offset, id)
    }
    this.#id = id
    this.#size = size
    this.#length = idLength + sizeLength
    return this.#length
  }

  #startElement(chunk: Uint8Array, position: number, events: EbmlEvent[]): number {
    const id = this.#id
    const size = this.#size
    const headerSize = this.#length
    const offset = this.#offset
    this.#offset = offset + headerSize
    const traits = id === this.#lastId ? this.#lastTraits : this.#traitsOf(id)
    if (traits >= 1 << LEVEL_SHIFT) this.#closeUnknownFor((traits >> LEVEL_SHIFT) - 1, offset, events)

    const top = this.#stackId.length - 1
    const bound = top >= 0 ? this.#stackBound[top]! : Number.POSITIVE_INFINITY
    if (offset + headerSize > bound || (size !== UNKNOWN && offset + headerSize + size > bound)) {
      throw this.#fail(
        'ERR_KVS_EBML_OVERRUN',
        `element 0x${id.toString(16)} overruns its parent, which ends at byte ${bound}`,
        offset,
        id,
      )
    }

    if ((traits & MASTER) !== 0) {
      const depth = top + 1
      if (depth >= this.#maxDepth) {
        throw this.#fail(
          'ERR_KVS_EBML_TOO_DEEP',
          `nesting deeper than maxDepth ${this.#maxDepth}`,
          offset,
          id,
        )
      }
      const end = size === UNKNOWN ? UNKNOWN : offset + headerSize + size
      this.#stackId.push(id)
      this.#stackStart.push(offset)
      this.#stackEnd.push(end)
      this.#stackBound.push(end === UNKNOWN ? bound : end)
      events.push({
        type: 'element-start',
        id,
        offset,
        headerSize,
        size: size === UNKNOWN ? undefined : size,
        depth,
      })
      // A zero-size master, or an unknown-size one whose header reaches its known-size parent's end, is
      // already complete.
      this.#closeEnded(events)
      return position
    }

    if (size === UNKNOWN) {
      throw this.#fail(
        'ERR_KVS_EBML_INVALID_UNKNOWN_SIZE',
        `leaf element 0x${id.toString(16)} has the unknown size`,
        offset,
        id,
      )
    }
    const mode: DataMode = (traits & MODE_SKIP) !== 0 ? 'skip' : (traits & MODE_HEAD) !== 0 ? 'head' : 'data'
    if (mode === 'data' && size > this.#maxElementBytes) {
      throw this.#fail(
        'ERR_KVS_EBML_ELEMENT_TOO_LARGE',
        `element 0x${id.toString(16)} of ${size} bytes exceeds maxElementBytes ${this.#maxElementBytes}`,
        offset,
        id,
      )
    }
    const depth = top + 1
    if (size <= chunk.length - position) {
      // Fast path: the whole payload is in this chunk, deliver a view.
      events.push({
        type: 'element',
        id,
        offset,
        headerSize,
        size,
        depth,
        data: mode === 'skip' ? EMPTY : chunk.subarray(position, position + size),
      })
      this.#offset += size
      this.#closeEnded(events)
      return position + size
    }
    this.#leafActive = true
    this.#leafId = id
    this.#leafOffset = offset
    this.#leafHeaderSize = headerSize
    this.#leafSize = size
    this.#leafDepth = depth
    this.#leafRemaining = size
    this.#leafFill = 0
    this.#leafBuffer =
      mode === 'data'
        ? new Uint8Array(size)
        : mode === 'head'
          ? new Uint8Array(Math.min(size, this.#headBytes))
          : null
    return position
  }

  #continueLeaf(chunk: Uint8Array, position: number, events: EbmlEvent[]): number {
    const take = Math.min(this.#leafRemaining, chunk.length - position)
    const buffer = this.#leafBuffer
    if (buffer !== null && this.#leafFill < buffer.length) {
      const copy = Math.min(take, buffer.length - this.#leafFill)
      buffer.set(chunk.subarray(position, position + copy), this.#leafFill)
      this.#leafFill += copy
    }
    this.#leafRemaining -= take
    this.#offset += take
    if (this.#leafRemaining === 0) {
      this.#leafActive = false
      this.#leafBuffer = null
      events.push({
        type: 'element',
        id: this.#leafId,
        offset: this.#leafOffset,
        headerSize: this.#leafHeaderSize,
        size: this.#leafSize,
        depth: this.#leafDepth,
        data: buffer ?? EMPTY,
      })
      this.#closeEnded(events)
    }
    return position + take
  }

  /** The packed traits of an id (asking `dataMode` about a leaf id the first time it is seen). */
  #traitsOf(id: number): number {
    let traits = this.#traits.get(id)
    if (traits === undefined) {
      const master = isMasterId(id)
      const mode = master ? 'data' : this.#dataMode(id)
      if (mode !== 'data' && mode !== 'head' && mode !== 'skip') {
        throw invalidOption('dataMode', "a function returning 'data', 'head' or 'skip'", mode)
      }
      traits =
        (master ? MASTER : 0) |
        (mode === 'head' ? MODE_HEAD : mode === 'skip' ? MODE_SKIP : 0) |
        ((levelOf(id) + 1) << LEVEL_SHIFT)
      // Bounded however many distinct ids hostile input makes up.
      if (this.#traits.size >= MAX_REMEMBERED_IDS) this.#traits.clear()
      this.#traits.set(id, traits)
    }
    this.#lastId = id
    this.#lastTraits = traits
    return traits
  }

  /** Closes open unknown-size masters that an element of this schema level cannot be a child of. */
  #closeUnknownFor(level: number, offset: number, events: EbmlEvent[]): void {
    for (let top = this.#stackId.length - 1; top >= 0; top--) {
      if (this.#stackEnd[top] !== UNKNOWN) return
      const openLevel = levelOf(this.#stackId[top]!)
      if (openLevel < 0 || level > openLevel) return
      this.#pop(events, offset)
    }
  }

  /** Closes every master that ends exactly at the current offset (and unknown-size ones inside them). */
  #closeEnded(events: EbmlEvent[]): void {
    const offset = this.#offset
    for (let top = this.#stackId.length - 1; top >= 0; top--) {
      const end = this.#stackEnd[top]!
      if (end === offset || (end === UNKNOWN && this.#stackBound[top] === offset)) this.#pop(events, offset)
      else return
    }
  }

  #pop(events: EbmlEvent[], end: number): void {
    const depth = this.#stackId.length - 1
    const id = this.#stackId.pop()!
    const offset = this.#stackStart.pop()!
    const knownEnd = this.#stackEnd.pop()!
    this.#stackBound.pop()
    events.push({ type: 'element-end', id, offset, end, depth, unknownSize: knownEnd === UNKNOWN })
  }
}
