// Deep imports: the package index also loads its Node stream decoder, which the reader core must not need.
import { EbmlTagId } from 'ebml-stream/lib/models/enums/EbmlTagId.js'

/**
 * Element ids of the EBML header and the Matroska schema, named as `ebml-stream` names them
 * (`ElementId.Cluster === 0x1f43b675`, `ElementId.Timecode === 0xe7`).
 * @see https://www.rfc-editor.org/rfc/rfc9559 Matroska
 */
export const ElementId = EbmlTagId
export type ElementId = EbmlTagId

/** Human-readable name of an element id, or its hex form when the schema does not know it. */
export function elementName(id: number): string {
  const name = (EbmlTagId as unknown as Record<number, string | undefined>)[id]
  return name ?? `0x${id.toString(16)}`
}
