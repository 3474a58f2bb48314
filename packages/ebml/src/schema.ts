import { EbmlTagFactory } from 'ebml-stream/lib/models/EbmlTagFactory.js'
import { EbmlElementType } from 'ebml-stream/lib/models/enums/EbmlElementType.js'
import { EbmlTagId } from 'ebml-stream/lib/models/enums/EbmlTagId.js'

/** Master elements: those `ebml-stream` types as master, plus newer Matroska masters it does not know. */
const masters = new Set<number>()
for (const value of Object.values(EbmlTagId)) {
  if (typeof value !== 'number') continue
  const tag = (EbmlTagFactory.create as (id: number) => { type: string })(value)
  if (tag.type === EbmlElementType.Master) masters.add(value)
}
// Newer Matroska masters missing from ebml-stream's table (RFC 9559): Colour, MasteringMetadata,
// Projection, BlockAdditionMapping, ChapProcess... are all nested under known-size parents in practice.
for (const id of [0x55b0, 0x55d0, 0x7670, 0x41e4, 0x7e5b, 0x7e7b, 0x6924]) masters.add(id)

/** Whether an id is a master element in the EBML header or Matroska schema. */
export function isMasterId(id: number): boolean {
  return masters.has(id)
}

/**
 * Schema levels of the elements that can close an unknown-size master (RFC 8794 §6.2): an element whose
 * level is at or above the open master's level cannot be its child. Ids missing here (and the global
 * Void and CRC-32) are treated as children, as the RFC requires for unknown ids.
 */
const levels = new Map<number, number>([
  [EbmlTagId.EBML, 0],
  [EbmlTagId.Segment, 0],
  [EbmlTagId.SeekHead, 1],
  [EbmlTagId.Info, 1],
  [EbmlTagId.Tracks, 1],
  [EbmlTagId.Cluster, 1],
  [EbmlTagId.Cues, 1],
  [EbmlTagId.Attachments, 1],
  [EbmlTagId.Chapters, 1],
  [EbmlTagId.Tags, 1],
  [EbmlTagId.Timecode, 2],
  [EbmlTagId.SilentTracks, 2],
  [EbmlTagId.Position, 2],
  [EbmlTagId.PrevSize, 2],
  [EbmlTagId.SimpleBlock, 2],
  [EbmlTagId.BlockGroup, 2],
  [EbmlTagId.EncryptedBlock, 2],
  [EbmlTagId.TrackEntry, 2],
  [EbmlTagId.Tag, 2],
  [EbmlTagId.CuePoint, 2],
  [EbmlTagId.Seek, 2],
])

/** Schema level of an id (0 for EBML and Segment, 1 for Segment children, …), or -1 when unknown. */
export function levelOf(id: number): number {
  return levels.get(id) ?? -1
}
