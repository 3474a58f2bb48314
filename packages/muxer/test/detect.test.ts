import { readFixture } from '@kvs-streams/test-utils'
import { describe, expect, it } from 'vitest'
import { detectFormat } from '../src/index.ts'
import { AUDIO_FIXTURES, annexbFixture, VIDEO_FIXTURES } from './helpers.ts'

describe('detectFormat', () => {
  it('recognises every fixture from its first 64 bytes', () => {
    for (const fixture of VIDEO_FIXTURES) {
      expect(detectFormat(annexbFixture(fixture.file).subarray(0, 64)), fixture.file).toBe(fixture.codec)
    }
    for (const fixture of AUDIO_FIXTURES)
      expect(detectFormat(annexbFixture(fixture.file).subarray(0, 64))).toBe('aac')
    expect(detectFormat(readFixture('generated', 'ffmpeg-h264-aac.mkv').subarray(0, 64))).toBe('mkv')
    expect(detectFormat(readFixture('webm', '5s.webm').subarray(0, 64))).toBe('mkv')
  })

  it('recognises streams that start with an access unit delimiter or after leading zeros', () => {
    expect(detectFormat(Uint8Array.of(0, 0, 0, 0, 0, 1, 0x09, 0xf0))).toBe('h264')
    expect(detectFormat(Uint8Array.of(0, 0, 1, 0x46, 0x01, 0x50))).toBe('h265')
  })

  it('gives undefined for anything else, or too few bytes', () => {
    expect(detectFormat(new TextEncoder().encode('RIFF....WAVEfmt '))).toBeUndefined()
    expect(detectFormat(Uint8Array.of(0, 0, 1))).toBeUndefined()
    expect(detectFormat(Uint8Array.of(0, 0, 1, 0xe7, 0x01))).toBeUndefined()
    expect(detectFormat(new Uint8Array(0))).toBeUndefined()
  })
})
