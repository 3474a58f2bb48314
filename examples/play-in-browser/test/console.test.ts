import { once } from 'node:events'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { type ChunkerFragmentEvent, createClusterChunker, type HeaderEvent } from '@kvs-streams/chunker'
import { startEmulator } from '@kvs-streams/emulator'
import { createProducer } from '@kvs-streams/producer'
import { chromium } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { chromiumPath, defaultFile } from '../src/main.ts'

/** Where the screenshot goes (CI may keep it as an artifact). */
const SCREENSHOT = fileURLToPath(new URL('../test-output/console.png', import.meta.url))

interface ConsoleReport {
  mode: string
  firstTime: number
  currentTime: number
  fragmentsLoaded: number
  errors: string[]
}

/** Width and height from a PNG's IHDR chunk, or undefined when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
  if (!signature.every((byte, index) => bytes[index] === byte)) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

describe('the emulator console in headless Chromium', () => {
  it('lists the stream being put, its fragments and acks, plays it live with hls.js and replays a range', async () => {
    const emulator = await startEmulator({ console: true })
    onTestFinished(() => emulator.close())
    const credentials = { ...emulator.credentials[0]! }
    const control = new KinesisVideoClient({ endpoint: emulator.url, region: emulator.region, credentials })
    onTestFinished(() => control.destroy())
    await control.send(new CreateStreamCommand({ StreamName: 'camera', DataRetentionInHours: 24 }))

    // The producer puts a real KVS capture as a camera would: two fragments, then one per fragment duration.
    const chunker = createClusterChunker()
    const events = [...chunker.push(new Uint8Array(await readFile(defaultFile))), ...chunker.end()]
    const header = events.find((event): event is HeaderEvent => event.type === 'header')!
    const fragments = events.filter((event): event is ChunkerFragmentEvent => event.type === 'fragment')
    const producer = createProducer({
      streamName: 'camera',
      endpoint: emulator.url,
      region: emulator.region,
      credentials,
      fragmentTimecodeType: 'RELATIVE',
      producerStartTimestamp: Date.now(),
      acknowledgeOn: 'PERSISTED',
    })
    const write = async (event: HeaderEvent | ChunkerFragmentEvent) => {
      if (!producer.fragments.write(event)) await once(producer.fragments, 'drain')
    }
    await write(header)
    for (const fragment of fragments.slice(0, 2)) await write(fragment)
    let stopFeeding = false
    const feeding = (async () => {
      for (const fragment of fragments.slice(2)) {
        await new Promise((resolve) => setTimeout(resolve, fragment.durationMs))
        if (stopFeeding) break
        await write(fragment)
      }
    })()
    onTestFinished(async () => {
      stopFeeding = true
      await feeding
      await producer.close().catch(() => {})
    })
    while (emulator.storage.listFragments('camera').length < 1) await new Promise((r) => setTimeout(r, 20))

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--no-first-run'],
    })
    onTestFinished(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } })
    const pageErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        pageErrors.push(`console.${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => pageErrors.push(`uncaught: ${error.message}`))
    page.on('requestfailed', (request) => pageErrors.push(`request failed: ${request.url()}`))

    await page.goto(emulator.consoleUrl!)
    // The stream is listed and selected; its timeline fills in as fragments are stored.
    await page.locator('#streams tbody tr', { hasText: 'camera' }).waitFor()
    await page.waitForFunction(() => document.querySelectorAll('#timeline tbody tr').length >= 1)
    await page.click('#live')
    await page.waitForFunction(
      () => {
        const report = (window as unknown as { kvsConsole: ConsoleReport }).kvsConsole
        return (
          report.errors.some((error) => error.endsWith('(fatal)')) ||
          (report.firstTime >= 0 && report.currentTime - report.firstTime >= 3)
        )
      },
      undefined,
      { timeout: 60_000, polling: 100 },
    )
    const report = await page.evaluate(() => (window as unknown as { kvsConsole: ConsoleReport }).kvsConsole)
    expect(report.errors).toEqual([])
    expect(report.mode).toBe('LIVE')
    // Past a fragment (2 s each): hls.js loaded more than the first one.
    expect(report.currentTime - report.firstTime).toBeGreaterThanOrEqual(3)
    expect(report.fragmentsLoaded).toBeGreaterThanOrEqual(2)
    expect(await page.textContent('#player-status')).toMatch(/^LIVE: playing at \d+\.\d s$/)

    // The video shows a picture, not a black or blank frame: luma varies across it.
    const spread = await page.evaluate(() => {
      const video = document.querySelector('video')!
      const canvas = document.createElement('canvas')
      canvas.width = 160
      canvas.height = 90
      const context = canvas.getContext('2d')!
      context.drawImage(video, 0, 0, canvas.width, canvas.height)
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height)
      let min = 255
      let max = 0
      for (let index = 0; index < data.length; index += 4) {
        const luma = 0.299 * data[index]! + 0.587 * data[index + 1]! + 0.114 * data[index + 2]!
        min = Math.min(min, luma)
        max = Math.max(max, luma)
      }
      return max - min
    })
    expect(spread).toBeGreaterThan(40)

    // The timeline lists every fragment stored (it polls every 2 s: wait for it to catch up).
    const stored = emulator.storage.listFragments('camera').map((fragment) => fragment.fragmentNumber)
    await page.waitForFunction(
      (count) => document.querySelectorAll('#timeline tbody tr').length >= count,
      stored.length,
      { timeout: 10_000 },
    )
    const timeline = await page.textContent('#timeline tbody')
    for (const fragmentNumber of stored) expect(timeline).toContain(fragmentNumber)
    expect(await page.textContent('#timeline-count')).toMatch(/^\(\d+ fragments\)$/)
    // The acks of the stream's PutMedia, PERSISTED among them.
    expect(await page.textContent('#acks tbody')).toContain('PERSISTED')
    expect(await page.textContent('#streams tbody')).toContain('putting')

    // Replay a chosen range: from the first fragment's server time to now, ON_DEMAND.
    await page.fill(
      '#from',
      new Date(emulator.storage.listFragments('camera')[0]!.serverTimestampMs).toISOString(),
    )
    await page.fill('#to', new Date().toISOString())
    await page.click('#replay')
    await page.waitForFunction(
      () => {
        const report = (window as unknown as { kvsConsole: ConsoleReport }).kvsConsole
        return (
          report.errors.some((error) => error.endsWith('(fatal)')) ||
          (report.mode === 'ON_DEMAND' && report.firstTime >= 0 && report.currentTime - report.firstTime >= 3)
        )
      },
      undefined,
      { timeout: 60_000, polling: 100 },
    )
    const replay = await page.evaluate(() => (window as unknown as { kvsConsole: ConsoleReport }).kvsConsole)
    expect(replay.errors).toEqual([])
    expect(replay.mode).toBe('ON_DEMAND')
    expect(await page.textContent('#player-status')).toMatch(/^ON_DEMAND: playing at \d+\.\d s$/)

    await mkdir(fileURLToPath(new URL('../test-output/', import.meta.url)), { recursive: true })
    const screenshot = await page.screenshot({ fullPage: true })
    await writeFile(SCREENSHOT, screenshot)
    const size = pngSize(screenshot)
    expect(size?.width).toBe(1100)
    expect(size?.height).toBeGreaterThanOrEqual(1000)
    expect(pageErrors).toEqual([])
  })
})
