/**
 * Events of the EBML reader. Offsets are absolute byte positions in the whole stream.
 *
 * `data` views point into the chunk passed to `push()` when the element lies inside that chunk (zero-copy);
 * they stay valid for as long as the caller does not reuse or mutate that chunk's memory. Elements that
 * span chunks are copied once into a buffer of their own.
 */
export type EbmlEvent = EbmlElementStart | EbmlElement | EbmlElementEnd

/** A master element opened. `size` is `undefined` for the reserved unknown size. */
export interface EbmlElementStart {
  type: 'element-start'
  id: number
  offset: number
  headerSize: number
  size: number | undefined
  depth: number
}

/**
 * A complete leaf element. With `dataMode` `'data'`, `data` is the whole payload; with `'head'`, `data`
 * holds at least the first `headBytes` bytes (the whole payload when it lay in one chunk); with `'skip'`,
 * `data` is empty. `size` is always the full payload size.
 */
export interface EbmlElement {
  type: 'element'
  id: number
  offset: number
  headerSize: number
  size: number
  depth: number
  data: Uint8Array
}

/** A master element closed: by its size, by an element that cannot be its child, or by the end of input. */
export interface EbmlElementEnd {
  type: 'element-end'
  id: number
  offset: number
  /** Absolute offset one past the element's last byte. */
  end: number
  depth: number
  unknownSize: boolean
}
