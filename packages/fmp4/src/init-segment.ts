import { BoxWriter } from './box-writer.ts'
import { writeFtyp, writeMvex, writeMvhd, writeTrak } from './boxes.ts'
import { Fmp4Error } from './errors.ts'
import type { Mp4Track } from './track.ts'

/**
 * The initialization segment of a fragmented MP4 stream: `ftyp` (`iso5`, compatible `iso6`, `mp41`) and
 * `moov` with one `trak` per track (its sample entry: `avc1`/`avcC`, `hvc1`/`hvcC` or `mp4a`/`esds`, empty
 * sample tables) and `mvex`. It depends only on the tracks' CodecPrivate, never on a fragment, as HLS's
 * `EXT-X-MAP` and DASH's initialization URL want.
 * @see ISO/IEC 14496-12 §8.8 (movie fragments); ISO/IEC 14496-15 (avcC, hvcC)
 */
export function writeInitSegment(tracks: readonly Mp4Track[]): Uint8Array {
  if (tracks.length === 0)
    throw new Fmp4Error('ERR_KVS_FMP4_NO_TRACK', 'an init segment needs at least one track')
  const w = new BoxWriter(1024)
  writeFtyp(w, 'iso5', ['iso5', 'iso6', 'mp41'])
  w.start('moov')
  writeMvhd(w, 0, Math.max(...tracks.map((track) => track.id)) + 1)
  for (const track of tracks) writeTrak(w, track, { durationMs: 0, mediaDuration: 0 })
  writeMvex(w, tracks)
  w.end()
  return w.finish()
}
