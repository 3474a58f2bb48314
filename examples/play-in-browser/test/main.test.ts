import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '@kvs-streams/test-utils'
import { describe, expect, it, onTestFinished } from 'vitest'
import { playInChromium } from '../src/main.ts'

// clusters.mkv: 8 fragments of 2 s, 59 frames each (29.5 fps).
const FPS = 29.5

describe('hls.js in headless Chromium plays the emulator HLS', () => {
  it('ON_DEMAND: a real KVS capture plays through several fragments with every frame presented and no hls.js error', async () => {
    const report = await playInChromium({ watchSeconds: 7 })
    expect(report.supported).toBe(true)
    expect(report.codecs).toBe('avc1.640028')
    expect(report.errors).toEqual([])
    expect(report.currentTime - report.firstTime).toBeGreaterThanOrEqual(7)
    // Frames presented while 7 s of media played (at least 4 fragments): a decoder that dropped or stalled
    // would present far fewer. requestVideoFrameCallback may skip a frame now and then on a busy machine.
    expect(report.frames).toBeGreaterThanOrEqual(Math.floor(7 * FPS * 0.8))
    expect(report.fragmentsLoaded).toBeGreaterThanOrEqual(4)
  })

  it('LIVE: plays a stream while it is being put, picking up the fragments put after the session began', async () => {
    const report = await playInChromium({ mode: 'LIVE', watchSeconds: 8 })
    expect(report.errors).toEqual([])
    expect(report.currentTime - report.firstTime).toBeGreaterThanOrEqual(8)
    expect(report.frames).toBeGreaterThanOrEqual(Math.floor(8 * FPS * 0.8))
    // The first playlist had 2 fragments; 8 s of playback needs 5, put 2 s apart while it played.
    expect(report.fragmentsLoaded).toBeGreaterThanOrEqual(5)
  })

  it('plays H.264 with AAC audio (the audio rendition of the master playlist)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvs-play-in-browser-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'av.mkv')
    const encoded = await run('ffmpeg', [
      ...['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=8'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8'],
      ...['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'main'],
      ...['-bf', '0', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-threads', '1', file],
    ])
    expect(encoded.code).toBe(0)
    const report = await playInChromium({ file, watchSeconds: 4 })
    expect(report.errors).toEqual([])
    expect(report.codecs).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/)
    expect(report.audioTracks).toBe(1)
    expect(report.frames).toBeGreaterThanOrEqual(Math.floor(4 * 25 * 0.8))
  })
})
