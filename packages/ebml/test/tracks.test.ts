import { describe, expect, it } from 'vitest'
import {
  EbmlError,
  ElementId,
  newTrackEntry,
  readTrackEntryField,
  TRACK_ENTRY_FIELD_IDS,
} from '../src/index.ts'

const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

describe('readTrackEntryField', () => {
  it('fills every field it knows, from the ids it lists', () => {
    const entry = newTrackEntry()
    const fields: [number, Uint8Array][] = [
      [ElementId.TrackNumber, fromHex('02')],
      [ElementId.TrackType, fromHex('01')],
      [ElementId.CodecID, new TextEncoder().encode('V_MPEG4/ISO/AVC\0\0')],
      [ElementId.CodecPrivate, fromHex('0164001f')],
      [ElementId.PixelWidth, fromHex('0500')],
      [ElementId.PixelHeight, fromHex('02d0')],
      [ElementId.SamplingFrequency, fromHex('47bb8000')],
      [ElementId.Channels, fromHex('02')],
      [ElementId.Name, new TextEncoder().encode('camera')],
      [ElementId.DefaultDuration, fromHex('01fca055')],
    ]
    for (const [id, data] of fields) {
      expect(TRACK_ENTRY_FIELD_IDS.has(id)).toBe(true)
      expect(readTrackEntryField(entry, id, data, 100)).toBe(true)
    }
    expect(TRACK_ENTRY_FIELD_IDS.size).toBe(fields.length)
    expect(entry).toEqual({
      number: 2,
      type: 1,
      codecId: 'V_MPEG4/ISO/AVC',
      codecPrivate: fromHex('0164001f'),
      width: 1280,
      height: 720,
      samplingFrequency: 96000,
      channels: 2,
      name: 'camera',
      defaultDurationNs: 33333333,
    })
  })

  it('ignores other ids, leaving the entry as it was', () => {
    const entry = newTrackEntry()
    expect(readTrackEntryField(entry, ElementId.Void, fromHex('00'), 0)).toBe(false)
    expect(readTrackEntryField(entry, ElementId.FlagLacing, fromHex('01'), 0)).toBe(false)
    expect(entry).toEqual({ number: 0, type: 0, codecId: '' })
  })

  it('copies CodecPrivate into a plain Uint8Array, also from a Node Buffer (whose slice() is a view)', () => {
    const chunk = Buffer.from('ff0164001fff', 'hex')
    const entry = newTrackEntry()
    readTrackEntryField(entry, ElementId.CodecPrivate, chunk.subarray(1, 5), 0)
    chunk.fill(0)
    expect(entry.codecPrivate?.constructor).toBe(Uint8Array)
    expect(entry.codecPrivate).toEqual(fromHex('0164001f'))
  })

  it.each([
    [ElementId.TrackNumber, '010203040506070809', 'unsigned integer of 9 bytes'],
    [ElementId.PixelWidth, '000000000000000000', 'unsigned integer of 9 bytes'],
    [ElementId.SamplingFrequency, '473b80', 'float of 3 bytes'],
  ])('rejects a malformed value of 0x%s with ERR_KVS_EBML_INVALID_DATA at its offset', (id, hex, message) => {
    let error: unknown
    try {
      readTrackEntryField(newTrackEntry(), id, fromHex(hex), 1234)
    } catch (caught) {
      error = caught
    }
    expect(EbmlError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'ERR_KVS_EBML_INVALID_DATA', offset: 1234, elementId: id })
    expect((error as Error).message).toContain(message)
  })
})
