/** A box of an ISO BMFF file, as this test reader sees it. */
export interface Box {
  type: string
  /** Offset of the box header in the file. */
  offset: number
  size: number
  /** The payload after the 8-byte header (and nothing else: no large sizes in these files). */
  payload: Uint8Array
  children: Box[]
}

/** Boxes whose payload is a list of boxes (full boxes among them skip version and flags, or more). */
const CONTAINERS: Record<string, number> = {
  moov: 0,
  trak: 0,
  mdia: 0,
  minf: 0,
  dinf: 0,
  stbl: 0,
  mvex: 0,
  moof: 0,
  traf: 0,
  edts: 0,
  dref: 8,
  stsd: 8,
}

/**
 * Reads every box of `bytes`, recursing into containers, and throws when a size does not fit its parent:
 * the structural check every test runs first.
 */
export function readBoxes(bytes: Uint8Array, offset = 0, end = bytes.length): Box[] {
  const boxes: Box[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = offset
  while (at < end) {
    if (at + 8 > end) throw new Error(`a box header at ${at} runs past ${end}`)
    const size = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    if (size < 8 || at + size > end) throw new Error(`box ${type} at ${at} has size ${size}, past ${end}`)
    const box: Box = { type, offset: at, size, payload: bytes.subarray(at + 8, at + size), children: [] }
    const skip = CONTAINERS[type]
    if (skip !== undefined) box.children = readBoxes(bytes, at + 8 + skip, at + size)
    boxes.push(box)
    at += size
  }
  if (at !== end) throw new Error(`boxes end at ${at}, not ${end}`)
  return boxes
}

/** The first box at `path` (`moov/trak/mdia`), or throws. */
export function find(boxes: readonly Box[], path: string): Box {
  const found = findAll(boxes, path)[0]
  if (found === undefined) throw new Error(`no ${path}`)
  return found
}

/** Every box at `path`. */
export function findAll(boxes: readonly Box[], path: string): Box[] {
  const [head, ...rest] = path.split('/')
  const matches = boxes.filter((box) => box.type === head)
  if (rest.length === 0) return matches
  return matches.flatMap((box) => findAll(box.children, rest.join('/')))
}

function dataView(box: Box): DataView {
  return new DataView(box.payload.buffer, box.payload.byteOffset, box.payload.byteLength)
}

/** `tfdt.baseMediaDecodeTime` (version 0 or 1). */
export function readTfdt(box: Box): number {
  const view = dataView(box)
  return view.getUint8(0) === 1 ? view.getUint32(4) * 2 ** 32 + view.getUint32(8) : view.getUint32(4)
}

/** `tfhd` track id and flags. */
export function readTfhd(box: Box): { trackId: number; flags: number } {
  const view = dataView(box)
  return { trackId: view.getUint32(4), flags: view.getUint32(0) & 0xffffff }
}

/** A `trun`'s samples (with the fields this package writes: duration, size, flags, composition offset). */
export interface TrunSample {
  duration: number
  size: number
  flags: number
  compositionOffset: number
}

export function readTrun(box: Box): {
  version: number
  flags: number
  dataOffset: number
  samples: TrunSample[]
} {
  const view = dataView(box)
  const version = view.getUint8(0)
  const flags = view.getUint32(0) & 0xffffff
  const count = view.getUint32(4)
  let at = 8
  let dataOffset = 0
  if (flags & 0x1) {
    dataOffset = view.getInt32(at)
    at += 4
  }
  if (flags & 0x4) at += 4
  const samples: TrunSample[] = []
  for (let i = 0; i < count; i++) {
    const sample = { duration: 0, size: 0, flags: 0, compositionOffset: 0 }
    if (flags & 0x100) {
      sample.duration = view.getUint32(at)
      at += 4
    }
    if (flags & 0x200) {
      sample.size = view.getUint32(at)
      at += 4
    }
    if (flags & 0x400) {
      sample.flags = view.getUint32(at)
      at += 4
    }
    if (flags & 0x800) {
      sample.compositionOffset = version === 1 ? view.getInt32(at) : view.getUint32(at)
      at += 4
    }
    samples.push(sample)
  }
  if (at !== box.payload.length)
    throw new Error(`trun has ${box.payload.length - at} bytes after its samples`)
  return { version, flags, dataOffset, samples }
}

/** `mdhd` timescale. */
export function readTimescale(mdhd: Box): number {
  return dataView(mdhd).getUint32(12)
}

/** Joins byte parts. */
export function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
