import { Tools } from 'ebml-stream/lib/tools.js'
import { ElementId } from './ids.ts'

const utf8 = new TextEncoder()

/**
 * Encodes an EBML variable-size integer, at the smallest width or at `width` bytes (1–8). Throws a
 * `RangeError` when the value does not fit the width: the all-ones value of a width is reserved for the
 * unknown size (write that with `writeUnknownSizeStart`).
 */
export function encodeVint(value: number, width?: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`value must be a non-negative safe integer, got ${value}`)
  }
  if (width !== undefined) {
    if (!Number.isInteger(width) || width < 1 || width > 8) {
      throw new RangeError(`width must be an integer from 1 to 8, got ${width}`)
    }
    if (value >= 2 ** (7 * width) - 1) {
      throw new RangeError(`value ${value} does not fit a ${width}-byte vint`)
    }
  }
  return Tools.writeVint(value, width)
}

/** Encodes an element id (its bytes include the length marker, as ids are written in the spec). */
export function encodeId(id: number): Uint8Array {
  const bytes: number[] = []
  let rest = id
  do {
    bytes.unshift(rest % 256)
    rest = Math.floor(rest / 256)
  } while (rest > 0)
  return Uint8Array.from(bytes)
}

/** Options of `writeElement`. */
export interface WriteElementOptions {
  /** Width of the size field in bytes (KVS writes its Tags with 4, PIC with 8). Default: the smallest. */
  sizeWidth?: number
}

/** Writes one element: id, size, then the payload parts in order. */
export function writeElement(
  id: number,
  payload: Uint8Array | readonly Uint8Array[],
  options: WriteElementOptions = {},
): Uint8Array {
  const parts = payload instanceof Uint8Array ? [payload] : payload
  let size = 0
  for (const part of parts) size += part.length
  const head = encodeId(id)
  const sizeField = encodeVint(size, options.sizeWidth)
  const out = new Uint8Array(head.length + sizeField.length + size)
  out.set(head, 0)
  out.set(sizeField, head.length)
  let at = head.length + sizeField.length
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Writes the start of a master element of unknown size (id then an all-ones size of `sizeWidth` bytes). */
export function writeUnknownSizeStart(id: number, sizeWidth = 1): Uint8Array {
  if (!Number.isInteger(sizeWidth) || sizeWidth < 1 || sizeWidth > 8) {
    throw new RangeError(`sizeWidth must be an integer from 1 to 8, got ${sizeWidth}`)
  }
  const head = encodeId(id)
  const out = new Uint8Array(head.length + sizeWidth)
  out.set(head, 0)
  out[head.length] = 0xff >> (sizeWidth - 1)
  out.fill(0xff, head.length + 1)
  return out
}

/** Writes an unsigned integer element (0 to 2^53 - 1) at its smallest width (one byte for 0). */
export function writeUint(id: number, value: number, options?: WriteElementOptions): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`value must be a non-negative safe integer, got ${value}`)
  }
  const bytes: number[] = []
  let rest = value
  do {
    bytes.unshift(rest % 256)
    rest = Math.floor(rest / 256)
  } while (rest > 0)
  return writeElement(id, Uint8Array.from(bytes), options)
}

/** Writes a String/UTF-8 element. */
export function writeString(id: number, value: string, options?: WriteElementOptions): Uint8Array {
  return writeElement(id, utf8.encode(value), options)
}

/** Writes an 8-byte float element. */
export function writeFloat(id: number, value: number, options?: WriteElementOptions): Uint8Array {
  const payload = new Uint8Array(8)
  new DataView(payload.buffer).setFloat64(0, value)
  return writeElement(id, payload, options)
}

/** The EBML header's DocType fields; the defaults are `matroska`, 4 and 2. */
export interface EbmlHeaderOptions {
  docType?: string
  docTypeVersion?: number
  docTypeReadVersion?: number
}

/** Writes an EBML header (EBMLVersion 1, MaxIDLength 4, MaxSizeLength 8, DocType `matroska` by default). */
export function writeEbmlHeader(options: EbmlHeaderOptions = {}): Uint8Array {
  return writeElement(ElementId.EBML, [
    writeUint(ElementId.EBMLVersion, 1),
    writeUint(ElementId.EBMLReadVersion, 1),
    writeUint(ElementId.EBMLMaxIDLength, 4),
    writeUint(ElementId.EBMLMaxSizeLength, 8),
    writeString(ElementId.DocType, options.docType ?? 'matroska'),
    writeUint(ElementId.DocTypeVersion, options.docTypeVersion ?? 4),
    writeUint(ElementId.DocTypeReadVersion, options.docTypeReadVersion ?? 2),
  ])
}

/** One SimpleTag: a name with a string value. */
export interface SimpleTagInput {
  name: string
  value: string
}

/**
 * Writes a level-1 Tags element holding one Tag with a SimpleTag (TagName + TagString) per entry, without
 * Targets, as KVS writes its `AWS_KINESISVIDEO_*` tags (with `sizeWidth: 4`).
 */
export function writeSimpleTags(
  tags: readonly SimpleTagInput[],
  options: WriteElementOptions = {},
): Uint8Array {
  const simpleTags = tags.map((tag) =>
    writeElement(
      ElementId.SimpleTag,
      [
        writeString(ElementId.TagName, tag.name, options),
        writeString(ElementId.TagString, tag.value, options),
      ],
      options,
    ),
  )
  return writeElement(ElementId.Tags, [writeElement(ElementId.Tag, simpleTags, options)], options)
}

/** One frame for `writeSimpleBlock`. */
export interface SimpleBlockInput {
  track: number
  /** Timecode relative to the cluster, in TimecodeScale units (int16). */
  timecode: number
  keyframe?: boolean
  invisible?: boolean
  discardable?: boolean
  data: Uint8Array
}

/** Writes a SimpleBlock without lacing. */
export function writeSimpleBlock(block: SimpleBlockInput): Uint8Array {
  if (!Number.isInteger(block.timecode) || block.timecode < -32768 || block.timecode > 32767) {
    throw new RangeError(`timecode must be an int16, got ${block.timecode}`)
  }
  const track = encodeVint(block.track)
  const header = new Uint8Array(track.length + 3)
  header.set(track, 0)
  header[track.length] = (block.timecode >> 8) & 0xff
  header[track.length + 1] = block.timecode & 0xff
  header[track.length + 2] =
    (block.keyframe ? 0x80 : 0) | (block.invisible ? 0x08 : 0) | (block.discardable ? 0x01 : 0)
  return writeElement(ElementId.SimpleBlock, [header, block.data])
}
