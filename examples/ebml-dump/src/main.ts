import { createReadStream } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  type EbmlEvent,
  ElementId,
  elementName,
  readBigUint,
  readBlockHeader,
  readEbml,
  readString,
} from '@kvs-streams/ebml'

/** Leaves shown as text. */
const stringIds = new Set<number>([
  ElementId.DocType,
  ElementId.CodecID,
  ElementId.Title,
  ElementId.MuxingApp,
  ElementId.WritingApp,
  ElementId.Name,
  ElementId.TagName,
  ElementId.TagString,
  ElementId.TagLanguage,
])

/** Leaves shown as unsigned integers. */
const uintIds = new Set<number>([
  ElementId.EBMLVersion,
  ElementId.EBMLReadVersion,
  ElementId.EBMLMaxIDLength,
  ElementId.EBMLMaxSizeLength,
  ElementId.DocTypeVersion,
  ElementId.DocTypeReadVersion,
  ElementId.TimecodeScale,
  ElementId.Timecode,
  ElementId.Position,
  ElementId.PrevSize,
  ElementId.TrackNumber,
  ElementId.TrackUID,
  ElementId.TrackType,
  ElementId.PixelWidth,
  ElementId.PixelHeight,
  ElementId.SeekPosition,
  ElementId.CueTime,
  ElementId.CueTrack,
  ElementId.CueClusterPosition,
])

/** One line per element: name, id, offset, payload size ('unknown' for the reserved unknown size), value. */
function describe(event: EbmlEvent): string | undefined {
  if (event.type === 'element-end') return undefined
  const id = `0x${event.id.toString(16)}`
  const head = `${'  '.repeat(event.depth)}${elementName(event.id)} (${id}) @${event.offset} size ${event.size ?? 'unknown'}`
  if (event.type === 'element-start') return head
  if (stringIds.has(event.id)) return `${head}: ${JSON.stringify(readString(event.data))}`
  if (uintIds.has(event.id)) return `${head}: ${readBigUint(event.data)}`
  if (event.id === ElementId.SimpleBlock) {
    const block = readBlockHeader(event.data)
    if (block !== undefined) {
      return `${head}: track ${block.track}, timecode ${block.timecode}${block.keyframe ? ', key frame' : ''}`
    }
  }
  return head
}

/** Reads an MKV file as a stream and prints its element tree. */
export async function dump(path: string, print: (line: string) => void = console.log): Promise<void> {
  // Frames are not needed: only the first bytes of each SimpleBlock (its header) are kept.
  const dataMode = (id: number) => (id === ElementId.SimpleBlock ? 'head' : 'data')
  for await (const event of readEbml(createReadStream(path), { dataMode })) {
    const line = describe(event)
    if (line !== undefined) print(line)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const fallback = new URL('../../../fixtures/kvs-getmedia/test_mixed_tags.mkv', import.meta.url)
  await dump(process.argv[2] ?? fileURLToPath(fallback))
}
