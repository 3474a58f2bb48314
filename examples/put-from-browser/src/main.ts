// Puts video from a browser page into a local Kinesis Video Streams emulator, the way a web page or a
// WHATWG runtime without full-duplex HTTP/1.1 uploads can: one fetch PutMedia request per fragment.
//   page (page.ts): canvas or camera → MediaRecorder (video/x-matroska;codecs=avc1) → ClusterChunkerStream
//     → PutFragmentStream (@kvs-streams/transport/web) → fetch → the emulator (CORS on), acks per response
//   worker (worker.ts): the same packages in a Web Worker, putting clusters.mkv
// This file bundles both with esbuild for the browser platform (from the packages' sources: a Node import
// would fail the bundle), serves them on an origin of their own with a stand-in credentials endpoint, starts
// the emulator and drives Debian's Chromium headless with playwright-core.
// Run: pnpm --filter @kvs-streams/example-put-from-browser... build && \
//   pnpm --filter @kvs-streams/example-put-from-browser start [--fragments 4] [--camera] [--serve]
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video'
import { DEFAULT_CREDENTIALS, type Emulator, type FaultsOption, startEmulator } from '@kvs-streams/emulator'
import { build, type Plugin } from 'esbuild'
import { chromium } from 'playwright-core'
import type { PageConfig, PageResult } from './protocol.ts'

export type { PageConfig, PageResult } from './protocol.ts'

/** The workspace's packages and this example's sources, found from this file's folder (src/ or dist/). */
const packagesDirectory = fileURLToPath(new URL('../../../packages/', import.meta.url))
const sourceDirectory = fileURLToPath(new URL('../src/', import.meta.url))

/** The MKV file the worker puts. */
export const fixtureFile = fileURLToPath(
  new URL('../../../fixtures/kvs-getmedia/clusters.mkv', import.meta.url),
)

/** Debian's Chromium (`apt-get install chromium`); `CHROMIUM_PATH` overrides it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Bundles the browser code from the packages' sources: `@kvs-streams/x` → `packages/x/src/index.ts`, `/web` → `web.ts`. */
const workspaceSources: Plugin = {
  name: 'kvs-streams-sources',
  setup(context) {
    context.onResolve({ filter: /^@kvs-streams\/[a-z-]+(\/web)?$/ }, (args) => {
      const [, name, entry] = /^@kvs-streams\/([a-z-]+)(?:\/(web))?$/.exec(args.path)!
      return { path: join(packagesDirectory, name!, 'src', `${entry ?? 'index'}.ts`) }
    })
  },
}

/** The page and worker scripts, and every file that went into them. */
export interface Bundles {
  page: string
  worker: string
  /** Inputs of the bundles, paths relative to the working directory as esbuild reports them. */
  inputs: string[]
}

/**
 * Bundles `page.ts` and `worker.ts` for the browser platform. Any Node built-in import (`node:stream`,
 * undici's) fails the build: esbuild does not resolve them for the browser.
 */
export async function bundle(): Promise<Bundles> {
  const result = await build({
    entryPoints: { page: join(sourceDirectory, 'page.ts'), worker: join(sourceDirectory, 'worker.ts') },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    write: false,
    metafile: true,
    outdir: '/bundle',
    plugins: [workspaceSources],
    logLevel: 'silent',
  })
  const text = (name: string): string => {
    const file = result.outputFiles.find((output) => output.path === `/bundle/${name}`)
    if (file === undefined) throw new Error(`esbuild wrote no ${name}`)
    return file.text
  }
  return { page: text('page.js'), worker: text('worker.js'), inputs: Object.keys(result.metafile.inputs) }
}

const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>kvs-streams: put from a browser</title>
<h1>PutMedia from a browser, one request per fragment</h1>
<pre id="log"></pre>
<script type="module" src="/page.js"></script>
`

export interface SiteOptions {
  /** Fragments to wait for before the page stops recording. Default 4. */
  fragments?: number
  /** Video source of the page. Default `canvas`. */
  source?: 'canvas' | 'camera'
  /** `videoKeyFrameIntervalDuration` for MediaRecorder, ms. Default 1,000. */
  keyFrameIntervalMs?: number
  /** Port of the page's server. Default 0 (any free one). */
  port?: number
  /** Faults the emulator injects (to see the page resend). */
  faults?: FaultsOption
}

/** The emulator and the page's server (another origin, so every call to the emulator is cross-origin). */
export interface Site {
  /** The page, e.g. `http://127.0.0.1:41234/`. */
  url: string
  emulator: Emulator
  config: PageConfig
  /** Creates a stream that keeps data for 24 hours (so fragments are PERSISTED). */
  createStream(name: string): Promise<void>
  close(): Promise<void>
}

/** Starts the emulator with CORS on, creates the default stream, bundles and serves the page. */
export async function startSite(options: SiteOptions = {}): Promise<Site> {
  const bundles = await bundle()
  const fixture = await readFile(fixtureFile)
  const emulator = await startEmulator({
    port: 0,
    cors: true,
    ...(options.faults === undefined ? {} : { faults: options.faults }),
  })
  const credentials = { ...DEFAULT_CREDENTIALS }
  const client = new KinesisVideoClient({ region: emulator.region, credentials, endpoint: emulator.url })
  const config: PageConfig = {
    controlEndpoint: emulator.url,
    region: emulator.region,
    streamName: 'browser-camera',
    fragments: options.fragments ?? 4,
    source: options.source ?? 'canvas',
    keyFrameIntervalMs: options.keyFrameIntervalMs ?? 1000,
  }
  const createStream = async (name: string): Promise<void> => {
    await client.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }))
  }
  let server: Server | undefined
  try {
    await createStream(config.streamName)
    server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0]
      const send = (type: string, body: string | Uint8Array): void => {
        response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
        response.end(body)
      }
      if (path === '/') send('text/html; charset=utf-8', PAGE_HTML)
      else if (path === '/page.js') send('text/javascript', bundles.page)
      else if (path === '/worker.js') send('text/javascript', bundles.worker)
      else if (path === '/config.json') send('application/json', JSON.stringify(config))
      else if (path === '/clusters.mkv') send('video/x-matroska', fixture)
      else if (path === '/credentials') {
        // Stands in for Cognito or an STS token endpoint: short-lived credentials for this page. (The emulator
        // accepts its own key pair; a real endpoint hands out session credentials scoped to one stream.)
        send(
          'application/json',
          JSON.stringify({ ...credentials, expiration: new Date(Date.now() + 15 * 60_000).toISOString() }),
        )
      } else if (path === '/favicon.ico') {
        response.writeHead(204).end()
      } else {
        response.writeHead(404).end()
      }
    })
    server.listen(options.port ?? 0, '127.0.0.1')
    await once(server, 'listening')
  } catch (error) {
    client.destroy()
    server?.close()
    await emulator.close()
    throw error
  }
  const { port } = server.address() as AddressInfo
  const listening = server
  return {
    url: `http://127.0.0.1:${port}/`,
    emulator,
    config,
    createStream,
    async close() {
      client.destroy()
      listening.closeAllConnections()
      listening.close()
      await emulator.close()
    },
  }
}

/** Chromium's flags here: headless in a container, no network of its own, a fake camera that needs no prompt. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
]

/**
 * Opens `url` in headless Chromium and resolves with the page's `window.kvsResult` once it is set; rejects
 * with the page's error, or after `timeoutMs`. The page's log lines go to `print`.
 */
export async function runInChromium(
  url: string,
  options: { timeoutMs?: number; print?: (line: string) => void } = {},
): Promise<PageResult> {
  const print = options.print ?? (() => {})
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS })
  try {
    const page = await browser.newPage()
    page.on('console', (message) => print(`[page ${message.type()}] ${message.text()}`))
    page.on('pageerror', (error) => print(`[page error] ${error.message}`))
    await page.goto(url)
    await page.waitForFunction(() => window.kvsResult !== undefined, undefined, {
      timeout: options.timeoutMs ?? 60_000,
    })
    const result = await page.evaluate(() => window.kvsResult!)
    const log = await page.evaluate(() => document.getElementById('log')?.textContent ?? '')
    for (const line of log.trimEnd().split('\n')) print(line)
    if ('error' in result) throw new Error(`the page failed: ${result.error}`)
    return result
  } finally {
    await browser.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      fragments: { type: 'string', default: '4' },
      camera: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
    },
  })
  const site = await startSite({
    fragments: Number(values.fragments),
    source: values.camera ? 'camera' : 'canvas',
    port: values.serve ? 8080 : 0,
  })
  if (values.serve) {
    console.log(`open ${site.url} in a browser (emulator ${site.emulator.url}); Ctrl-C stops`)
    await once(process, 'SIGINT')
    await site.close()
  } else {
    try {
      const result = await runInChromium(site.url, { print: (line) => console.log(line) })
      console.log(
        `${result.acknowledged.length} fragments PERSISTED (${result.mimeType}), ${result.violations.length} violations, ${result.retries} resends`,
      )
    } finally {
      await site.close()
    }
  }
}
