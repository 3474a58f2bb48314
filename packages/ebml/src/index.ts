export { EbmlError, type EbmlErrorCode, type EbmlErrorOptions } from './errors.ts'
export type { EbmlElement, EbmlElementEnd, EbmlElementStart, EbmlEvent } from './events.ts'
export { ElementId, elementName } from './ids.ts'
export {
  type BlockHeader,
  type BlockHeaderFields,
  type Lacing,
  readBigUint,
  readBlockHeader,
  readBlockHeaderAt,
  readDate,
  readFloat,
  readInt,
  readString,
  readUint,
} from './leaf.ts'
export { createEbmlReader, type DataMode, type EbmlReader, type EbmlReaderOptions } from './reader.ts'
export { isMasterId, levelOf } from './schema.ts'
export { EbmlReaderStream, readEbml } from './stream.ts'
export {
  newTrackEntry,
  readTrackEntryField,
  TRACK_ENTRY_FIELD_IDS,
  type TrackEntryInfo,
} from './tracks.ts'
export {
  type EbmlHeaderOptions,
  encodeId,
  encodeVint,
  type SimpleBlockInput,
  type SimpleTagInput,
  type WriteElementOptions,
  writeEbmlHeader,
  writeElement,
  writeFloat,
  writeSimpleBlock,
  writeSimpleTags,
  writeString,
  writeUint,
  writeUnknownSizeStart,
} from './writer.ts'
